"""Signed messages verified and durably stored per second, through the real gateway, beside a baseline.

A benchmark that prints figures, not a test. Every figure comes from messages the gateway accepted (checked).

- The gateway runs in a process of its own (uvicorn on a free port, the app the node serves, the node's clock
  window, no chain), over a store named by ``--store`` (``sqlite``; a PostgreSQL adapter plugs into
  :func:`open_store`), and subscribes to the MQTT broker at ``--broker`` (Mosquitto on 127.0.0.1:1883) when one
  answers. Its CPU is read from /proc.
- The load runs in another process (its CPU is counted too): messages from ``--devices`` devices, all seeded
  straight into the store and pre-signed before any phase starts.
- Transports: HTTP single (``POST /messages``, closed loop), HTTP batch (``POST /v1/projects/{id}/messages``),
  MQTT (publish QoS 1, the result on the reply topic is the acknowledgement), and the W3bStream endpoint
  (``POST /v1/task``) where the app has one (skipped otherwise). Then p50/p99 acknowledgement latency of single
  messages sent at a fixed offered rate (``--rate``, open loop).
- Baseline, measured in the same run and interleaved with it round by round: a straightforward gateway
  (FastAPI, stdlib json, eth-account's EIP-712 hashing and recovery, one SQLite commit per message) on the same
  machine, store settings and messages.

    .venv/bin/python bench/ingest.py [--devices 1000] [--rounds 2] [--single 2000] [--batched 10000] [--mqtt 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_batch import DOMAIN, OWNER, PROJECT, SCHEMA, cpu_seconds, free_port, spawn_gateway

from proofstream.domain.types import ConfigVersion
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig, Store


def topic_prefix(run: int) -> str:
    """A topic prefix of this run's own (``run`` is the main process's pid), so other users of the machine's
    broker neither see nor disturb it."""
    return f"bench-{run}/v1"


# --- stores ---------------------------------------------------------------------------------------------------


def open_store(kind: str, where: Path) -> Store:
    """The store under test. ``sqlite``: a file under ``where``. A PostgreSQL adapter is added here."""
    if kind == "sqlite":
        from proofstream.store.sqlite import SqliteStore

        return SqliteStore(where / "proofstream.db")
    raise SystemExit(f"store {kind!r} is not available in this benchmark yet (sqlite)")


def seed(kind: str, where: Path, keys: Sequence[str]) -> None:
    """The project and every device, written straight into both stores (the gateway's and the baseline's)."""
    store = open_store(kind, where)
    try:
        store.upsert_project(ProjectConfig(PROJECT, ConfigVersion(1), SCHEMA, DOMAIN))
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(32) as pool:  # concurrent writes share group commits
            list(pool.map(lambda address: store.upsert_device(PROJECT, address, OWNER), keys))  # type: ignore[arg-type]
    finally:
        store.close()
    with sqlite3.connect(where / "baseline.db") as db:
        db.executescript(
            "PRAGMA journal_mode=WAL; CREATE TABLE devices (device TEXT PRIMARY KEY);"
            "CREATE TABLE messages (id TEXT PRIMARY KEY, device TEXT, nonce INTEGER, body TEXT,"
            " UNIQUE (device, nonce));"
        )
        db.executemany("INSERT INTO devices VALUES (?)", [(k,) for k in keys])


# --- the gateways ---------------------------------------------------------------------------------------------


def serve(kind: str, store_kind: str, where: str, port: int, broker: str, run: int) -> None:
    """A gateway process: ``proofstream`` (the node's app, and MQTT when ``broker`` is set) or ``baseline``."""
    import uvicorn

    if kind == "baseline":
        app = baseline_app(Path(where) / "baseline.db")
    else:
        from proofstream.ingest.http import create_app
        from proofstream.ingest.intake import Intake
        from proofstream.ingest.mqtt import MqttGateway, admit_batched
        from proofstream.ingest.validation import ClockWindow
        from proofstream.settings import MqttSettings

        store = open_store(store_kind, Path(where))
        window = ClockWindow(max_future_seconds=60, max_past_seconds=86_400)
        app = create_app(store, clock_window=window)
        if broker:
            settings = MqttSettings(
                broker_url=broker,
                client_id=f"bench-gateway-{run}",
                topic_prefix=topic_prefix(run),
                session_expiry_seconds=0,
            )
            intake = Intake(store, clock_window=window)
            MqttGateway(settings, admit_batched(intake), max_body_bytes=16384, max_batch=settings.batch).start()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def baseline_app(path: Path) -> Any:
    """The straightforward gateway: parse, eth-account EIP-712 digest and recovery, device lookup, one commit per
    message (WAL, synchronous=FULL), each request in FastAPI's thread pool."""
    import threading

    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from eth_utils.crypto import keccak
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    local = threading.local()
    types = [{"name": f.name, "type": f.type} for f in SCHEMA.fields]

    def db() -> sqlite3.Connection:
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            local.db.execute("PRAGMA synchronous=FULL")
        conn: sqlite3.Connection = local.db
        return conn

    def admit(body: dict[str, Any]) -> str:
        message = {k: body[k] for k in ("version", "project", "config", "device", "nonce", "timestamp")}
        message.update(body["payload"])
        signable = encode_typed_data(
            full_message={
                "types": {
                    "EIP712Domain": [
                        {"name": "name", "type": "string"},
                        {"name": "version", "type": "string"},
                        {"name": "chainId", "type": "uint256"},
                        {"name": "verifyingContract", "type": "address"},
                    ],
                    "Message": types,
                },
                "primaryType": "Message",
                "domain": DOMAIN.as_dict(),
                "message": message,
            }
        )
        signer = Account.recover_message(signable, signature=bytes.fromhex(body["signature"][2:]))
        if signer != body["device"]:
            raise ValueError("bad signature")
        conn = db()
        if conn.execute("SELECT 1 FROM devices WHERE device = ?", (signer,)).fetchone() is None:
            raise ValueError("unknown device")
        message_id = "0x" + keccak(keccak(b"\x19" + signable.version + signable.header + signable.body)).hex()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?)",
            (message_id, signer, body["nonce"], json.dumps(body)),
        )
        conn.execute("COMMIT")
        return message_id

    app = FastAPI()

    @app.post("/messages")
    def post_message(body: dict[str, Any]) -> JSONResponse:
        return JSONResponse({"id": admit(body), "status": "received"}, status_code=202)

    @app.post("/v1/projects/{project}/messages")
    def post_messages(project: int, body: dict[str, Any]) -> JSONResponse:
        results = [{"outcome": "accepted", "id": admit(item)} for item in body["messages"]]
        return JSONResponse({"results": results})

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app


