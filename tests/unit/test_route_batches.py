"""The submitter's batched routes: the tasks ready together go in one routeBatch; a batch with a bad proof is split
until the bad one is alone, and the good ones settle without it; a proof waits for others only while some could
still join."""

from __future__ import annotations

from dataclasses import replace

from chain_fakes import FakeBook
from test_pipeline_roles import put, sequencer
from testbed import PROOF

from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import TaskId
from proofstream.ports import ChainTaskState
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import TaskRow, TaskUpdate
from proofstream.store.sqlite import SqliteStore
from proofstream.submitter.service import Submitter


def _tasks(store: SqliteStore, book: FakeBook, devices: int, *, proven: int | None = None) -> list[TaskId]:
    """One assigned task of four messages for each of ``devices`` new devices; the first ``proven`` (all by
    default) have a proof, each with its own calldata (its index in the first byte)."""
    keys = [DeviceKey.generate() for _ in range(devices)]
    for key in keys:
        for nonce in range(4):
            put(store, key, nonce)
    tasks = sequencer(store, book).tick()
    ids = []
    for index, task in enumerate(tasks):
        book.states[task.id] = ChainTaskState.ASSIGNED
        store.update_task(task.id, TaskStatus.PROVING, expect=TaskStatus.BATCHED)
        if proven is None or index < proven:
            proof = replace(PROOF, calldata=bytes([index]) + bytes(255))
            store.update_task(task.id, change=TaskUpdate(proof=proof))
        ids.append(task.id)
    return ids


def _status(store: SqliteStore, task: TaskId) -> TaskStatus:
    row = store.get_task(task)
    assert row is not None
    return row.status


def test_ready_tasks_go_in_one_route_batch_and_the_gas_shares_add_up(store: SqliteStore) -> None:
    book = FakeBook()
    tasks = _tasks(store, book, 5)
    assert Submitter(store, book).tick() == 5
    assert [sorted(b) for b in book.batches] == [sorted(tasks)]
    rows = [store.get_task(t) for t in tasks]
    assert all(r is not None and r.status is TaskStatus.SETTLED and r.route_tx == "0xbatch1" for r in rows)
    assert sum(r.gas_route or 0 for r in rows if r is not None) == 5 * 300_000


def test_a_bad_proof_is_bisected_out_and_the_good_ones_settle(store: SqliteStore) -> None:
    book = FakeBook()
    tasks = _tasks(store, book, 5)
    book.bad_proofs.add(bytes([3]) + bytes(255))
    assert Submitter(store, book).tick() == 5
    assert {t: _status(store, t) for t in tasks} == {
        t: TaskStatus.FAILED if t == tasks[3] else TaskStatus.SETTLED for t in tasks
    }
    row = store.get_task(tasks[3])
    assert row is not None and row.reason is not None and "InvalidProof" in row.reason
    assert sorted(book.routed) == sorted(t for i, t in enumerate(tasks) if i != 3)
    assert all(tasks[3] not in batch for batch in book.batches)


def test_batches_hold_at_most_max_batch_tasks(store: SqliteStore) -> None:
    book = FakeBook()
    tasks = _tasks(store, book, 5)
    assert Submitter(store, book, max_batch=2).tick() == 5
    assert [len(b) for b in book.batches] == [2, 2]
    assert sorted(book.routed) == sorted(tasks)  # the fifth alone: a plain route


def test_a_proof_waits_while_another_task_is_being_proven(store: SqliteStore) -> None:
    book = FakeBook()
    now = [0.0]
    tasks = _tasks(store, book, 3, proven=2)
    submitter = Submitter(store, book, wait_seconds=10.0, clock=lambda: now[0])
    assert submitter.tick() == 0  # the third task is still being proven: it may join
    now[0] = 5.0
    assert submitter.tick() == 0
    now[0] = 10.0
    assert submitter.tick() == 2  # waited long enough
    assert [sorted(b) for b in book.batches] == [sorted(tasks[:2])]


def test_a_proof_does_not_wait_when_nothing_else_could_join(store: SqliteStore) -> None:
    book = FakeBook()
    _tasks(store, book, 2)
    assert Submitter(store, book, wait_seconds=3600.0, clock=lambda: 0.0).tick() == 2


def test_a_proof_stored_after_the_tick_looked_still_joins_the_next_batch(store: SqliteStore) -> None:
    """A worker stores a proof between the tick's scan of the proven tasks and its question "could any other task
    join?": that task could (the next tick routes it), so the batch waits instead of leaving it alone."""
    book = FakeBook()
    tasks = _tasks(store, book, 3, proven=2)
    late = replace(PROOF, calldata=bytes([2]) + bytes(255))
    real = store.tasks_with_status

    def racing(*statuses: TaskStatus) -> list[TaskRow]:
        if TaskStatus.BATCHED in statuses:  # the wait's question, after the scan
            store.update_task(tasks[2], change=TaskUpdate(proof=late))
        return real(*statuses)

    store.tasks_with_status = racing  # type: ignore[method-assign]
    submitter = Submitter(store, book, wait_seconds=3600.0, clock=lambda: 0.0)
    assert submitter.tick() == 0
    store.tasks_with_status = real  # type: ignore[method-assign]
    assert submitter.tick() == 3
    assert [sorted(b) for b in book.batches] == [sorted(tasks)]
