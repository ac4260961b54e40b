"""Fixtures shared by the whole suite (the constants they use are in tests/plugins/testbed.py). A module that needs
more in its store overrides ``store`` with a fixture of the same name that takes this one and adds to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from testbed import TRACKER, RecordingRegistrar

from proofstream.store.sqlite import SqliteStore


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A new SQLite store in the test's temporary directory, closed after the test."""
    with SqliteStore(tmp_path / "store.db") as opened:
        yield opened


@pytest.fixture
def store(empty_store: SqliteStore) -> SqliteStore:
    """A new SQLite store that knows the tracker project (project 1, config version 1) and no device."""
    empty_store.upsert_project(TRACKER)
    return empty_store


@pytest.fixture
def registrar() -> RecordingRegistrar:
    """A registrar that records what the gateway asks it to register."""
    return RecordingRegistrar()
