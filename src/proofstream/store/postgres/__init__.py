"""PostgreSQL adapter of the store port: one database shared by many gateways, provers and nodes.

``engine`` (a connection pool, one transaction per write, the per-device admission lock and the task claim) and
``migrate`` (the bundled SQL migrations, widened to PostgreSQL's types) are PostgreSQL's own; the queries are the
shared ones of ``store.sql``, so both adapters enforce the same rules with the same SQL.
"""

from __future__ import annotations

from proofstream.store.postgres.engine import PostgresEngine
from proofstream.store.sql.attestations import AttestationQueries
from proofstream.store.sql.messages import MessageQueries
from proofstream.store.sql.projects import ProjectQueries
from proofstream.store.sql.tasks import TaskQueries

__all__ = ["PostgresStore"]


class PostgresStore(ProjectQueries, MessageQueries, TaskQueries, AttestationQueries, PostgresEngine):
    """The store in a PostgreSQL database (in one schema of it). Thread-safe and safe across processes; use as a
    context manager or call :meth:`close`."""
