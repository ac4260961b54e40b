"""The PostgreSQL store's schema migrations: the bundled ``migrations/NNNN_name.sql`` files (``store.sql.schema``),
applied in order once, each in the same transaction as its ``schema_version`` row.

The files name column types as SQLite does; here ``INTEGER`` becomes ``BIGINT`` (a config version is a uint32,
past PostgreSQL's 32-bit ``INTEGER``) and ``REAL`` becomes ``DOUBLE PRECISION`` (PostgreSQL's ``REAL`` is 4 bytes:
a unix time in it would be off by minutes). Stores opening at once migrate one at a time (an advisory lock).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import psycopg
from psycopg import sql

from proofstream import logs as log
from proofstream.store.sql.schema import pending, statements

__all__ = ["MIGRATION_LOCK", "apply_migrations", "postgres_sql"]

logger = logging.getLogger(__name__)

MIGRATION_LOCK = 0x70735F6D6967
"""The advisory lock (ASCII "ps_mig") every proofstream store holds while it migrates, in any schema."""

_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION"}
_TYPE_NAME = re.compile(r"\b(INTEGER|REAL)\b")


def postgres_sql(statement: str) -> str:
    """A migration statement with SQLite's type names widened to PostgreSQL's (comments are left out)."""
    lines = [line for line in statement.splitlines() if not line.lstrip().startswith("--")]
    return _TYPE_NAME.sub(lambda m: _TYPES[m.group(1)], "\n".join(lines))


def apply_migrations(conn: psycopg.Connection[tuple[Any, ...]], schema: str | None, where: str) -> int:
    """Bring ``schema`` (created when missing; None: the connection's search_path) to the newest schema version in
    one transaction, and return that version; StoreError when it is newer than this proofstream. ``conn`` is an
    autocommit connection; ``where`` names the database in messages."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        if schema is not None:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
        )
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        current = int(row[0]) if row else 0
        todo = pending(current, where)
        for version, name, script in todo:
            for statement in statements(script):
                conn.execute(postgres_sql(statement).encode())
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s)",
                (version, name, time.time()),
            )
            log.info(logger, "store migrated", path=where, version=version, name=name)
    return current + len(todo)
