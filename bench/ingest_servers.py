"""The gateways bench/ingest.py measures, each in a process of its own, and the stores under them.

Part of bench/ingest.py (not a benchmark by itself): the proofstream gateway (the node's app, with MQTT when a
broker answers, and the W3bStream endpoint) and the straightforward baseline, over SQLite or PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request  # at module level: the app's annotations are strings, resolved here

from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import Field, Schema
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.domain.w3bstream import W3bConfig
from proofstream.settings import GatewaySettings
from proofstream.store.ports import ProjectConfig, Store

DOMAIN = Domain(chain_id=31337, verifying_contract=Address("0x5FbDB2315678afecb367f032d93F642f64180aa3"))
SCHEMA = Schema(payload=(Field("lat", "uint32"), Field("lon", "uint32")))
PROJECT = ProjectId(1)
OWNER = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")
W3B = W3bConfig(keys=(("lat", "lat"), ("lon", "lon")), timestamp="timestamp")
"""The project's ``[w3bstream]`` section: payload keys as the schema's fields, the timestamp from the payload."""
PG_URL = "postgresql://127.0.0.1:5432/test"
"""The PostgreSQL server of these machines (trust auth); the run keeps its tables in schemas of its own."""
STORES = ("sqlite", "postgres")
RECOVERY_WORKERS = GatewaySettings().recovery_workers
"""The node's default: the gateway is measured as ``proofstream node`` runs it."""


def topic_prefix(run: int) -> str:
    """A topic prefix of this run's own (``run`` is the main process's pid), so other users of the machine's
    broker neither see nor disturb it."""
    return f"bench-{run}/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process and its live descendants (the gateway's signature recovery
    workers), from Linux /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, IndexError):
                continue  # gone meanwhile
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = _stat(current)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        todo += children.get(current, [])
    return total / os.sysconf("SC_CLK_TCK")


# --- stores ---------------------------------------------------------------------------------------------------


def schema_name(kind: str, run: int) -> str:
    """The PostgreSQL schema of one gateway's tables in this run."""
    return f"bench_{run}_{kind}"


def postgres_answers() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


def open_store(store: str, where: Path, run: int) -> Store:
    """proofstream's store: ``sqlite`` a file under ``where``, ``postgres`` a schema of its own on PG_URL."""
    if store == "sqlite":
        from proofstream.store.sqlite import SqliteStore

        return SqliteStore(where / "proofstream.db")
    from proofstream.store.postgres import PostgresStore

    return PostgresStore(PG_URL, schema=schema_name("proofstream", run), pool_size=16)


def seed(store: str, where: Path, run: int, keys: Sequence[str]) -> None:
    """The project and every device, written straight into both stores (the gateway's and the baseline's)."""
    opened = open_store(store, where, run)
    try:
        opened.upsert_project(ProjectConfig(PROJECT, ConfigVersion(1), SCHEMA, DOMAIN))
        with ThreadPoolExecutor(16) as pool:  # concurrent writes share group commits
            list(pool.map(lambda address: opened.upsert_device(PROJECT, address, OWNER), keys))  # type: ignore[arg-type]
    finally:
        opened.close()
    with baseline_db(store, where, run) as db:
        db.script(
            "CREATE TABLE devices (device TEXT PRIMARY KEY);"
            "CREATE TABLE messages (id TEXT PRIMARY KEY, device TEXT, nonce BIGINT, body TEXT, UNIQUE (device, nonce))"
        )
        db.insert_devices(keys)


def drop(store: str, run: int) -> None:
    """The run's PostgreSQL schemas, with everything in them (nothing to do for SQLite's temporary files)."""
    if store != "postgres":
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for kind in ("proofstream", "baseline"):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name(kind, run))))


