"""SQLite adapter of the store port: the embedded default, zero setup.

``engine`` (the writer thread, group commit and durability) and ``migrate`` (the bundled SQL migrations) are
SQLite's own; the queries are the shared ones of ``store.sql``.
"""

from __future__ import annotations

from proofstream.store.sql.attestations import AttestationQueries
from proofstream.store.sql.messages import MessageQueries
from proofstream.store.sql.projects import ProjectQueries
from proofstream.store.sql.tasks import TaskQueries
from proofstream.store.sqlite.engine import SqliteEngine

__all__ = ["SqliteStore"]


class SqliteStore(ProjectQueries, MessageQueries, TaskQueries, AttestationQueries, SqliteEngine):
    """The store in one SQLite file. Thread-safe; use as a context manager or call :meth:`close`.

    Every query class shares one :class:`~proofstream.store.sqlite.engine.SqliteEngine` (this object): one writer
    thread, one reader connection per calling thread."""