@contextmanager
def gateway(kind: str, store_kind: str, where: Path, broker: str) -> Iterator[tuple[str, int]]:
    """The ``kind`` gateway in a process of its own, once it answers: its URL and pid."""
    port = free_port()
    with spawn_gateway(serve, (kind, store_kind, str(where), port, broker, os.getpid()), port, kind) as pid:
        yield f"http://127.0.0.1:{port}", pid


# --- signing --------------------------------------------------------------------------------------------------


def device_key(index: int) -> DeviceKey:
    return DeviceKey.from_hex("0x" + (index + 1).to_bytes(32, "big").hex())


def sign_range(devices: int, first: int, count: int, base: int) -> list[bytes]:
    """Message ``first`` .. ``first + count`` of the run, round-robin over the devices: message i is device
    i % devices's nonce i // devices, its timestamp rising with the nonce (so any arrival order is accepted)."""
    keys: dict[int, DeviceKey] = {}
    out = []
    for i in range(first, first + count):
        index, nonce = i % devices, i // devices
        key = keys.setdefault(index, device_key(index))
        payload = {"lat": 90_000_000 + nonce, "lon": 180_000_000 + index}
        body = key.sign_message(SCHEMA, DOMAIN, PROJECT, 1, nonce, base + nonce, payload)
        out.append(json.dumps(body, separators=(",", ":")).encode())
    return out


