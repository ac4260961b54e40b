"""Signed messages verified and durably stored per second, through the real gateway, beside a baseline.

A benchmark that prints figures, not a test. Every figure comes from messages the gateway accepted (checked).

- The gateway runs in a process of its own (uvicorn on a free port, the app the node serves, the node's clock
  window, no chain; bench/ingest_servers.py), over each store of ``--stores``: SQLite (WAL, synchronous=FULL) and
  PostgreSQL (postgresql://127.0.0.1:5432/test, in schemas of this run's own, dropped at its end; skipped when
  the server does not answer). It subscribes to the MQTT broker at ``--broker`` (Mosquitto on 127.0.0.1:1883)
  when one answers. Its CPU is read from /proc.
- The load runs in another process (its CPU is counted too): messages from ``--devices`` devices, all seeded
  straight into the store and pre-signed before any phase starts.
- Transports: HTTP single (``POST /messages``, closed loop), HTTP batch (``POST /v1/projects/{id}/messages``),
  the W3bStream endpoint (``POST /v1/task``, closed loop), and MQTT (publish QoS 1, the result on the reply topic
  is the acknowledgement). Then p50/p99 acknowledgement latency of single messages sent at a fixed offered rate
  (``--rate``, open loop).
- Baseline, measured in the same run and interleaved with it round by round: a straightforward gateway
  (FastAPI, stdlib json, eth-account's EIP-712 hashing and recovery, eth-keys for W3bStream's, one commit per
  message) on the same machine, store and messages. It has no MQTT.

    .venv/bin/python bench/ingest.py [--devices 1000] [--rounds 2] [--single 2000] [--batched 10000] [--mqtt 5000]
        [--w3bstream 2000] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_servers import (
    DOMAIN,
    PROJECT,
    SCHEMA,
    STORES,
    cpu_seconds,
    drop,
    gateway,
    postgres_answers,
    seed,
    topic_prefix,
)

from proofstream.sdk.device import DeviceKey

# --- signing --------------------------------------------------------------------------------------------------


def device_key(index: int) -> DeviceKey:
    return DeviceKey.from_hex("0x" + (index + 1).to_bytes(32, "big").hex())


def w3b_body(key: DeviceKey, nonce: int, payload: dict[str, int]) -> bytes:
    """A W3bStream v0.25 task as its firmware signs it: 64-byte r || s over sha256 of the body without signature
    (no projectVersion: the newest version), the timestamp in the payload."""
    import coincurve

    signed = f'{{"nonce":{nonce},"projectID":"{PROJECT}","payload":{json.dumps(payload, separators=(",", ":"))}}}'
    secret = bytes.fromhex(key.to_hex()[2:])
    rs = coincurve.PrivateKey(secret).sign_recoverable(hashlib.sha256(signed.encode()).digest(), hasher=None)[:64]
    return (signed[:-1] + f',"signature":"0x{rs.hex()}"}}').encode()


def sign_range(devices: int, first: int, count: int, base: int, w3b: bool) -> list[bytes]:
    """Message ``first`` .. ``first + count`` of the run, round-robin over the devices: message i is device
    i % devices's nonce i // devices, its timestamp rising with the nonce (so any arrival order is accepted);
    ``w3b``: as W3bStream tasks."""
    keys: dict[int, DeviceKey] = {}
    out = []
    for i in range(first, first + count):
        index, nonce = i % devices, i // devices
        key = keys.setdefault(index, device_key(index))
        payload = {"lat": 90_000_000 + nonce, "lon": 180_000_000 + index}
        if w3b:
            out.append(w3b_body(key, nonce, {**payload, "timestamp": base + nonce}))
            continue
        body = key.sign_message(SCHEMA, DOMAIN, PROJECT, 1, nonce, base + nonce, payload)
        out.append(json.dumps(body, separators=(",", ":")).encode())
    return out


@dataclass(frozen=True)
class Phase:
    gateway: str
    name: str
    """single, batch, w3bstream, mqtt or latency."""
    count: int
    first: int
    """Its first message's place in the run (what fixes each message's device and nonce)."""


def sign_all(devices: int, phases: list[Phase]) -> dict[Phase, list[bytes]]:
    """Every phase's messages, signed in a process pool before any phase starts."""
    base = int(time.time()) - 40_000
    chunks = []
    for phase in phases:
        step = max(1, min(2_000, phase.count))
        chunks += [
            (phase, start, min(step, phase.first + phase.count - start))
            for start in range(phase.first, phase.first + phase.count, step)
        ]
    with ProcessPoolExecutor() as pool:
        parts = pool.map(
            sign_range,
            [devices] * len(chunks),
            [c[1] for c in chunks],
            [c[2] for c in chunks],
            [base] * len(chunks),
            [c[0].name == "w3bstream" for c in chunks],
        )
        signed: dict[Phase, list[bytes]] = {phase: [] for phase in phases}
        for (phase, _, _), part in zip(chunks, parts, strict=True):
            signed[phase] += part
    return signed


