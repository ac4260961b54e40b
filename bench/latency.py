"""Device message to reward on chain, p50 and p99, at a fixed offered load, on a real node in the latency mode.

A benchmark that prints figures, not a test. It starts a node (``batching.mode = "latency"``: a 1 s window
unless ``--window`` says otherwise) for the tracker-distance template on its own anvil, registers ``--devices``
secp256k1 trackers, and has each send one EIP-712 signed fix per second over HTTP for ``--seconds`` seconds,
the devices spread evenly over each second. A watcher reads the TaskSettled events from the chain every 50 ms
and notes when each task's settlement was first seen; a message's latency runs from just before its POST to
that moment for the task that holds it (the route transaction that emits the event also pays the device's
owner). Before the clock starts, each device sends one fix and the bench waits for it to settle: the prover
processes are warm and every device has its anchor on chain, as on a node that has been running. At the end it
checks that every message was settled and that every owner's token balance rose, and splits each task's time
into waiting to be cut (from its first message's send), proving, and the rest (assignment, hand-overs, route).

    .venv/bin/python bench/latency.py [--devices 2] [--seconds 60] [--workers 2] [--window 1] [--no-warm-up] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_account import Account

from proofstream.chain.book import ChainBook
from proofstream.domain.eip712 import Domain
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import TaskId
from proofstream.node import Node
from proofstream.projects.scaffold import template_dir
from proofstream.projects.spec import load_project
from proofstream.sdk.device import DeviceKey, GatewayClient
from proofstream.settings import BatchingSettings, GatewaySettings, ProverSettings, Settings
from proofstream.simulation import register_device

TEMPLATE = "tracker-distance"
WATCH_S = 0.05
"""How often the watcher asks the chain for new TaskSettled events."""
SETTLE_TIMEOUT_S = 120.0
"""How long after the last message is sent every message must be settled."""


@dataclass
class Figures:
    devices: int
    seconds: int
    window_s: int
    workers: int
    messages: int
    settled: int
    tasks: int
    messages_per_task: float
    p50_s: float
    p90_s: float
    p99_s: float
    max_s: float
    mean_s: float
    cut_median_s: float
    """From a task's first message's send to the task being cut."""
    prove_median_s: float
    rest_median_s: float
    """From the cut to the settled event, less the proving: assignment, hand-overs between loops, route."""
    gas_per_message: int
    owners_paid: int
    load_average: float


class SettlementWatcher:
    """Notes the wall-clock time at which each task's TaskSettled event was first seen on chain."""

    def __init__(self, book: ChainBook) -> None:
        self._book = book
        self._next = book.latest_block() + 1
        self.seen: dict[TaskId, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="settlement-watcher", daemon=True)

    def __enter__(self) -> SettlementWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(WATCH_S):
            latest = self._book.latest_block()
            if latest < self._next:
                continue
            now = time.time()
            for outcome in self._book.task_outcomes(self._next, latest):
                if outcome.settled:
                    self.seen.setdefault(outcome.task_id, now)
            self._next = latest + 1


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile ``q`` (0..100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def run(devices: int, seconds: int, workers: int, window: int, *, warm_up: bool = True) -> Figures:
    spec = load_project(template_dir(TEMPLATE))
    with tempfile.TemporaryDirectory(prefix="proofstream-latency-") as tmp:
        settings = Settings(
            data_dir=str(Path(tmp) / "node"),
            gateway=GatewaySettings(port=0),
            batching=BatchingSettings(mode="latency", window_seconds=window),
            prover=ProverSettings(workers=workers),
        )
        with Node(settings, project=spec, env={}) as node:
            return _drive(node, devices, seconds, workers, window, warm_up)


def _drive(node: Node, n_devices: int, seconds: int, workers: int, window: int, warm_up: bool) -> Figures:
    project = node.deployment.project
    config = node.core.projects.current_version(project)
    domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
    keys = [DeviceKey.generate() for _ in range(n_devices)]
    owners = [Account.create().address for _ in keys]
    for key, owner in zip(keys, owners, strict=True):
        register_device(node, project, domain, key, owner)
    deadline = time.monotonic() + 60
    while not all(node.store.device_projects(k.address) for k in keys):
        if time.monotonic() > deadline:
            raise TimeoutError("the indexer did not see the devices within 60 s")
        time.sleep(0.1)
    generator = node.project.generator()
    fixes = [generator.readings(random.Random(i), i, seconds + 1, 0) for i in range(n_devices)]
    book = ChainBook(node.client, node.core, sequencer=node.roles.sequencer, prover=node.roles.prover)
    warmed: dict[str, float] = {}
    sent: dict[str, float] = {}
    first_nonce = int(warm_up)

    def send(index: int, nonce: int, timestamp: int, into: dict[str, float]) -> None:
        with GatewayClient(node.gateway_url) as client:
            payload = fixes[index][nonce][1]
            body = keys[index].sign_message(node.schema, domain, project, config, nonce, timestamp, payload)
            before = time.time()
            into[client.send(body).id] = before

    def device(index: int) -> None:
        for k in range(first_nonce, first_nonce + seconds):
            timestamp = first_second + k
            # Device i sends in the (i / n)-th part of each second, stamping the second it is in.
            time.sleep(max(0.0, timestamp + index / n_devices - time.time()))
            send(index, k, timestamp, sent)

    with SettlementWatcher(book) as watcher, ThreadPoolExecutor(n_devices) as pool:
        if warm_up:
            first_second = int(time.time()) - 1
            list(pool.map(lambda i: send(i, 0, first_second, warmed), range(n_devices)))
            _wait_settled(node, watcher, len(warmed))
        first_second = int(time.time())
        list(pool.map(device, range(n_devices)))
        _wait_settled(node, watcher, len(warmed) + len(sent))
    node.dapp.claim([k.address for k in keys], sender=node.roles.owner)  # rewards accrue per device until claimed
    return _figures(node, watcher, sent, owners, seconds, workers, window)


def _wait_settled(node: Node, watcher: SettlementWatcher, expected: int) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        settled = [t for t in node.store.tasks_with_status(TaskStatus.SETTLED) if t.id in watcher.seen]
        if sum(t.last_nonce - t.first_nonce + 1 for t in settled) >= expected:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"not every message settled within {SETTLE_TIMEOUT_S:.0f} s of the last send")
        time.sleep(0.2)


