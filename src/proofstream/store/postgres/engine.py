"""The PostgreSQL store's connections: a pool, one transaction per write, locks where the database is shared.

Durability: a write returns once its COMMIT has returned, which with the server's default ``synchronous_commit =
on`` means its WAL record is flushed to disk. Concurrency is the server's: each write runs in its own transaction
on a pooled connection (READ COMMITTED), so concurrent callers commit side by side instead of queueing behind one
writer thread as with SQLite.

Locks, since many processes share the database (``store.sql.engine``):
- **admission**: a message is checked and inserted under ``pg_advisory_xact_lock`` on its (project, device), taken
  before the checks read anything and held to the commit, so two gateways racing on one device admit one at a
  time; a batch takes all its devices' locks first, in one order. The unique index on (project, device, nonce)
  backs it. Creating a task takes its device's lock too (a message must not slip below a nonce being batched).
- **claims**: a conditional task update (``expect``: how a prover or submitter claims work) reads the task row
  ``FOR UPDATE SKIP LOCKED``: while another transaction holds the row the claim is refused at once
  (StaleTaskError, "someone else has it") rather than queued behind it. Other updates wait (``FOR UPDATE``).

Every psycopg error leaves as StoreError (the generic code: the roles' retry tries it again).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from proofstream import logs as log
from proofstream.errors import StaleTaskError, StoreError
from proofstream.store.postgres.migrate import apply_migrations
from proofstream.store.sql.engine import Connection, Cursor, DeviceKey, SqlEngine

__all__ = ["CLOSED", "PostgresEngine", "redacted", "valid_schema"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

CLOSED = "store_closed"
"""StoreError code of any call on a closed store: a retry cannot help (as SQLite's)."""

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def valid_schema(name: str) -> bool:
    """Whether ``name`` is a schema name the store takes: lower-case letters, digits and _, at most 63."""
    return _SCHEMA_NAME.fullmatch(name) is not None


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache(maxsize=512)
def _placeholders(query: str) -> str:
    """The shared queries' ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled first)."""
    return query.replace("%", "%%").replace("?", "%s")


def device_lock(device: DeviceKey) -> int:
    """The advisory lock key of a (project, device): 64 bits of a hash; two devices that share one only wait on
    each other."""
    project, address = device
    digest = hashlib.blake2b(f"ps.device:{project}:{address}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Conn:
    """A psycopg connection inside a transaction, as the shared queries see it (``?`` placeholders)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        return self._conn.execute(_placeholders(sql), tuple(parameters))


class PostgresEngine(SqlEngine):
    """One PostgreSQL database (one schema of it), migrated on open: ``_read`` runs a query on a pooled connection,
    ``_write`` runs a job in a transaction of its own."""

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        pool_size: int = 8,
        connect_timeout_s: float = 5.0,
    ) -> None:
        """``url``: a libpq URL (``postgresql://user[:password]@host[:port]/database``); ``schema``: the schema to
        keep the tables in, created when missing (None: the first of the server's search_path, usually
        ``public``); ``pool_size``: connections at most (each concurrent caller holds one while it runs)."""
        if schema is not None and not valid_schema(schema):
            raise StoreError(f"schema name {schema!r} must be lower-case letters, digits and _ (at most 63)")
        self.url = url
        self.schema = schema
        self.where = redacted(url) + (f" (schema {schema})" if schema else "")
        self._closed = False
        self._lifecycle = threading.Lock()
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(connect_timeout_s))) as conn:
                self._schema_version = apply_migrations(conn, schema, self.where)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the store at {self.where}: {_reason(exc)}") from exc
        self._pool: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "connect_timeout": max(1, round(connect_timeout_s))},
            configure=self._configure,
            open=False,
            name="proofstream-store",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout_s)
        except Exception as exc:  # psycopg_pool.PoolTimeout or a psycopg error
            self._pool.close()
            raise StoreError(f"cannot open the store at {self.where}: {exc}") from exc
        log.info(logger, "store opened", path=self.where, schema_version=self._schema_version)

    def _configure(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        if self.schema is not None:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self._check_open()
        try:
            with self._pool.connection() as conn:
                return conn.execute(_placeholders(sql), tuple(params)).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"store read failed: {_reason(exc)}") from exc

    def _write(self, fn: Callable[[Connection], T]) -> T:
        self._check_open()
        try:
            with self._pool.connection() as conn, conn.transaction():
                return fn(_Conn(conn))
        except psycopg.Error as exc:
            raise StoreError(f"store write failed: {_reason(exc)}") from exc

    def _lock_devices(self, conn: Connection, devices: Iterable[DeviceKey]) -> None:
        keys = sorted({device_lock(device) for device in devices})
        if keys:
            conn.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k ORDER BY k", (keys,))

    def _task_status(self, conn: Connection, task_id: str, *, claim: bool) -> str | None:
        if not claim:
            row = conn.execute("SELECT status FROM tasks WHERE id = ? FOR UPDATE", (task_id,)).fetchone()
            return None if row is None else str(row[0])
        row = conn.execute("SELECT status FROM tasks WHERE id = ? FOR UPDATE SKIP LOCKED", (task_id,)).fetchone()
        if row is not None:
            return str(row[0])
        if conn.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,)).fetchone():
            raise StaleTaskError(f"task {task_id} is being written by another claimant")
        return None

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed", code=CLOSED)

    def close(self) -> None:
        with self._lifecycle:
            if self._closed:
                return
            self._closed = True
        self._pool.close()
        log.info(logger, "store closed", path=self.where)


def _reason(exc: psycopg.Error) -> str:
    """The server's (or libpq's) own words, on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__
