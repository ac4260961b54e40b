"""The SQLite store's connections: one writer thread with group commit, one reader connection per thread.

Durability: WAL with ``synchronous=FULL``, so a COMMIT has reached the disk (fsync of the WAL) before it
returns.

Group commit: every write goes through one writer thread. Callers enqueue a job and wait for its future; the
writer takes every job queued at that moment, runs each inside its own SAVEPOINT of one transaction, COMMITs
once, and only then resolves the futures. While one fsync runs, the next batch queues up, so N concurrent
devices cost about one fsync per batch instead of one each, and a caller is never acknowledged before the
commit that holds its row.
A job that fails rolls back to its savepoint and fails alone; the rest of its batch still commits.

Reads use one connection per calling thread; WAL lets them run beside the writer.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from proofstream import logs as log
from proofstream.errors import StoreError
from proofstream.store.sql.engine import Connection, DeviceKey, SqlEngine
from proofstream.store.sqlite.migrate import apply_migrations

__all__ = ["SqliteEngine"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

CLOSED = "store_closed"
"""StoreError code of any call on a closed store: a retry cannot help."""


@dataclass
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    future: Future[Any] = field(default_factory=Future)


class SqliteEngine(SqlEngine):
    """One SQLite file, migrated on open: ``_read`` runs a query on the calling thread's connection, ``_write``
    runs a job in the writer thread's next group commit. Every SQLite error leaves as StoreError."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000, max_batch: int = 512) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._max_batch = max_batch
        self._commits = 0
        self._closed = False
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._lifecycle = threading.Lock()
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect()
            mode = self._writer.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"SQLite refused WAL mode for {self.path} (got {mode})")
            apply_migrations(self._writer, self.path)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc
        self._thread = threading.Thread(target=self._run_writer, name="sqlite-writer", daemon=True)
        self._thread.start()
        log.info(logger, "store opened", path=self.path, schema_version=self.schema_version)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves; check_same_thread=False only so close() can
        # close connections another thread opened (each is still used by one thread at a time).
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("the store is closed", code=CLOSED)
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._connect()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open a reader on {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._reader().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"store read failed: {exc}") from exc

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in the writer thread inside a transaction; return once that transaction is committed."""
        job = _Job(fn)
        with self._lifecycle:  # no job may slip in behind the stop sentinel and wait forever
            if self._closed:
                raise StoreError("the store is closed", code=CLOSED)
            self._queue.put(job)
        result: T = job.future.result()
        return result

    def _lock_devices(self, conn: Connection, devices: Iterable[DeviceKey]) -> None:
        """Nothing to take: the writer's transaction began with ``BEGIN IMMEDIATE`` and holds the database's write
        lock, which covers every device."""

    def _run_writer(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[_Job]) -> None:
        conn = self._writer
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT job")
                try:
                    value = job.fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    if isinstance(exc, sqlite3.Error):
                        exc = StoreError(f"store write failed: {exc}")
                    outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((True, value))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error(logger, "store commit failed", path=self.path, jobs=len(batch), error=exc)
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.error(logger, "store rollback failed", path=self.path, exc_info=True)
            for job in batch:
                job.future.set_exception(StoreError(f"store commit failed: {exc}"))
            return
        self._commits += 1
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    @property
    def commits(self) -> int:
        """Transactions committed by the writer so far (fewer than writes when group commit batched them)."""
        return self._commits

    def close(self) -> None:
        with self._lifecycle:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._writer.close()
        log.info(logger, "store closed", path=self.path, commits=self._commits)