# --- the load process -----------------------------------------------------------------------------------------


def load(kind: str, url: str, work: list[Any], options: dict[str, Any]) -> dict[str, Any]:
    """Run one phase in this (separate) process; return what it measured, with its own CPU."""
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    latencies: list[float] = []
    if kind == "mqtt":
        accepted = mqtt_load(options["broker"], topic_prefix(options["run"]), work)
    else:
        accepted = asyncio.run(http_load(kind, url, work, options, latencies))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "accepted": accepted,
        "seconds": seconds,
        "cpu": after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime,
        "latencies": latencies,
    }


class Connection:
    """One keep-alive HTTP/1.1 connection, requests written and answers read by hand: a load client of about
    30 us a request, where httpx's AsyncClient spent milliseconds of the load process's CPU per request with
    hundreds of connections open, and so measured itself as much as the gateway."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader, self._writer, self._host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {self._host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        )
        self._writer.write(head.encode() + body)
        header = await self._reader.readuntil(b"\r\n\r\n")
        lines = header.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = next(int(line.split(b":", 1)[1]) for line in lines[1:] if line.lower().startswith(b"content-length:"))
        return status, await self._reader.readexactly(length)

    def close(self) -> None:
        self._writer.close()


async def http_load(kind: str, url: str, work: list[Any], options: dict[str, Any], latencies: list[float]) -> int:
    idle: list[Connection] = []

    async def send(item: Any) -> int:
        began = time.perf_counter()  # a new connection's set-up counts in the latency too
        connection = idle.pop() if idle else await Connection.open(url)
        if kind == "batch":
            status, answer = await connection.post(f"/v1/projects/{PROJECT}/messages", item)
            results = json.loads(answer).get("results") if status == 200 else None
            if results is None or any(r["outcome"] != "accepted" for r in results):
                raise SystemExit(f"batch refused: {status} {answer[:300]!r}")
            count = len(results)
        else:
            status, answer = await connection.post("/v1/task" if kind == "w3bstream" else "/messages", item)
            if status not in (200, 202):
                raise SystemExit(f"{kind} refused: {status} {answer[:300]!r}")
            count = 1
        latencies.append(time.perf_counter() - began)
        idle.append(connection)
        return count

    try:
        if options.get("rate"):  # open loop: one message every 1/rate seconds, whatever the answers do
            start, tasks = time.perf_counter(), []
            for i, item in enumerate(work):
                delay = start + i / options["rate"] - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(send(item)))
            return sum(await asyncio.gather(*tasks))
        queue = list(reversed(work))

        async def worker() -> int:
            done = 0
            while queue:
                done += await send(queue.pop())
            return done

        return sum(await asyncio.gather(*(worker() for _ in range(options["clients"]))))
    finally:
        for connection in idle:
            connection.close()


def mqtt_load(broker: str, prefix: str, work: list[bytes]) -> int:
    """Publish every message (QoS 1) to its device's topic and wait for all its results on the reply topics."""
    import threading
    from urllib.parse import urlsplit

    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    address = urlsplit(broker)
    done, accepted, lock = threading.Event(), [0, 0], threading.Lock()
    refusals: list[bytes] = []
    # Mosquitto queues at most 1,000 messages per client by default and drops the rest (docs/protocol.md): keep
    # fewer than that unanswered, as a fleet of devices each waiting for its result would.
    window = threading.Semaphore(500)

    def on_message(_: Any, __: Any, message: Any) -> None:
        outcome = json.loads(message.payload).get("result")
        with lock:
            if outcome != "accepted":
                refusals.append(message.payload)
            window.release()
            accepted[0 if outcome == "accepted" else 1] += 1
            if sum(accepted) == len(work):
                done.set()

    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=f"bench-load-{os.getpid()}", protocol=MQTTProtocolVersion.MQTTv5
    )
    client.on_message = on_message
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(address.hostname or "127.0.0.1", address.port or 1883)
    client.loop_start()
    client.subscribe(f"{prefix}/projects/+/devices/+/results", qos=1)[0]
    time.sleep(0.5)
    for raw in work:
        device = json.loads(raw)["device"]
        window.acquire()
        client.publish(f"{prefix}/projects/{PROJECT}/devices/{device}/messages", raw, qos=1)
    if not done.wait(300):
        raise SystemExit(f"MQTT: {sum(accepted)} of {len(work)} results came back")
    client.loop_stop()
    client.disconnect()
    if accepted[1]:
        raise SystemExit(f"MQTT: {accepted[1]} messages refused, as {refusals[0]!r}")
    return accepted[0]