class BaselineDb:
    """The baseline's database: one connection, one commit per statement (SQLite WAL + synchronous=FULL, or
    PostgreSQL autocommit)."""

    def __init__(self, store: str, where: Path, run: int) -> None:
        self.store = store
        if store == "sqlite":
            self.conn: Any = sqlite3.connect(where / "baseline.db", isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.mark = "?"
        else:
            import psycopg

            schema = schema_name("baseline", run)
            self.conn = psycopg.connect(PG_URL, autocommit=True)
            self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            self.conn.execute(f"SET search_path TO {schema}")
            self.mark = "%s"

    def script(self, statements: str) -> None:
        for statement in statements.split(";"):
            self.conn.execute(statement)

    def insert_devices(self, keys: Sequence[str]) -> None:
        rows = [(k,) for k in keys]
        if self.store == "sqlite":
            self.conn.execute("BEGIN")
            self.conn.executemany("INSERT INTO devices VALUES (?)", rows)
            self.conn.execute("COMMIT")
        else:
            with self.conn.cursor() as cur:
                cur.executemany("INSERT INTO devices VALUES (%s)", rows)

    def known(self, device: str) -> bool:
        q = f"SELECT 1 FROM devices WHERE device = {self.mark}"
        return self.conn.execute(q, (device,)).fetchone() is not None

    def insert(self, message_id: str, device: str, nonce: int, body: str) -> None:
        """One message, one commit."""
        m = self.mark
        self.conn.execute(
            f"INSERT INTO messages VALUES ({m}, {m}, {m}, {m}) ON CONFLICT DO NOTHING",
            (message_id, device, nonce, body),
        )

    def close(self) -> None:
        self.conn.close()


@contextmanager
def baseline_db(store: str, where: Path, run: int) -> Iterator[BaselineDb]:
    db = BaselineDb(store, where, run)
    try:
        yield db
    finally:
        db.close()


# --- the gateways ---------------------------------------------------------------------------------------------


def serve(kind: str, store: str, where: str, port: int, broker: str, run: int) -> None:
    """A gateway process: ``proofstream`` (the node's app, with MQTT when ``broker`` is set) or ``baseline``."""
    import uvicorn

    if kind == "baseline":
        app = baseline_app(store, Path(where), run)
    else:
        from proofstream.ingest.http import create_app
        from proofstream.ingest.intake import Intake
        from proofstream.ingest.mqtt import MqttGateway, admit_batched
        from proofstream.ingest.recovery import RecoveryPool
        from proofstream.ingest.validation import ClockWindow
        from proofstream.ingest.w3bstream import W3bProject
        from proofstream.settings import MqttSettings

        opened = open_store(store, Path(where), run)
        window = ClockWindow(max_future_seconds=60, max_past_seconds=86_400)
        # As the node builds it (gateway.recovery_workers): one pool for HTTP batches and MQTT groups.
        recovery = RecoveryPool(RECOVERY_WORKERS)
        recovery.warm()
        w3b = {(PROJECT, ConfigVersion(1)): W3bProject(W3B)}
        app = create_app(opened, clock_window=window, w3bstream=w3b, recovery=recovery)
        if broker:
            settings = MqttSettings(
                broker_url=broker,
                client_id=f"bench-gateway-{run}-{store}",
                topic_prefix=topic_prefix(run),
                session_expiry_seconds=0,
            )
            intake = Intake(opened, clock_window=window, recovery=recovery)
            MqttGateway(settings, admit_batched(intake), max_body_bytes=16384, max_batch=settings.batch).start()
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    finally:
        if kind != "baseline":
            recovery.close()


def baseline_app(store: str, where: Path, run: int) -> Any:
    """The straightforward gateway: parse, eth-account EIP-712 digest and recovery (W3bStream: sha256 and
    eth-account recovery of both recovery ids), device lookup, one commit per message, each request in FastAPI's
    thread pool."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from eth_keys.datatypes import Signature
    from eth_utils.crypto import keccak
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    local = threading.local()
    types = [{"name": f.name, "type": f.type} for f in SCHEMA.fields]

    def db() -> BaselineDb:
        if not hasattr(local, "db"):
            local.db = BaselineDb(store, where, run)
        found: BaselineDb = local.db
        return found

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
        if signer != body["device"] or not db().known(signer):
            raise ValueError("bad signature or unknown device")
        message_id = "0x" + keccak(keccak(b"\x19" + signable.version + signable.header + signable.body)).hex()
        db().insert(message_id, signer, body["nonce"], json.dumps(body))
        return message_id

    def admit_w3b(raw: bytes) -> str:
        body = json.loads(raw)
        payload = json.dumps(body["payload"], separators=(",", ":"))
        signed = f'{{"nonce":{body["nonce"]},"projectID":"{body["projectID"]}","payload":{payload}}}'
        digest = hashlib.sha256(signed.encode()).digest()
        rs = bytes.fromhex(body["signature"][2:])
        r, s = int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big")
        for v in (0, 1):
            signer = Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest).to_checksum_address()
            if db().known(signer):
                message_id = "0x" + keccak(digest).hex()
                db().insert(message_id, signer, body["nonce"], raw.decode())
                return message_id
        raise ValueError("unknown device")

    app = FastAPI()

    @app.post("/messages")
    def post_message(body: dict[str, Any]) -> JSONResponse:
        return JSONResponse({"id": admit(body), "status": "received"}, status_code=202)

    @app.post("/v1/projects/{project}/messages")
    def post_messages(project: int, body: dict[str, Any]) -> JSONResponse:
        results = [{"outcome": "accepted", "id": admit(item)} for item in body["messages"]]
        return JSONResponse({"results": results})

    @app.post("/v1/task")
    async def post_task(request: Request) -> JSONResponse:
        raw = await request.body()
        return JSONResponse({"taskID": await run_in_threadpool(admit_w3b, raw)})

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return app


@contextmanager
def spawn_gateway(target: Callable[..., None], args: tuple[Any, ...], port: int, name: str) -> Iterator[int]:
    """``target(*args)`` in a process of its own, once it answers /healthz on ``port``: its pid."""
    # Not daemonic: the gateway starts its signature recovery workers, which a daemonic process may not have.
    server = multiprocessing.get_context("spawn").Process(target=target, args=args)
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


@contextmanager
def gateway(kind: str, store: str, where: Path, broker: str, run: int) -> Iterator[tuple[str, int]]:
    """The ``kind`` gateway in a process of its own, once it answers: its URL and pid."""
    port = free_port()
    with spawn_gateway(serve, (kind, store, str(where), port, broker, run), port, f"{kind} ({store})") as pid:
        yield f"http://127.0.0.1:{port}", pid
