"""The SQLite store's schema migrations: the bundled ``migrations/NNNN_name.sql`` files, applied in order once.

The files are plain SQL that PostgreSQL also accepts (0001_init.sql says how values are laid out), so a later
PostgreSQL adapter can apply the same ones.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from proofstream import logs as log
from proofstream.errors import StoreError

__all__ = ["MIGRATIONS_PACKAGE", "apply_migrations", "migrations"]

logger = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "proofstream.store"
"""Migrations live in ``<package>/migrations/NNNN_name.sql`` and are applied in NNNN order."""

_MIGRATION_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


def migrations() -> list[tuple[int, str, str]]:
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


def apply_migrations(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the database behind ``conn`` (an autocommit connection) to the newest schema, in one transaction;
    StoreError when it is newer than this proofstream."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    bundled = migrations()
    # BEGIN IMMEDIATE takes the write lock first: two processes opening a new file migrate one at a time.
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        if current > len(bundled):
            raise StoreError(
                f"the store at {path} has schema version {current}, newer than this proofstream "
                f"({len(bundled)}): upgrade proofstream"
            )
        for version, name, sql in bundled[current:]:
            for statement in _statements(sql):
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