# --- tallies --------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    messages: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    load_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def add(self, result: dict[str, Any], server_cpu: float) -> None:
        self.messages += result["accepted"]
        self.seconds += result["seconds"]
        self.load_cpu += result["cpu"]
        self.server_cpu += server_cpu
        self.latencies += result["latencies"]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        if not self.messages:
            return "-"
        server_us, load_us = (1e6 * cpu / self.messages for cpu in (self.server_cpu, self.load_cpu))
        return f"{self.rate:8.0f} msg/s, gateway CPU {server_us:5.0f} us/msg, load CPU {load_us:5.0f} us/msg"

    def percentiles(self) -> str:
        ms = sorted(1000 * x for x in self.latencies)
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        return f"p50 {statistics.median(ms):6.1f} ms, p99 {p99:6.1f} ms over {len(ms)} messages"


def broker_answers(broker: str) -> bool:
    from urllib.parse import urlsplit

    address = urlsplit(broker)
    try:
        with socket.create_connection((address.hostname or "127.0.0.1", address.port or 1883), timeout=1):
            return True
    except OSError:
        return False


def plan(args: argparse.Namespace, mqtt: bool) -> list[list[Phase]]:
    """The phases of each round, proofstream's then the baseline's (which has no MQTT), messages numbered in the
    order they are sent."""
    counts = {
        "single": args.single,
        "batch": args.batched,
        "w3bstream": args.w3bstream,
        "mqtt": args.mqtt if mqtt else 0,
        "latency": int(args.rate * args.latency_seconds),
    }
    rounds, first = [], 0
    for _ in range(args.rounds):
        phases = []
        for kind in GATEWAYS:
            for name, count in counts.items():
                if count and not (name == "mqtt" and kind == "baseline"):
                    phases.append(Phase(kind, name, count, first))
                    first += count
        rounds.append(phases)
    return rounds


GATEWAYS = ("proofstream", "baseline")
TRANSPORTS = {"single": "single", "batch": "batch", "w3bstream": "w3bstream", "mqtt": "mqtt", "latency": "single"}
"""How each phase's messages are sent (the load's kind)."""


def run_store(
    store: str, args: argparse.Namespace, broker: str, rounds: list[list[Phase]], signed: dict[Phase, list[bytes]]
) -> dict[tuple[str, str], Tally]:
    """Every round of every phase on ``store``: both gateways over fresh stores of their own."""
    tallies: dict[tuple[str, str], Tally] = {}
    run = os.getpid()
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        try:
            seed(store, where, run, [device_key(i).address for i in range(args.devices)])
            with ProcessPoolExecutor(1, mp_context=ctx) as loader:
                servers = {
                    kind: gateway(kind, store, where, broker if kind == "proofstream" else "", run) for kind in GATEWAYS
                }
                urls = {kind: server.__enter__() for kind, server in servers.items()}
                try:
                    for phases in rounds:
                        for phase in phases:
                            url, pid = urls[phase.gateway]
                            work = signed[phase]
                            options: dict[str, Any] = {"clients": args.single_clients}
                            if phase.name == "batch":
                                work, options = batches(work, args.batch_size), {"clients": args.batch_clients}
                            elif phase.name == "latency":
                                options = {"clients": 256, "rate": args.rate}
                            elif phase.name == "mqtt":
                                options = {"broker": broker, "run": run}
                            print(
                                f"  {store} {phase.gateway} {phase.name}: {len(work)} requests",
                                file=sys.stderr,
                                flush=True,
                            )
                            cpu = cpu_seconds(pid)
                            result = loader.submit(load, TRANSPORTS[phase.name], url, work, options).result()
                            tallies.setdefault((phase.gateway, phase.name), Tally()).add(result, cpu_seconds(pid) - cpu)
                finally:
                    for server in servers.values():
                        server.__exit__(None, None, None)
        finally:
            drop(store, run)
    return tallies


