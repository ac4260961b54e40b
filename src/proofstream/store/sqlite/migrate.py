"""The SQLite store's schema migrations: the bundled ``migrations/NNNN_name.sql`` files (``store.sql.schema``),
applied in order once.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

from proofstream import logs as log
from proofstream.store.sql.schema import pending, statements

__all__ = ["apply_migrations"]

logger = logging.getLogger(__name__)


def apply_migrations(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the database behind ``conn`` (an autocommit connection) to the newest schema, in one transaction;
    StoreError when it is newer than this proofstream."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    # BEGIN IMMEDIATE takes the write lock first: two processes opening a new file migrate one at a time.
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        for version, name, sql in pending(current, path):
            for statement in statements(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, time.time()),
            )
            log.info(logger, "store migrated", path=path, version=version, name=name)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
