"""The store's messages: admission rules checked in the write (nonce, timestamp and config order per
device), and the reads the gateway and the sequencer make."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from proofstream.domain.messages import DeviceMessage, to_body
from proofstream.domain.types import Address, MessageId, Nonce, ProjectId, Timestamp
from proofstream.errors import ConflictError, StoreError
from proofstream.store.ports import NewMessage, PutOutcome, PutResult, StoredMessage
from proofstream.store.sql.engine import Connection, DeviceKey, SqlEngine
from proofstream.store.sql.rows import MESSAGE_COLUMNS, MESSAGE_FROM, addr, stored_message, u64

__all__ = ["MessageQueries"]


class MessageQueries(SqlEngine):
    def put_message(self, message: DeviceMessage, message_id: MessageId, received_at: float) -> PutResult:
        body = to_body(message).decode()

        def job(conn: Connection) -> PutResult:
            self._lock_devices(conn, [device_key(message)])
            return _insert_message(conn, message, message_id, body, received_at)

        return self._write(job)

    def put_messages(self, items: Sequence[NewMessage], received_at: float) -> list[PutOutcome]:
        if not items:
            return []
        bodies = [to_body(item.message).decode() for item in items]

        def job(conn: Connection) -> list[PutOutcome]:
            # Every device of the request at once, in one order for every writer: two requests that share
            # devices never wait on each other's locks in a cycle.
            self._lock_devices(conn, sorted({device_key(item.message) for item in items}))
            outcomes: list[PutOutcome] = []
            for item, body in zip(items, bodies, strict=True):
                # Its own savepoint inside the request's transaction: a refused item leaves nothing behind, and
                # the items after it see exactly what the items before it wrote.
                conn.execute("SAVEPOINT item")
                try:
                    outcomes.append(_insert_message(conn, item.message, item.id, body, received_at, item.envelope))
                except StoreError as exc:
                    conn.execute("ROLLBACK TO item")
                    outcomes.append(exc)
                finally:
                    conn.execute("RELEASE item")
            return outcomes

        return self._write(job)

    def last_timestamp(self, project: ProjectId, device: Address) -> Timestamp | None:
        rows = self._read(
            "SELECT device_time FROM messages WHERE project = ? AND device = ? ORDER BY nonce DESC LIMIT 1",
            (u64(project), addr(device)),
        )
        return Timestamp(int(rows[0][0])) if rows else None

    def get_message(self, message_id: MessageId) -> StoredMessage | None:
        rows = self._read(f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM} WHERE m.id = ?", (message_id,))
        return stored_message(rows[0]) if rows else None

    def next_nonce(self, project: ProjectId, device: Address) -> Nonce:
        rows = self._read(
            "SELECT MAX(nonce) FROM messages WHERE project = ? AND device = ?", (u64(project), addr(device))
        )
        top = rows[0][0]
        return Nonce(0 if top is None else int(top) + 1)

    def unbatched_messages(self, project: ProjectId, limit: int | None = None) -> list[StoredMessage]:
        sql = f"SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM} WHERE m.project = ? AND m.task_id IS NULL"
        sql += " ORDER BY m.device, m.nonce"
        params: tuple[Any, ...] = (u64(project),)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [stored_message(row) for row in self._read(sql, params)]


def device_key(message: DeviceMessage) -> DeviceKey:
    """The message's device as the admission lock names it."""
    return u64(message.project), addr(message.device)


def _neighbour(column: str, side: str) -> str:
    order = "DESC" if side == "<" else "ASC"
    return (
        f"(SELECT {column} FROM messages WHERE project = d.project AND device = d.device AND nonce {side} d.nonce"
        f" ORDER BY nonce {order} LIMIT 1)"
    )


_ADMISSION_READS = (
    "SELECT (SELECT 1 FROM messages WHERE id = d.id),"
    " (SELECT id FROM messages WHERE project = d.project AND device = d.device AND nonce = d.nonce),"
    " (SELECT MAX(last_nonce) FROM tasks WHERE project = d.project AND device = d.device),"
    " (SELECT 1 FROM projects WHERE project = d.project AND config = d.config), "
    + ", ".join(_neighbour(c, side) for side in ("<", ">") for c in ("nonce", "device_time", "config"))
    + " FROM (SELECT ? AS id, ? AS project, ? AS device, ? AS nonce, ? AS config) AS d"
)
"""What :func:`_insert_message` checks a message against, given (id, project, device, nonce, config):
whether the id is stored, the message holding the (project, device, nonce), the device's highest batched nonce,
whether the config is known, then (nonce, device_time, config) of the nearest stored nonce below and above."""


def _check_device_order(message: DeviceMessage, below: Sequence[Any] | None, above: Sequence[Any] | None) -> None:
    """Refuse a message that does not fit between the device's stored neighbours in nonce order (``below`` and
    ``above``: the (nonce, device_time, config) of the nearest lower and higher stored nonce, None where there is
    none): its timestamp must lie strictly between theirs (ConflictError ``stale_timestamp``) and its config
    version between theirs (``stale_config``): nonce order, timestamp order and config order of a device always
    agree.

    Stored messages already agree, so the nearest lower and the nearest higher nonce are the only ones to check;
    for a message above every stored nonce (the usual case) that is the device's latest message alone. The config
    rule is the sequencer's cost guard: a task never holds two versions, so a device that alternated between two
    live versions would turn every message into a task of its own."""
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


def _insert_message(
    conn: Connection,
    message: DeviceMessage,
    message_id: MessageId,
    body: str,
    received_at: float,
    envelope: str | None = None,
) -> PutResult:
    """The store's admission rules (Store.put_message), checked and applied inside the writer's transaction.

    That transaction holds the device's admission lock (``SqlEngine._lock_devices``: SQLite's database write lock,
    taken by ``BEGIN IMMEDIATE``; PostgreSQL's per-device advisory lock), which every writer of every process takes
    before reading the device's rows, so what these SELECTs see cannot change before the INSERT commits. The
    unique index on (project, device, nonce) backs the nonce rule should anything write around this function."""
    project, device, nonce = u64(message.project), addr(message.device), u64(message.nonce)
    # Everything the rules read, in one query (one round trip to a server database instead of six).
    found = conn.execute(_ADMISSION_READS, (message_id, project, device, nonce, message.config)).fetchone()
    duplicate, used_by, batched_up_to, known_config = found[:4]
    if duplicate is not None:
        return PutResult(message_id, created=False)
    if used_by is not None:
        raise ConflictError(
            f"device {message.device} already used nonce {message.nonce} in project "
            f"{message.project} for message {used_by}"
        )
    if batched_up_to is not None and nonce <= batched_up_to:
        # Tasks of a device cover increasing nonce ranges on chain: a late message below the last
        # batched nonce could never be proven, so it is refused now rather than stranded.
        raise ConflictError(
            f"nonce {message.nonce} of device {message.device} is at or below nonce {int(batched_up_to)}, "
            "which is already batched; ask GET /devices/{address} for the next nonce",
            code="stale_nonce",
        )
    below, above = found[4:7], found[7:10]
    _check_device_order(message, below if below[0] is not None else None, above if above[0] is not None else None)
    if known_config is None:
        raise StoreError(
            f"project {message.project} config {message.config} is not known to the store",
            code="unknown_project",
        )
    conn.execute(
        "INSERT INTO messages (id, project, config, device, nonce, device_time, body, received_at, envelope)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (message_id, project, message.config, device, nonce, u64(message.timestamp), body, received_at, envelope),
    )
    return PutResult(message_id, created=True)