def report(store: str, args: argparse.Namespace, tallies: dict[tuple[str, str], Tally]) -> None:
    print(f"store {store}; {args.devices} devices; {args.rounds} rounds, proofstream and baseline interleaved")
    for name, what in (
        ("single", f"HTTP single ({args.single_clients} clients)"),
        ("batch", f"HTTP batch of {args.batch_size} ({args.batch_clients} clients)"),
        ("w3bstream", f"W3bStream POST /v1/task ({args.single_clients} clients)"),
        ("mqtt", "MQTT QoS 1 (result on the reply topic)"),
    ):
        ours, base = tallies.get(("proofstream", name), Tally()), tallies.get(("baseline", name), Tally())
        if not ours.messages:
            continue
        ratio = f"{ours.rate / base.rate:5.1f}x" if base.rate and ours.rate else "  -  "
        print(f"{what:<40} proofstream {ours.line()}")
        if base.messages:
            print(f"{'':<40} baseline    {base.line()}   ratio {ratio}")
        else:
            print(f"{'':<40} baseline    - (it has no MQTT)")
    for kind in GATEWAYS:
        tally = tallies[(kind, "latency")]
        print(
            f"latency at {args.rate:.0f} msg/s offered, single, {kind:<11} {tally.percentiles()} "
            f"({tally.rate:.0f} msg/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of every phase, proofstream and baseline alternating"
    )
    parser.add_argument("--single", type=int, default=2000, help="messages per single phase")
    parser.add_argument("--batched", type=int, default=10000, help="messages per batch phase")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--w3bstream", type=int, default=2000, help="messages per W3bStream phase (0: none)")
    parser.add_argument("--mqtt", type=int, default=5000, help="messages per MQTT phase (0: none)")
    parser.add_argument("--rate", type=float, default=500, help="offered load of the latency phase, msg/s")
    parser.add_argument("--latency-seconds", type=float, default=5)
    parser.add_argument("--single-clients", type=int, default=32)
    parser.add_argument("--batch-clients", type=int, default=4)
    parser.add_argument("--stores", default=",".join(STORES), help="comma-separated: sqlite, postgres")
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    args = parser.parse_args()
    broker = args.broker if args.mqtt and broker_answers(args.broker) else ""
    stores = [s for s in args.stores.split(",") if s]
    if unknown := set(stores) - set(STORES):
        raise SystemExit(f"unknown stores {sorted(unknown)}: {', '.join(STORES)}")
    rounds = plan(args, bool(broker))
    phases = [phase for phases in rounds for phase in phases]
    started = time.perf_counter()
    signed = sign_all(args.devices, phases)
    total = sum(p.count for p in phases)
    print(f"signed {total} messages of {args.devices} devices in {time.perf_counter() - started:.1f} s")
    print(f"{os.cpu_count()} CPUs; MQTT broker {broker or 'none (skipped)'}")
    for store in stores:
        if store == "postgres" and not postgres_answers():
            print("store postgres: skipped, no PostgreSQL answers at 127.0.0.1:5432 (database test)")
            continue
        report(store, args, run_store(store, args, broker, rounds, signed))


def batches(bodies: list[bytes], size: int) -> list[bytes]:
    return [b'{"messages":[' + b",".join(bodies[i : i + size]) + b"]}" for i in range(0, len(bodies), size)]


if __name__ == "__main__":
    main()
