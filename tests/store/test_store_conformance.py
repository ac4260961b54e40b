"""The store conformance suite (store_conformance.py) on every Store adapter."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_conformance import Adapter, StoreConformance

from proofstream.store.ports import Store
from proofstream.store.sqlite import SqliteStore


def _sqlite(place: Path) -> Store:
    return SqliteStore(place / "store.db")


ADAPTERS: dict[str, Adapter] = {"sqlite": _sqlite}
"""Every Store adapter, by name (the test id): each runs the whole suite."""


class TestStoreConformance(StoreConformance):
    @pytest.fixture(params=sorted(ADAPTERS))
    def adapter(self, request: pytest.FixtureRequest) -> Adapter:
        return ADAPTERS[request.param]
