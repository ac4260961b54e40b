"""Messages/s through the real gateway: single POST /messages against POST /v1/projects/{id}/messages in batches.

A benchmark that prints figures, not a test. The gateway runs in a process of its own (uvicorn on a free port, the
app the node serves, a SQLite store, the node's clock window, no chain), so its CPU is its own; this process
pre-signs every message, then sends them with httpx from client threads, alternating single and batch phases in
the same run so both meet the same machine state. Every message is new and is accepted (checked).

    .venv/bin/python bench/ingest_batch.py [--devices 1000] [--rounds 3] [--single 600] [--batched 3000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import Field, Schema
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig
from proofstream.store.sqlite import SqliteStore

DOMAIN = Domain(chain_id=31337, verifying_contract=Address("0x5FbDB2315678afecb367f032d93F642f64180aa3"))
SCHEMA = Schema(payload=(Field("lat", "uint32"), Field("lon", "uint32")))
PROJECT = ProjectId(1)
OWNER = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")


def serve(path: str, port: int) -> None:
    """The gateway process: the node's app over its own store object on ``path``."""
    import uvicorn

    from proofstream.ingest.http import create_app
    from proofstream.ingest.validation import ClockWindow

    store = SqliteStore(path)
    app = create_app(store, clock_window=ClockWindow(max_future_seconds=60, max_past_seconds=86_400))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed(path: Path, keys: Sequence[DeviceKey]) -> None:
    with SqliteStore(path) as store:
        store.upsert_project(ProjectConfig(PROJECT, ConfigVersion(1), SCHEMA, DOMAIN))
        with ThreadPoolExecutor(32) as pool:  # concurrent writes share group commits
            list(pool.map(lambda key: store.upsert_device(PROJECT, key.address, OWNER), keys))


class Signer:
    """Fresh signed messages, round-robin over the devices; each device's nonce and timestamp increase together,
    so they are accepted in any arrival order."""

    def __init__(self, keys: Sequence[DeviceKey]) -> None:
        self._keys = keys
        self._next = [0] * len(keys)
        self._turn = 0
        self._base = int(time.time()) - 40_000

    def take(self, count: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(count):
            index = self._turn % len(self._keys)
            self._turn += 1
            nonce = self._next[index]
            self._next[index] += 1
            payload = {"lat": 90_000_000 + nonce, "lon": 180_000_000 + index}
            out.append(self._keys[index].sign_message(SCHEMA, DOMAIN, PROJECT, 1, nonce, self._base + nonce, payload))
        return out


@dataclass
class Tally:
    messages: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    requests: int = 0

    def line(self, name: str) -> str:
        rate = self.messages / self.seconds
        cpu_us = 1e6 * self.server_cpu / self.messages
        return (
            f"{name:<12} {self.messages:>7} messages in {self.requests:>6} requests, {self.seconds:7.2f} s: "
            f"{rate:8.0f} messages/s, gateway CPU {cpu_us:6.0f} us/message"
        )


def run_phase(
    tally: Tally, pid: int, work: Sequence[Any], send: Callable[[httpx.Client, Any], int], clients: int, url: str
) -> None:
    """Send ``work`` (one item per request) from ``clients`` threads, each with its own keep-alive connection."""
    chunks = [work[i::clients] for i in range(clients)]

    def client_loop(chunk: Sequence[Any]) -> int:
        with httpx.Client(base_url=url, timeout=60) as client:
            return sum(send(client, item) for item in chunk)

    cpu, start = cpu_seconds(pid), time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        accepted = sum(pool.map(client_loop, chunks))
    tally.seconds += time.perf_counter() - start
    tally.server_cpu += cpu_seconds(pid) - cpu
    tally.requests += len(work)
    tally.messages += accepted


def send_single(client: httpx.Client, body: dict[str, Any]) -> int:
    response = client.post("/messages", json=body)
    if response.status_code != 202:
        raise SystemExit(f"single POST refused: {response.status_code} {response.text}")
    return 1


def send_batch(client: httpx.Client, bodies: list[dict[str, Any]]) -> int:
    response = client.post(f"/v1/projects/{PROJECT}/messages", json={"messages": bodies})
    results = response.json().get("results") if response.status_code == 200 else None
    if results is None or any(r["outcome"] != "accepted" for r in results):
        raise SystemExit(f"batch refused: {response.status_code} {response.text[:500]}")
    return len(results)


@contextmanager
def gateway(path: Path) -> Iterator[tuple[str, int]]:
    """The gateway process on a free port, once it answers: its URL and pid."""
    port = free_port()
    with spawn_gateway(serve, (str(path), port), port) as pid:
        yield f"http://127.0.0.1:{port}", pid


@contextmanager
def spawn_gateway(
    target: Callable[..., None], args: tuple[Any, ...], port: int, name: str = "proofstream"
) -> Iterator[int]:
    """``target(*args)`` in a process of its own, once it answers /healthz on ``port``: its pid."""
    server = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    server.start()
    assert server.pid is not None
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or not server.is_alive():
                raise SystemExit(f"the {name} gateway did not start")
            time.sleep(0.2)
        yield server.pid
    finally:
        server.terminate()
        server.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="single and batch phases, alternating")
    parser.add_argument("--single", type=int, default=600, help="messages per single phase")
    parser.add_argument("--batched", type=int, default=3000, help="messages per batch phase")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--single-clients", type=int, default=16)
    parser.add_argument("--batch-clients", type=int, default=4)
    args = parser.parse_args()

    keys = [DeviceKey.from_hex("0x" + (i + 1).to_bytes(32, "big").hex()) for i in range(args.devices)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        seed(path, keys)
        signer = Signer(keys)
        started = time.perf_counter()
        phases = []
        for _ in range(args.rounds):
            single = signer.take(args.single)
            batched = signer.take(args.batched)
            batches = [batched[i : i + args.batch_size] for i in range(0, len(batched), args.batch_size)]
            phases.append((single, batches))
        print(f"signed {args.rounds * (args.single + args.batched)} messages in {time.perf_counter() - started:.1f} s")

        with gateway(path) as (url, pid):
            single_tally, batch_tally = Tally(), Tally()
            for single, batches in phases:
                run_phase(single_tally, pid, single, send_single, args.single_clients, url)
                run_phase(batch_tally, pid, batches, send_batch, args.batch_clients, url)
        cpus = os.cpu_count()
        print(f"gateway: uvicorn + FastAPI, SQLite (WAL, synchronous=FULL), {cpus} CPUs, {args.devices} devices")
        print(single_tally.line("single") + f" ({args.single_clients} clients)")
        print(batch_tally.line(f"batch of {args.batch_size}") + f" ({args.batch_clients} clients)")
        ratio = (batch_tally.messages / batch_tally.seconds) / (single_tally.messages / single_tally.seconds)
        print(f"batch / single: {ratio:.1f}x messages/s")


if __name__ == "__main__":
    main()