def sign_all(devices: int, count: int) -> list[bytes]:
    base = int(time.time()) - 40_000
    step = max(1, count // (4 * (os.cpu_count() or 1)))
    with ProcessPoolExecutor() as pool:
        starts = range(0, count, step)
        parts = pool.map(
            sign_range, [devices] * len(starts), starts, [min(step, count - i) for i in starts], [base] * len(starts)
        )
    return [body for part in parts for body in part]


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


async def http_load(kind: str, url: str, work: list[Any], options: dict[str, Any], latencies: list[float]) -> int:
    limits = httpx.Limits(max_connections=options["clients"], max_keepalive_connections=options["clients"])
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(120, pool=None), limits=limits) as client:

        async def send(item: Any) -> int:
            began = time.perf_counter()
            if kind == "batch":
                response = await client.post(f"/v1/projects/{PROJECT}/messages", content=item, headers=headers)
                results = response.json().get("results") if response.status_code == 200 else None
                if results is None or any(r["outcome"] != "accepted" for r in results):
                    raise SystemExit(f"batch refused: {response.status_code} {response.text[:300]}")
                count = len(results)
            else:
                path = "/v1/task" if kind == "w3bstream" else "/messages"
                response = await client.post(path, content=item, headers=headers)
                if response.status_code not in (200, 202):
                    raise SystemExit(f"{kind} refused: {response.status_code} {response.text[:300]}")
                count = 1
            latencies.append(time.perf_counter() - began)
            return count

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of every phase, proofstream and baseline alternating"
    )
    parser.add_argument("--single", type=int, default=2000, help="messages per single phase")
    parser.add_argument("--batched", type=int, default=10000, help="messages per batch phase")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--mqtt", type=int, default=5000, help="messages per MQTT phase (0: none)")
    parser.add_argument("--rate", type=float, default=500, help="offered load of the latency phase, msg/s")
    parser.add_argument("--latency-seconds", type=float, default=5)
    parser.add_argument("--single-clients", type=int, default=32)
    parser.add_argument("--batch-clients", type=int, default=4)
    parser.add_argument("--store", default="sqlite")
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    args = parser.parse_args()
    broker = args.broker if args.mqtt and broker_answers(args.broker) else ""
    latency_count = int(args.rate * args.latency_seconds)
    per_round = args.single + args.batched + (args.mqtt if broker else 0) + latency_count
    gateways = ("proofstream", "baseline")
    total = args.rounds * per_round * len(gateways)

    started = time.perf_counter()
    bodies = iter(sign_all(args.devices, total))
    print(f"signed {total} messages of {args.devices} devices in {time.perf_counter() - started:.1f} s")
    tallies: dict[tuple[str, str], Tally] = {}
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        seed(args.store, where, [device_key(i).address for i in range(args.devices)])
        with ProcessPoolExecutor(1, mp_context=ctx) as loader:
            servers = {
                kind: gateway(kind, args.store, where, broker if kind == "proofstream" else "") for kind in gateways
            }
            urls = {kind: server.__enter__() for kind, server in servers.items()}
            try:
                w3bstream = httpx.post(f"{urls['proofstream'][0]}/v1/task", content=b"{}").status_code != 404
                for _ in range(args.rounds):
                    for kind in gateways:
                        url, pid = urls[kind]
                        phases: list[tuple[str, str, list[Any], dict[str, Any]]] = [
                            (
                                "single",
                                "single",
                                [next(bodies) for _ in range(args.single)],
                                {"clients": args.single_clients},
                            ),
                            (
                                "batch",
                                "batch",
                                batches([next(bodies) for _ in range(args.batched)], args.batch_size),
                                {"clients": args.batch_clients},
                            ),
                            (
                                "latency",
                                "single",
                                [next(bodies) for _ in range(latency_count)],
                                {"clients": 256, "rate": args.rate},
                            ),
                        ]
                        if broker:
                            mqtt_work = [next(bodies) for _ in range(args.mqtt)]
                            if kind == "proofstream":
                                phases.append(("mqtt", "mqtt", mqtt_work, {"broker": broker, "run": os.getpid()}))
                        for name, how, work, options in phases:
                            print(f"  {kind} {name}: {len(work)} requests", file=sys.stderr, flush=True)
                            cpu = cpu_seconds(pid)
                            result = loader.submit(load, how, url, work, options).result()
                            tallies.setdefault((kind, name), Tally()).add(result, cpu_seconds(pid) - cpu)
            finally:
                for server in servers.values():
                    server.__exit__(None, None, None)

    print(
        f"{os.cpu_count()} CPUs; store {args.store} (WAL, synchronous=FULL); {args.devices} devices; "
        f"{args.rounds} rounds, proofstream and baseline interleaved"
    )
    for name, what in (
        ("single", f"HTTP single ({args.single_clients} clients)"),
        ("batch", f"HTTP batch of {args.batch_size} ({args.batch_clients} clients)"),
        ("mqtt", "MQTT QoS 1 (result on the reply topic)"),
    ):
        ours, base = tallies.get(("proofstream", name), Tally()), tallies.get(("baseline", name), Tally())
        ratio = f"{ours.rate / base.rate:5.1f}x" if base.rate and ours.rate else "  -  "
        print(f"{what:<40} proofstream {ours.line()}")
        print(f"{'':<40} baseline    {base.line()}   ratio {ratio}")
    print(
        f"{'W3bStream POST /v1/task':<40} "
        + ("not measured yet" if w3bstream else "skipped: the gateway has no /v1/task")
    )
    for kind in gateways:
        tally = tallies[(kind, "latency")]
        print(
            f"latency at {args.rate:.0f} msg/s offered, single, {kind:<11} {tally.percentiles()} "
            f"({tally.rate:.0f} msg/s)"
        )


def batches(bodies: list[bytes], size: int) -> list[bytes]:
    return [b'{"messages":[' + b",".join(bodies[i : i + size]) + b"]}" for i in range(0, len(bodies), size)]


if __name__ == "__main__":
    main()
