"""Store.put_messages on every adapter of the conformance runner: the rules of put_message, item by item in order,
one commit for the whole call."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from store_conformance import KEYS, OTHER_PROJECT, Adapter, new_task, signed
from test_store_conformance import ADAPTERS, open_adapter
from testbed import TRACKER, TRACKER_SCHEMA

from proofstream.domain.types import ConfigVersion, ProjectId
from proofstream.errors import ConflictError, StoreError
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import NewMessage, ProjectConfig, PutResult, Store
from proofstream.store.sqlite import SqliteStore


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> Iterator[Adapter]:
    with open_adapter(request.param) as adapter:
        yield adapter


@pytest.fixture
def store(adapter: Adapter, tmp_path: Path) -> Iterator[Store]:
    store = adapter(tmp_path)
    store.upsert_project(TRACKER)
    store.upsert_project(OTHER_PROJECT)
    yield store
    store.close()


def item(key: DeviceKey, nonce: int, **kwargs: Any) -> NewMessage:
    return NewMessage(*signed(key, nonce, **kwargs))


def codes(outcomes: list[PutResult | StoreError]) -> list[str]:
    """``created``, ``resent`` or the error code of each outcome."""
    return [o.code if isinstance(o, StoreError) else ("created" if o.created else "resent") for o in outcomes]


def test_every_item_is_admitted_in_order_by_the_single_rules(store: Store) -> None:
    stored_before = item(KEYS[0], 5, timestamp=500)
    assert store.put_message(stored_before.message, stored_before.id, 1.0).created
    unknown = ProjectConfig(ProjectId(7), ConfigVersion(1), TRACKER_SCHEMA, TRACKER.domain)
    items = [
        item(KEYS[0], 6, timestamp=600),  # created
        stored_before,  # the very same message again: resent, never refused
        item(KEYS[0], 6, timestamp=600, lat=9),  # nonce 6 was taken by the first item of this call
        item(KEYS[0], 7, timestamp=550),  # below the timestamp of nonce 6, stored by this call
        item(KEYS[0], 3, timestamp=10),  # fills a gap below 5: fine
        item(KEYS[1], 0, timestamp=1),  # another device
        item(KEYS[0], 9, project=unknown),
        item(KEYS[0], 8, timestamp=800),  # the refusals before it stop nothing
        item(KEYS[0], 8, timestamp=800),  # an item repeated within the call
    ]
    outcomes = store.put_messages(items, 2.5)
    assert codes(outcomes) == [
        "created",
        "resent",
        "nonce_conflict",
        "stale_timestamp",
        "created",
        "created",
        "unknown_project",
        "created",
        "resent",
    ]
    assert isinstance(outcomes[2], ConflictError) and isinstance(outcomes[3], ConflictError)
    for outcome, sent in zip(outcomes, items, strict=True):
        assert isinstance(outcome, StoreError) or outcome.message_id == sent.id
        assert (store.get_message(sent.id) is not None) == (not isinstance(outcome, StoreError))
    nonces = [m.message.nonce for m in store.unbatched_messages(TRACKER.project) if m.message.device == KEYS[0].address]
    assert nonces == [3, 5, 6, 8]
    created = store.get_message(items[0].id)
    assert created is not None and created.received_at == 2.5
    resent = store.get_message(stored_before.id)
    assert resent is not None and resent.received_at == 1.0


def test_config_order_and_batched_nonces_hold_within_a_call(store: Store) -> None:
    v2 = ProjectConfig(ProjectId(1), ConfigVersion(2), TRACKER_SCHEMA, TRACKER.domain)
    store.upsert_project(v2)
    first = item(KEYS[0], 0, timestamp=100)
    assert codes(store.put_messages([first], 1.0)) == ["created"]
    store.create_task(new_task(KEYS[0], 0, 0), [first.id])
    outcomes = store.put_messages(
        [
            item(KEYS[0], 0, timestamp=100, lat=5),  # taken and batched
            item(KEYS[0], 1, timestamp=200, project=v2),
            item(KEYS[0], 2, timestamp=300),  # back to v1 after this call's v2
        ],
        2.0,
    )
    assert codes(outcomes) == ["nonce_conflict", "created", "stale_config"]


def test_an_empty_call_writes_nothing(store: Store) -> None:
    assert store.put_messages([], 1.0) == []
    assert store.unbatched_messages(TRACKER.project) == []


def test_one_commit_covers_the_whole_call(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "one.db") as store:
        store.upsert_project(TRACKER)
        items = [item(KEYS[i % 3], i // 3) for i in range(30)]
        before = store.commits
        assert codes(store.put_messages(items, 1.0)) == ["created"] * 30
        assert store.commits == before + 1
        assert len(store.unbatched_messages(TRACKER.project)) == 30


def test_a_failed_commit_stores_nothing_of_the_call(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with SqliteStore(path, busy_timeout_ms=100) as store:
        store.upsert_project(TRACKER)
        items = [item(KEYS[0], 0), item(KEYS[1], 0)]
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock past the busy timeout
        try:
            with pytest.raises(StoreError) as caught:
                store.put_messages(items, 1.0)
        finally:
            blocker.execute("COMMIT")
            blocker.close()
        assert not isinstance(caught.value, ConflictError)
        assert [store.get_message(i.id) for i in items] == [None, None]
        assert codes(store.put_messages(items, 2.0)) == ["created", "created"]  # nothing half-stored to trip on
