"""The seam between the shared queries and an adapter's database: what a query runs on, and the two places where
adapters lock differently.

A query job receives a :class:`Connection` inside the adapter's write transaction and runs ``?``-placeholder SQL
on it; reads go through ``_read``. The admission rules of ``Store.put_message`` need one lock per device held
from the first check to the commit, and a claim (``update_task`` with ``expect``) needs the task row: SQLite
gets both from its database-wide write lock (``BEGIN IMMEDIATE``), a server database takes them per device and
per row (``store.postgres``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, Self, TypeVar

__all__ = ["Connection", "Cursor", "DeviceKey", "SqlEngine"]

T = TypeVar("T")

DeviceKey = tuple[str, str]
"""A device's (project, device) as its columns hold them (``rows.u64``, ``rows.addr``)."""


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What a query job may do inside a write transaction: run SQL with ``?`` placeholders."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...


class SqlEngine(ABC):
    """An adapter's database, as the shared query classes use it."""

    @abstractmethod
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one query outside any write transaction; StoreError on failure."""

    @abstractmethod
    def _write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` inside one write transaction; return once it is durably committed (StoreError otherwise,
        and nothing of ``fn`` is kept)."""

    @abstractmethod
    def _lock_devices(self, conn: Connection, devices: Iterable[DeviceKey]) -> None:
        """Hold the admission lock of each device until the transaction ends, before anything about it is read."""

    def _task_status(self, conn: Connection, task_id: str, *, claim: bool) -> str | None:
        """The task's status, read for an update in this transaction (None: no such task). ``claim``: the update
        is conditional (``expect``), so an adapter may refuse it at once (StaleTaskError) while another writer
        holds the task instead of waiting for it."""
        row = conn.execute("SELECT status FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def schema_version(self) -> int:
        """The newest migration applied (``store.sql.schema``)."""
        return int(self._read("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0])

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
