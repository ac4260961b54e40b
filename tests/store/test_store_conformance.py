"""The store conformance suite (store_conformance.py) on every Store adapter: SQLite in a temporary file, and
PostgreSQL on the real server (pg_server.py), each test in schemas of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pg_server import pg_schemas
from store_conformance import Adapter, StoreConformance

from proofstream.store.ports import Store
from proofstream.store.sqlite import SqliteStore

ADAPTERS = ("postgres", "sqlite")
"""Every Store adapter, by name (the test id): each runs the whole suite."""


def _sqlite(place: Path) -> Store:
    return SqliteStore(place / "store.db")


@contextmanager
def open_adapter(name: str) -> Iterator[Adapter]:
    """The adapter called ``name`` (one of ADAPTERS), with what it needs (PostgreSQL: its schemas) for the while."""
    if name == "sqlite":
        yield _sqlite
        return
    with pg_schemas() as schemas:
        yield schemas.store


class TestStoreConformance(StoreConformance):
    @pytest.fixture(params=ADAPTERS)
    def adapter(self, request: pytest.FixtureRequest) -> Iterator[Adapter]:
        with open_adapter(request.param) as adapter:
            yield adapter