def _figures(
    node: Node,
    watcher: SettlementWatcher,
    sent: dict[str, float],
    owners: Sequence[str],
    seconds: int,
    workers: int,
    window: int,
) -> Figures:
    every = node.store.tasks_with_status(*TaskStatus)
    tasks = [t for t in every if node.store.task_messages(t.id)[0].id in sent]  # not the warm-up's
    latencies, cut, proving, rest = [], [], [], []
    for task in tasks:
        sends = [sent[message.id] for message in node.store.task_messages(task.id)]
        latencies.extend(watcher.seen[task.id] - at for at in sends)
        prove_s = task.prove_seconds or 0.0
        cut.append(task.created_at - min(sends))
        proving.append(prove_s)
        rest.append(watcher.seen[task.id] - task.created_at - prove_s)
    gas = sum((t.gas_assign or 0) + (t.gas_route or 0) for t in tasks)
    return Figures(
        devices=len(owners),
        seconds=seconds,
        window_s=window,
        workers=workers,
        messages=len(sent),
        settled=len(latencies),
        tasks=len(tasks),
        messages_per_task=round(len(latencies) / len(tasks), 2),
        p50_s=round(percentile(latencies, 50), 2),
        p90_s=round(percentile(latencies, 90), 2),
        p99_s=round(percentile(latencies, 99), 2),
        max_s=round(max(latencies), 2),
        mean_s=round(statistics.fmean(latencies), 2),
        cut_median_s=round(statistics.median(cut), 2),
        prove_median_s=round(statistics.median(proving), 2),
        rest_median_s=round(statistics.median(rest), 2),
        gas_per_message=gas // len(latencies),
        owners_paid=sum(1 for owner in owners if node.token.balance_of(owner) > 0),
        load_average=round(os.getloadavg()[0], 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2, help="trackers, each sending one fix per second")
    parser.add_argument("--seconds", type=int, default=60, help="how long each device sends")
    parser.add_argument("--workers", type=int, default=2, help="prover.workers")
    parser.add_argument("--window", type=int, default=1, help="batching.window_seconds (latency mode)")
    parser.add_argument("--no-warm-up", action="store_true", help="start the clock on a cold node (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    figures = run(args.devices, args.seconds, args.workers, args.window, warm_up=not args.no_warm_up)
    if args.json:
        print(json.dumps(asdict(figures)))
        return
    f = figures
    print(
        f"{f.devices} devices x 1 msg/s for {f.seconds} s ({f.messages} messages), window {f.window_s} s, "
        f"{f.workers} prover workers, {os.cpu_count()} CPUs, load average {f.load_average}"
    )
    print(f"settled {f.settled}/{f.messages} messages in {f.tasks} tasks ({f.messages_per_task} per task)")
    print(
        f"message to reward on chain: p50 {f.p50_s:.2f} s, p90 {f.p90_s:.2f} s, p99 {f.p99_s:.2f} s, "
        f"max {f.max_s:.2f} s, mean {f.mean_s:.2f} s"
    )
    print(
        f"per task, median: {f.cut_median_s:.2f} s to be cut, {f.prove_median_s:.2f} s proving, "
        f"{f.rest_median_s:.2f} s assignment + hand-overs + route; {f.gas_per_message} gas per message"
    )
    print(f"owners paid: {f.owners_paid}/{f.devices}")


if __name__ == "__main__":
    main()
