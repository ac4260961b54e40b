"""The real PostgreSQL server for the PostgreSQL store's tests: 127.0.0.1:5432, trust auth, database ``test`` (as
on these machines and in CI). Each test keeps its tables in schemas of its own, uniquely named and dropped at
its end, so parallel pytest workers and sessions never meet. Nothing here fakes a server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from proofstream.store.ports import Store
from proofstream.store.postgres import PostgresStore

PG_HOST, PG_PORT, PG_DATABASE = "127.0.0.1", 5432, "test"
PG_URL = f"postgresql://{PG_HOST}:{PG_PORT}/{PG_DATABASE}"
"""No user: libpq takes the login name (PGUSER), as trust auth lets it."""


def postgres_url() -> str:
    """The test server's URL, or a skip that says it is missing (a failure in CI, where it must run). Only an
    absent server skips: one that answers but refuses (no such database or role) fails the test."""
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "Connection refused" in text or "timeout expired" in text:
            pytest.skip(
                f"no PostgreSQL on {PG_HOST}:{PG_PORT} (start one with database {PG_DATABASE!r} and trust auth, "
                "e.g. apt-get install postgresql, to run the PostgreSQL store tests)"
            )
        raise
    return PG_URL


class PgSchemas:
    """Uniquely named schemas of the test database, handed out by :meth:`new`; :meth:`drop` drops them all with
    everything in them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._names: list[str] = []
        self._by_place: dict[Path, str] = {}

    def new(self) -> str:
        name = f"ps_test_{uuid.uuid4().hex[:20]}"
        self._names.append(name)
        return name

    def store(self, place: Path) -> Store:
        """The conformance suite's adapter: one schema per place, the same place again the same schema."""
        if place not in self._by_place:
            self._by_place[place] = self.new()
        return PostgresStore(self.url, schema=self._by_place[place], pool_size=8)

    def drop(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            for name in self._names:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
        self._names.clear()
        self._by_place.clear()


@contextmanager
def pg_schemas() -> Iterator[PgSchemas]:
    """Schemas on the test server (or a skip where there is none), dropped on the way out."""
    schemas = PgSchemas(postgres_url())
    try:
        yield schemas
    finally:
        schemas.drop()
