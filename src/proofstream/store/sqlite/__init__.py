"""SQLite adapter of the store port: the embedded default, zero setup.

One module per seam: ``engine`` (the writer thread, group commit and durability), ``migrate`` (the bundled SQL
migrations), ``rows`` (how domain values lie in columns), and the queries by concern: ``projects`` (projects,
devices, checkpoints), ``messages``, ``tasks``, ``attestations``.
"""

from __future__ import annotations

from proofstream.store.sqlite.attestations import AttestationQueries
from proofstream.store.sqlite.messages import MessageQueries
from proofstream.store.sqlite.projects import ProjectQueries
from proofstream.store.sqlite.tasks import TaskQueries

__all__ = ["SqliteStore"]


class SqliteStore(ProjectQueries, MessageQueries, TaskQueries, AttestationQueries):
    """The store in one SQLite file. Thread-safe; use as a context manager or call :meth:`close`.

    Every query class shares one :class:`~proofstream.store.sqlite.engine.SqliteEngine` (this object): one writer
    thread, one reader connection per calling thread."""
