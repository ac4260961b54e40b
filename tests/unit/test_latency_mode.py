"""The latency mode (``batching.mode = "latency"``): its settings, the policy's ``backlog_joins`` and the
sequencer holding back a device whose task is in flight."""

from __future__ import annotations

import json

import pytest
from chain_fakes import FakeBook
from testbed import DOMAIN, PROVER, TRACKER_SCHEMA

from proofstream.domain.batching import BatchPolicy, Pending, cut_batches
from proofstream.domain.messages import digest, message_id, parse_body
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, ProjectId, Timestamp
from proofstream.errors import ConfigError
from proofstream.sdk.device import DeviceKey
from proofstream.sequencer.service import Sequencer
from proofstream.settings import load_settings
from proofstream.store.ports import TaskUpdate
from proofstream.store.sqlite import SqliteStore

A = Address("0x00000000000000000000000000000000000000aa")


def test_latency_mode_settings() -> None:
    latency = load_settings(env={"PROOFSTREAM_BATCHING_MODE": "latency"})
    assert latency.batching.window(600) == 1
    assert latency.batching.grace == 0
    assert latency.poll_seconds == 0.1
    own_window = load_settings(env={"PROOFSTREAM_BATCHING_MODE": "latency", "PROOFSTREAM_BATCHING_WINDOW_SECONDS": "3"})
    assert own_window.batching.window(600) == 3
    default = load_settings(env={})
    assert (default.batching.window(600), default.batching.grace, default.poll_seconds) == (600, 5, 0.5)
    with pytest.raises(ConfigError, match=r"batching\.mode"):
        load_settings(env={"PROOFSTREAM_BATCHING_MODE": "fast"})


def pending(nonce: int, ts: int) -> Pending:
    return Pending(MessageId(f"m{nonce}"), A, Nonce(nonce), Timestamp(ts), ConfigVersion(1))


def test_backlog_joins_one_task_whatever_the_window() -> None:
    waiting = [pending(n, 100 + n) for n in range(5)]  # five 1-s windows of device time
    joined = cut_batches(waiting, BatchPolicy(4, 1, 0, backlog_joins=True), now=200)
    assert [len(b.messages) for b in joined] == [4, 1]  # capacity still cuts
    assert [len(b.messages) for b in cut_batches(waiting, BatchPolicy(4, 1, 0), now=200)] == [1] * 5
    # The window still says when a task may close: not before its first message's window is over.
    assert cut_batches(waiting[:2], BatchPolicy(4, 1, 0, backlog_joins=True), now=100) == []
    assert len(cut_batches(waiting[:2], BatchPolicy(4, 1, 0, backlog_joins=True), now=101)) == 1


def put(store: SqliteStore, key: DeviceKey, nonce: int) -> None:
    body = key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, nonce, 1_000 + nonce, {"lat": 100 + nonce, "lon": 200})
    message = parse_body(json.dumps(body).encode(), lambda _p, _c: TRACKER_SCHEMA)
    store.put_message(message, message_id(digest(message, DOMAIN)), 1.0)


def test_a_device_with_a_task_in_flight_waits_then_its_messages_join_one_task(store: SqliteStore) -> None:
    key, other = DeviceKey.generate(), DeviceKey.generate()
    sequencer = Sequencer(
        store,
        FakeBook(),
        project=ProjectId(1),
        depth=3,
        policy=BatchPolicy(8, 1, 0, backlog_joins=True),
        prover=PROVER,
        deadline_blocks=10,
        clock=lambda: 2_000.0,
    )
    put(store, key, 0)
    (first,) = sequencer.tick()
    for nonce in (1, 2, 3):
        put(store, key, nonce)
    put(store, other, 0)
    held = sequencer.tick()
    assert [t.device for t in held] == [other.address]  # the other device is not held back
    store.update_task(first.id, TaskStatus.PROVING)
    assert sequencer.tick() == []  # proving is still in flight
    store.update_task(first.id, TaskStatus.SETTLED, TaskUpdate(route_tx="0xroute"))
    (joined,) = sequencer.tick()
    assert (joined.first_nonce, joined.last_nonce) == (1, 3)
