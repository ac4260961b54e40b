"""SQLite adapter of the store port: the embedded default, zero setup.

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

import json
import logging
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from eth_utils.address import to_checksum_address

from proofstream.domain.eip712 import Domain
from proofstream.domain.messages import DeviceMessage, parse_body, to_body
from proofstream.domain.schema import Schema
from proofstream.domain.tasks import InvalidTransitionError, TaskStatus, check_transition
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, ProjectId, TaskId, Timestamp
from proofstream.errors import ConflictError, MessageError, StaleTaskError, StoreError
from proofstream.store.ports import (
    RECEIVED,
    TASK_UPDATE_FIELDS,
    MessageStatus,
    ProjectConfig,
    PutResult,
    StoredAttestation,
    StoredMessage,
    TaskRow,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

MIGRATIONS_PACKAGE = "proofstream.store"
"""Migrations live in ``<package>/migrations/NNNN_name.sql`` and are applied in NNNN order."""

_MIGRATION_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_JSON_FIELDS = frozenset({"outputs", "proof"})
_MESSAGE_COLUMNS = (
    "m.id, m.body, m.received_at, m.task_id, m.leaf_index, p.schema_json, t.status, t.reason, t.root, t.route_tx"
)
_MESSAGE_FROM = (
    "FROM messages m JOIN projects p ON p.project = m.project AND p.config = m.config "
    "LEFT JOIN tasks t ON t.id = m.task_id"
)
_ATTESTATION_COLUMNS = "task_id, attester, result, outputs, signature, created_at"
_TASK_COLUMNS = (
    "id, project, config, device, first_nonce, last_nonce, root, created_at, status, reason, outputs, proof, "
    "assign_tx, route_tx, gas_assign, gas_route, constraints, prove_seconds, updated_at"
)


def _u64(value: int) -> str:
    """uint64 as a 20-digit zero-padded decimal: sorts like the number, needs no unsigned 64-bit column."""
    return f"{value:020d}"


def _addr(address: str) -> str:
    return address.lower()


@lru_cache(maxsize=256)
def _schema(schema_json: str) -> Schema:
    return Schema.from_json(json.loads(schema_json))


def _migrations() -> list[tuple[int, str, str]]:
    """``(version, file name, sql)`` of every bundled migration, in order."""
    found = []
    for entry in (resources.files(MIGRATIONS_PACKAGE) / "migrations").iterdir():
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


def _is_blank(sql: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in sql.splitlines())


def _statements(script: str) -> Iterable[str]:
    """Split a script into statements (sqlite3.complete_statement knows about strings and comments)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if not _is_blank(buffer):
        raise StoreError(f"incomplete SQL statement at the end of a migration: {buffer[:80]!r}")


@dataclass
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    future: Future[Any] = field(default_factory=Future)


