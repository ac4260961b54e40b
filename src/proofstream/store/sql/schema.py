"""The bundled schema migrations, ``proofstream/store/migrations/NNNN_name.sql``, shared by both adapters.

Each file is plain SQL that SQLite and PostgreSQL both accept (0001_init.sql says how values are laid out), with
column types named as SQLite names them; ``store.postgres.migrate`` widens ``INTEGER`` and ``REAL`` to PostgreSQL's
64-bit ``BIGINT`` and ``DOUBLE PRECISION``. Every adapter records what it applied in its ``schema_version`` table.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from importlib import resources

from proofstream.errors import StoreError

__all__ = ["MIGRATIONS_PACKAGE", "migrations", "pending", "statements"]

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


def pending(current: int, where: object) -> list[tuple[int, str, str]]:
    """The bundled migrations a store at schema version ``current`` still needs, in order; StoreError when it is
    newer than this proofstream (``where`` names the store in the message)."""
    bundled = migrations()
    if current > len(bundled):
        raise StoreError(
            f"the store at {where} has schema version {current}, newer than this proofstream "
            f"({len(bundled)}): upgrade proofstream"
        )
    return bundled[current:]


def _is_blank(sql: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in sql.splitlines())


def statements(script: str) -> Iterator[str]:
    """Split a script into statements (sqlite3.complete_statement, a parser only, knows strings and comments)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if not _is_blank(buffer):
        raise StoreError(f"incomplete SQL statement at the end of a migration: {buffer[:80]!r}")