class SqliteStore:
    """The store in one SQLite file. Thread-safe; use as a context manager or call :meth:`close`."""

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
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc
        self._thread = threading.Thread(target=self._run_writer, name="sqlite-writer", daemon=True)
        self._thread.start()
        logger.info("store opened path=%s schema_version=%d", self.path, self.schema_version)

    # --- connections and the writer thread ---

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
            raise StoreError("the store is closed")
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
                raise StoreError("the store is closed")
            self._queue.put(job)
        result: T = job.future.result()
        return result

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
            logger.error("store commit failed path=%s jobs=%d error=%s", self.path, len(batch), exc)
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                logger.exception("store rollback failed path=%s", self.path)
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
        logger.info("store closed path=%s commits=%d", self.path, self._commits)

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- migrations ---

    def _migrate(self) -> None:
        conn = self._writer
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        migrations = _migrations()
        # BEGIN IMMEDIATE takes the write lock first: two processes opening a new file migrate one at a time.
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            if current > len(migrations):
                raise StoreError(
                    f"the store at {self.path} has schema version {current}, newer than this proofstream "
                    f"({len(migrations)}): upgrade proofstream"
                )
            for version, name, sql in migrations[current:]:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, time.time()),
                )
                logger.info("store migrated path=%s version=%d name=%s", self.path, version, name)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        return int(self._read("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0])

    # --- projects and devices ---

    def upsert_project(self, config: ProjectConfig) -> None:
        schema_json = json.dumps(config.schema.to_json(), separators=(",", ":"))
        d = config.domain
        key = (_u64(config.project), config.config)

        def job(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT schema_json FROM projects WHERE project = ? AND config = ?", key).fetchone()
            if row is not None and row[0] != schema_json:
                raise StoreError(
                    f"project {config.project} config {config.config} already has another schema; "
                    "a new schema needs a new config version",
                    code="schema_conflict",
                )
            values = (d.name, d.version, str(d.chain_id), d.verifying_contract, *key)
            if row is None:
                conn.execute(
                    "INSERT INTO projects (domain_name, domain_version, chain_id, verifying_contract,"
                    " project, config, schema_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*values, schema_json),
                )
            else:
                conn.execute(
                    "UPDATE projects SET domain_name = ?, domain_version = ?, chain_id = ?,"
                    " verifying_contract = ? WHERE project = ? AND config = ?",
                    values,
                )

        self._write(job)

    def get_project(self, project: ProjectId, config: ConfigVersion) -> ProjectConfig | None:
        rows = self._read(
            "SELECT project, config, schema_json, domain_name, domain_version, chain_id, verifying_contract"
            " FROM projects WHERE project = ? AND config = ?",
            (_u64(project), config),
        )
        return _project_config(rows[0]) if rows else None

    def project_configs(self, project: ProjectId | None = None) -> list[ProjectConfig]:
        sql = (
            "SELECT project, config, schema_json, domain_name, domain_version, chain_id, verifying_contract"
            " FROM projects"
        )
        params: tuple[Any, ...] = ()
        if project is not None:
            sql += " WHERE project = ?"
            params = (_u64(project),)
        return [_project_config(row) for row in self._read(sql + " ORDER BY project, config", params)]

    def upsert_device(
        self, project: ProjectId, device: Address, owner: Address, key: tuple[int, int] | None = None
    ) -> None:
        bjj = None if key is None else "0x" + b"".join(c.to_bytes(32, "big") for c in key).hex()

        def job(conn: sqlite3.Connection) -> None:
            row = (_u64(project), _addr(device))
            if conn.execute("SELECT 1 FROM devices WHERE project = ? AND device = ?", row).fetchone():
                conn.execute(
                    "UPDATE devices SET owner = ?, bjj_key = COALESCE(?, bjj_key) WHERE project = ? AND device = ?",
                    (_addr(owner), bjj, *row),
                )
            else:
                conn.execute(
                    "INSERT INTO devices (project, device, owner, bjj_key) VALUES (?, ?, ?, ?)",
                    (*row, _addr(owner), bjj),
                )

        self._write(job)

    def device_key(self, project: ProjectId, device: Address) -> tuple[int, int] | None:
        rows = self._read(
            "SELECT bjj_key FROM devices WHERE project = ? AND device = ?", (_u64(project), _addr(device))
        )
        if not rows or rows[0][0] is None:
            return None
        raw = bytes.fromhex(str(rows[0][0])[2:])
        return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")

    def get_checkpoint(self, name: str) -> str | None:
        rows = self._read("SELECT value FROM checkpoints WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    def set_checkpoint(self, name: str, value: str) -> None:
        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO checkpoints (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

        self._write(job)

    def remove_device(self, project: ProjectId, device: Address) -> None:
        self._write(
            lambda conn: conn.execute(
                "DELETE FROM devices WHERE project = ? AND device = ?", (_u64(project), _addr(device))
            )
        )

    def deactivate_device(self, project: ProjectId, device: Address) -> None:
        self._write(
            lambda conn: conn.execute(
                "UPDATE devices SET deactivated = 1 WHERE project = ? AND device = ?", (_u64(project), _addr(device))
            )
        )

    def device_projects(self, device: Address) -> set[ProjectId]:
        rows = self._read("SELECT project FROM devices WHERE device = ? AND deactivated = 0", (_addr(device),))
        return {ProjectId(int(row[0])) for row in rows}

    # --- messages ---

    def put_message(self, message: DeviceMessage, message_id: MessageId, received_at: float) -> PutResult:
        body = to_body(message).decode()
        project, device, nonce = _u64(message.project), _addr(message.device), _u64(message.nonce)

        def job(conn: sqlite3.Connection) -> PutResult:
            if conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone():
                return PutResult(message_id, created=False)
            row = conn.execute(
                "SELECT id FROM messages WHERE project = ? AND device = ? AND nonce = ?",
                (project, device, nonce),
            ).fetchone()
            if row is not None:
                raise ConflictError(
                    f"device {message.device} already used nonce {message.nonce} in project "
                    f"{message.project} for message {row[0]}"
                )
            (batched_up_to,) = conn.execute(
                "SELECT MAX(last_nonce) FROM tasks WHERE project = ? AND device = ?", (project, device)
            ).fetchone()
            if batched_up_to is not None and nonce <= batched_up_to:
                # Tasks of a device cover increasing nonce ranges on chain: a late message below the last
                # batched nonce could never be proven, so it is refused now rather than stranded.
                raise ConflictError(
                    f"nonce {message.nonce} of device {message.device} is at or below nonce {int(batched_up_to)}, "
                    "which is already batched; ask GET /devices/{address} for the next nonce",
                    code="stale_nonce",
                )
            _check_device_order(conn, message, project, device, nonce)
            if not conn.execute(
                "SELECT 1 FROM projects WHERE project = ? AND config = ?", (project, message.config)
            ).fetchone():
                raise StoreError(
                    f"project {message.project} config {message.config} is not known to the store",
                    code="unknown_project",
                )
            conn.execute(
                "INSERT INTO messages (id, project, config, device, nonce, device_time, body, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    project,
                    message.config,
                    device,
                    nonce,
                    _u64(message.timestamp),
                    body,
                    received_at,
                ),
            )
            return PutResult(message_id, created=True)

        return self._write(job)

    def last_timestamp(self, project: ProjectId, device: Address) -> Timestamp | None:
        rows = self._read(
            "SELECT device_time FROM messages WHERE project = ? AND device = ? ORDER BY nonce DESC LIMIT 1",
            (_u64(project), _addr(device)),
        )
        return Timestamp(int(rows[0][0])) if rows else None

    def get_message(self, message_id: MessageId) -> StoredMessage | None:
        rows = self._read(f"SELECT {_MESSAGE_COLUMNS} {_MESSAGE_FROM} WHERE m.id = ?", (message_id,))
        return _stored_message(rows[0]) if rows else None

    def next_nonce(self, project: ProjectId, device: Address) -> Nonce:
        rows = self._read(
            "SELECT MAX(nonce) FROM messages WHERE project = ? AND device = ?", (_u64(project), _addr(device))
        )
        top = rows[0][0]
        return Nonce(0 if top is None else int(top) + 1)

    # --- tasks ---

    def unbatched_messages(self, project: ProjectId, limit: int | None = None) -> list[StoredMessage]:
        sql = f"SELECT {_MESSAGE_COLUMNS} {_MESSAGE_FROM} WHERE m.project = ? AND m.task_id IS NULL"
        sql += " ORDER BY m.device, m.nonce"
        params: tuple[Any, ...] = (_u64(project),)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [_stored_message(row) for row in self._read(sql, params)]

    def create_task(self, task: TaskRow, message_ids: Sequence[MessageId]) -> None:
        project, device = _u64(task.project), _addr(task.device)

        def job(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM tasks WHERE id = ?", (str(task.id),)).fetchone():
                raise StoreError(f"task {task.id} already exists", code="task_conflict")
            conn.execute(
                f"INSERT INTO tasks ({_TASK_COLUMNS}) VALUES ({', '.join('?' * 19)})",
                _task_values(task),
            )
            for leaf_index, message_id in enumerate(message_ids):
                cursor = conn.execute(
                    "UPDATE messages SET task_id = ?, leaf_index = ?"
                    " WHERE id = ? AND task_id IS NULL AND project = ? AND device = ?",
                    (str(task.id), leaf_index, message_id, project, device),
                )
                if cursor.rowcount != 1:
                    raise StoreError(
                        f"message {message_id} is unknown, already in a task, or not of project "
                        f"{task.project} device {task.device}",
                        code="task_conflict",
                    )

        self._write(job)
        logger.info(
            "task created task_id=%d project=%d device=%s messages=%d",
            task.id,
            task.project,
            task.device,
            len(message_ids),
        )

    def get_task(self, task_id: TaskId) -> TaskRow | None:
        rows = self._read(f"SELECT {_TASK_COLUMNS} FROM tasks WHERE id = ?", (str(task_id),))
        return _task_row(rows[0]) if rows else None

    def previous_task(self, project: ProjectId, device: Address, first_nonce: Nonce) -> TaskRow | None:
        rows = self._read(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE project = ? AND device = ? AND first_nonce < ? "
            "ORDER BY first_nonce DESC LIMIT 1",
            (_u64(project), _addr(device), _u64(first_nonce)),
        )
        return _task_row(rows[0]) if rows else None

    def tasks_with_status(self, *statuses: TaskStatus) -> list[TaskRow]:
        if not statuses:
            return []
        marks = ", ".join("?" * len(statuses))
        rows = self._read(
            f"SELECT {_TASK_COLUMNS} FROM tasks WHERE status IN ({marks}) ORDER BY created_at, id",
            [TaskStatus(s).value for s in statuses],
        )
        return [_task_row(row) for row in rows]

    def update_task(
        self,
        task_id: TaskId,
        status: TaskStatus | None = None,
        *,
        expect: TaskStatus | None = None,
        **fields: Any,
    ) -> TaskRow:
        unknown = set(fields) - TASK_UPDATE_FIELDS
        if unknown:
            raise ValueError(f"update_task cannot set {sorted(unknown)}; allowed: {sorted(TASK_UPDATE_FIELDS)}")
        sets: dict[str, Any] = {
            name: json.dumps(value) if name in _JSON_FIELDS and value is not None else value
            for name, value in fields.items()
        }
        if status is not None:
            sets["status"] = TaskStatus(status).value
        sets["updated_at"] = time.time()

        def job(conn: sqlite3.Connection) -> TaskRow:
            row = conn.execute("SELECT status FROM tasks WHERE id = ?", (str(task_id),)).fetchone()
            if row is None:
                raise StoreError(f"task {task_id} is unknown", code="unknown_task")
            current = TaskStatus(row[0])
            if expect is not None and current is not TaskStatus(expect):
                raise StaleTaskError(f"task {task_id} is {current}, not {expect}")
            if status is not None and TaskStatus(status) is not current:
                try:
                    check_transition(current, TaskStatus(status))
                except InvalidTransitionError as exc:
                    raise StaleTaskError(f"task {task_id}: {exc}") from exc
            assignments = ", ".join(f"{name} = ?" for name in sets)
            conn.execute(f"UPDATE tasks SET {assignments} WHERE id = ?", (*sets.values(), str(task_id)))
            return _task_row(
                conn.execute(f"SELECT {_TASK_COLUMNS} FROM tasks WHERE id = ?", (str(task_id),)).fetchone()
            )

        updated = self._write(job)
        logger.info("task updated task_id=%d status=%s fields=%s", task_id, updated.status, ",".join(sorted(fields)))
        return updated

    def task_messages(self, task_id: TaskId) -> list[StoredMessage]:
        rows = self._read(
            f"SELECT {_MESSAGE_COLUMNS} {_MESSAGE_FROM} WHERE m.task_id = ? ORDER BY m.leaf_index",
            (str(task_id),),
        )
        return [_stored_message(row) for row in rows]

    # --- attestations ---

    def put_attestation(self, attestation: StoredAttestation) -> bool:
        row = _attestation_values(attestation)

        def job(conn: sqlite3.Connection) -> bool:
            existing = conn.execute(
                f"SELECT {_ATTESTATION_COLUMNS} FROM attestations WHERE task_id = ? AND attester = ?", row[:2]
            ).fetchone()
            if existing is not None:
                if tuple(existing[:5]) != row[:5]:
                    raise ConflictError(
                        f"attester {attestation.attester} already signed another result for task {attestation.task_id}",
                        code="attestation_conflict",
                    )
                return False
            if not conn.execute("SELECT 1 FROM tasks WHERE id = ?", (row[0],)).fetchone():
                raise StoreError(f"task {attestation.task_id} is unknown", code="unknown_task")
            conn.execute(
                f"INSERT INTO attestations ({_ATTESTATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
            return True

        created = self._write(job)
        if created:
            logger.info("attestation stored task_id=%d attester=%s", attestation.task_id, attestation.attester)
        return created

    def attestations(self, task_id: TaskId) -> list[StoredAttestation]:
        rows = self._read(
            f"SELECT {_ATTESTATION_COLUMNS} FROM attestations WHERE task_id = ? ORDER BY attester",
            (str(task_id),),
        )
        return [_attestation(row) for row in rows]


def _check_device_order(
    conn: sqlite3.Connection, message: DeviceMessage, project: str, device: str, nonce: str
) -> None:
    """Refuse a message that does not fit between the device's stored neighbours in nonce order: its timestamp must
    lie strictly between theirs (ConflictError ``stale_timestamp``) and its config version between theirs
    (``stale_config``): nonce order, timestamp order and config order of a device always agree.

    Stored messages already agree, so the nearest lower and the nearest higher nonce are the only ones to check;
    for a message above every stored nonce (the usual case) that is the device's latest message alone. The config
    rule is the sequencer's cost guard: a task never holds two versions, so a device that alternated between two
    live versions would turn every message into a task of its own."""
    below = conn.execute(
        "SELECT nonce, device_time, config FROM messages WHERE project = ? AND device = ? AND nonce < ?"
        " ORDER BY nonce DESC LIMIT 1",
        (project, device, nonce),
    ).fetchone()
    if below is not None and message.timestamp <= int(below[1]):
        raise ConflictError(
            f"timestamp {message.timestamp} of device {message.device} nonce {message.nonce} is not above "
            f"timestamp {int(below[1])} of its nonce {int(below[0])}: timestamps must strictly increase with the "
            "nonce (GET /devices/{address} returns last_timestamp)",
            code="stale_timestamp",
        )
    if below is not None and message.config < int(below[2]):
        raise ConflictError(
            f"config version {message.config} of device {message.device} nonce {message.nonce} is below version "
            f"{int(below[2])} of its nonce {int(below[0])}: a device never goes back to an older config version",
            code="stale_config",
        )
    above = conn.execute(
        "SELECT nonce, device_time, config FROM messages WHERE project = ? AND device = ? AND nonce > ?"
        " ORDER BY nonce ASC LIMIT 1",
        (project, device, nonce),
    ).fetchone()
    if above is not None and message.timestamp >= int(above[1]):
        raise ConflictError(
            f"timestamp {message.timestamp} of device {message.device} nonce {message.nonce} is not below "
            f"timestamp {int(above[1])} of its later nonce {int(above[0])}: timestamps must strictly increase with "
            "the nonce",
            code="stale_timestamp",
        )
    if above is not None and message.config > int(above[2]):
        raise ConflictError(
            f"config version {message.config} of device {message.device} nonce {message.nonce} is above version "
            f"{int(above[2])} of its later nonce {int(above[0])}: config versions never decrease with the nonce",
            code="stale_config",
        )


# --- row mapping --------------------------------------------------------------------------------------------


def _project_config(row: Sequence[Any]) -> ProjectConfig:
    project, config, schema_json, name, version, chain_id, contract = row
    return ProjectConfig(
        project=ProjectId(int(project)),
        config=ConfigVersion(config),
        schema=_schema(schema_json),
        domain=Domain(chain_id=int(chain_id), verifying_contract=Address(contract), name=name, version=version),
    )


def _stored_message(row: Sequence[Any]) -> StoredMessage:
    message_id, body, received_at, task_id, leaf_index, schema_json, task_status, reason, root, route_tx = row
    schema = _schema(schema_json)
    try:
        message = parse_body(body.encode(), lambda _project, _config: schema)
    except MessageError as exc:  # only a corrupted row can get here: it was canonical when written
        raise StoreError(f"stored message {message_id} does not parse: {exc}") from exc
    status: MessageStatus = RECEIVED if task_status is None else TaskStatus(task_status)
    return StoredMessage(
        id=MessageId(message_id),
        message=message,
        received_at=received_at,
        status=status,
        task_id=None if task_id is None else TaskId(int(task_id)),
        leaf_index=leaf_index,
        root=None if root is None else int(root),
        reason=reason,
        tx_hash=route_tx,
    )


def _attestation_values(a: StoredAttestation) -> tuple[Any, ...]:
    return (
        str(a.task_id),
        _addr(a.attester),
        "0x" + a.result.hex(),
        json.dumps([str(x) for x in a.outputs]),
        "0x" + a.signature.hex(),
        a.created_at,
    )


def _attestation(row: Sequence[Any]) -> StoredAttestation:
    task_id, attester, result, outputs, signature, created_at = row
    return StoredAttestation(
        task_id=TaskId(int(task_id)),
        attester=Address(to_checksum_address(attester)),
        result=bytes.fromhex(result[2:]),
        outputs=tuple(int(x) for x in json.loads(outputs)),
        signature=bytes.fromhex(signature[2:]),
        created_at=created_at,
    )


def _task_values(task: TaskRow) -> tuple[Any, ...]:
    return (
        str(task.id),
        _u64(task.project),
        task.config,
        _addr(task.device),
        _u64(task.first_nonce),
        _u64(task.last_nonce),
        str(task.root),
        task.created_at,
        TaskStatus(task.status).value,
        task.reason,
        None if task.outputs is None else json.dumps(task.outputs),
        None if task.proof is None else json.dumps(task.proof),
        task.assign_tx,
        task.route_tx,
        task.gas_assign,
        task.gas_route,
        task.constraints,
        task.prove_seconds,
        task.created_at if task.updated_at is None else task.updated_at,
    )


def _task_row(row: Sequence[Any]) -> TaskRow:
    (
        task_id,
        project,
        config,
        device,
        first_nonce,
        last_nonce,
        root,
        created_at,
        status,
        reason,
        outputs,
        proof,
        assign_tx,
        route_tx,
        gas_assign,
        gas_route,
        constraints,
        prove_seconds,
        updated_at,
    ) = row
    return TaskRow(
        id=TaskId(int(task_id)),
        project=ProjectId(int(project)),
        config=ConfigVersion(config),
        device=Address(to_checksum_address(device)),
        first_nonce=Nonce(int(first_nonce)),
        last_nonce=Nonce(int(last_nonce)),
        root=int(root),
        created_at=created_at,
        status=TaskStatus(status),
        reason=reason,
        outputs=None if outputs is None else json.loads(outputs),
        proof=None if proof is None else json.loads(proof),
        assign_tx=assign_tx,
        route_tx=route_tx,
        gas_assign=gas_assign,
        gas_route=gas_route,
        constraints=constraints,
        prove_seconds=prove_seconds,
        updated_at=updated_at,
    )
