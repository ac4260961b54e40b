"""The sequencer and the submitter against a real SQLite store and a fake chain (a unit test's fake: the real
chain is exercised by tests/e2e). What matters here is restart safety: nothing is assigned or routed twice."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from chain_fakes import FakeBook
from fake_backend import FakeBackend
from testbed import DOMAIN, PROOF, PROVER, TRACKER, TRACKER_SCHEMA

from proofstream.domain.anchor import RECORD_INPUTS, Anchor
from proofstream.domain.batching import BatchPolicy
from proofstream.domain.circuit_task import CircuitTask
from proofstream.domain.messages import digest, message_id, parse_body
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import ConfigVersion, ProjectId, TaskId
from proofstream.errors import ChainUnavailableError, StoreError, ToolchainError, TransactionRevertedError
from proofstream.ports import ChainTaskState, TxOutcome
from proofstream.prover.ports import Proof
from proofstream.prover.service import MAX_PROVE_ATTEMPTS, ProverWorker
from proofstream.sdk.device import DeviceKey
from proofstream.sequencer.service import RECOVERED, Sequencer
from proofstream.store.ports import ProjectConfig, TaskRow, TaskUpdate
from proofstream.store.retry import DEFAULT_BACKOFF, Backoff
from proofstream.store.sqlite import SqliteStore
from proofstream.submitter.service import Submitter

PROJECT_V2 = ProjectConfig(ProjectId(1), ConfigVersion(2), TRACKER_SCHEMA, DOMAIN)

T = TypeVar("T")


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    """The tracker project in versions 1 and 2."""
    store.upsert_project(PROJECT_V2)
    return store


def put(store: SqliteStore, key: DeviceKey, nonce: int, config: int = 1) -> None:
    body = key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, config, nonce, 1_000 + nonce, {"lat": 100 + nonce, "lon": 200})
    message = parse_body(json.dumps(body).encode(), lambda _p, _c: TRACKER_SCHEMA)
    store.put_message(message, message_id(digest(message, DOMAIN)), 1.0)


def sequencer(store: SqliteStore, book: FakeBook) -> Sequencer:
    return Sequencer(
        store,
        book,
        project=ProjectId(1),
        depth=2,
        policy=BatchPolicy(4, 3600),
        prover=PROVER,
        deadline_blocks=10,
        clock=lambda: 0.0,
    )


def test_sequencer_cuts_full_batches_and_assigns_them_in_one_tx(store: SqliteStore) -> None:
    book = FakeBook()
    keys = [DeviceKey.generate(), DeviceKey.generate()]
    for key in keys:
        for nonce in range(6):
            put(store, key, nonce)
    created = sequencer(store, book).tick()
    assert len(created) == 2  # one full task of 4 per device; 2 messages each stay open
    assert len(book.assigned) == 1 and len(book.assigned[0]) == 2
    assert {c.prover for c in book.assigned[0]} == {PROVER}
    assert all(t.assign_tx == "0xassign1" for t in store.tasks_with_status(TaskStatus.BATCHED))
    assert len(store.unbatched_messages(ProjectId(1))) == 4


def test_a_task_already_on_chain_is_not_assigned_again(store: SqliteStore) -> None:
    book = FakeBook()
    key = DeviceKey.generate()
    for nonce in range(4):
        put(store, key, nonce)
    seq = sequencer(store, book)
    book.refuse_device = key.address  # the tx "fails" after the task row is written: as if killed mid-way
    with pytest.raises(TransactionRevertedError):
        seq.tick()
    (task,) = store.tasks_with_status(TaskStatus.BATCHED)
    assert task.assign_tx is None
    book.refuse_device = None
    book.states[task.id] = ChainTaskState.ASSIGNED  # ... but it had made it on chain
    seq.tick()
    assert book.assigned == []
    assert store.get_task(task.id).assign_tx == RECOVERED  # type: ignore[union-attr]


def test_one_refused_commitment_does_not_hold_back_the_others(store: SqliteStore) -> None:
    book = FakeBook()
    good, bad = DeviceKey.generate(), DeviceKey.generate()
    for key in (good, bad):
        for nonce in range(4):
            put(store, key, nonce)
    book.refuse_device = bad.address
    sequencer(store, book).tick()
    statuses = {t.device.lower(): t.status for t in store.tasks_with_status(*TaskStatus)}
    assert statuses == {good.address.lower(): TaskStatus.BATCHED, bad.address.lower(): TaskStatus.FAILED}


def test_tasks_are_cut_per_config_version_and_assigned_under_it(store: SqliteStore) -> None:
    """An upgrade mid-stream: the device's v1 messages and its v2 messages become separate tasks, in nonce order,
    each committed under the version its messages were signed with."""
    book = FakeBook()
    book.live_versions = {ConfigVersion(1), ConfigVersion(2)}  # v1 in its grace period
    key = DeviceKey.generate()
    for nonce in range(3):
        put(store, key, nonce, config=1)
    for nonce in range(3, 7):
        put(store, key, nonce, config=2)
    created = sequencer(store, book).tick()
    assert [(t.config, t.first_nonce, t.last_nonce) for t in created] == [(1, 0, 2), (2, 3, 6)]
    (sent,) = book.assigned
    assert [(c.config, c.first_nonce, c.last_nonce) for c in sent] == [(1, 0, 2), (2, 3, 6)]
    assert store.unbatched_messages(ProjectId(1)) == []
    assert book.liveness_queries == 2  # once per version per tick, not once per message


def test_messages_of_a_retired_version_are_kept_unbatched_counted_and_logged_once(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    book = FakeBook()
    book.live_versions = {ConfigVersion(2)}
    old, new = DeviceKey.generate(), DeviceKey.generate()
    for nonce in range(5):
        put(store, old, nonce, config=1)
    for nonce in range(4):
        put(store, new, nonce, config=2)
    seq = sequencer(store, book)
    with caplog.at_level(logging.WARNING, logger="proofstream.sequencer.service"):
        created = seq.tick()
        seq.tick(flush=True)
    assert [(t.device, t.config) for t in created] == [(new.address, 2)]
    assert [c.config for batch in book.assigned for c in batch] == [2]
    assert seq.held_back == {1: 5}
    left = store.unbatched_messages(ProjectId(1))
    assert len(left) == 5 and {m.message.config for m in left} == {1}  # never lost
    assert all(store.get_message(m.id).status == "received" for m in left)  # type: ignore[union-attr]
    warnings = [r for r in caplog.records if "not live" in r.getMessage()]
    assert len(warnings) == 1
    assert "config=1 " in warnings[0].getMessage()


def test_a_task_whose_version_retired_before_assignment_fails_with_that_reason(store: SqliteStore) -> None:
    book = FakeBook()
    key = DeviceKey.generate()
    for nonce in range(4):
        put(store, key, nonce, config=1)
    seq = sequencer(store, book)
    book.refuse_device = key.address  # the task is cut, but its assignment does not go through at first
    with pytest.raises(TransactionRevertedError):
        seq.tick()
    (task,) = store.tasks_with_status(TaskStatus.BATCHED)
    book.refuse_device = None
    book.live_versions = {ConfigVersion(2)}  # v1 retired meanwhile
    seq.tick()
    assert book.assigned == []
    row = store.get_task(task.id)
    assert row is not None and row.status is TaskStatus.FAILED
    assert row.reason == "config version 1 retired before the task was assigned"


def test_nothing_is_cut_or_assigned_while_the_project_is_paused(store: SqliteStore) -> None:
    book = FakeBook()
    key = DeviceKey.generate()
    for nonce in range(4):
        put(store, key, nonce)
    seq = sequencer(store, book)
    book.active = False
    assert seq.tick(flush=True) == []
    assert seq.paused
    assert book.assigned == []
    assert len(store.unbatched_messages(ProjectId(1))) == 4
    book.active = True
    (task,) = seq.tick()
    assert not seq.paused
    assert [c.first_nonce for c in book.assigned[0]] == [task.first_nonce]


def test_idle_ticks_do_not_query_the_chain(store: SqliteStore) -> None:
    book = FakeBook()
    book.active = False
    seq = sequencer(store, book)
    assert seq.tick() == []
    assert not seq.paused  # it did not even ask
    assert book.liveness_queries == 0


def test_tasks_cut_in_one_tick_are_assigned_in_nonce_order(store: SqliteStore) -> None:
    """They share a creation time (the clock is frozen here), and the store breaks that tie by task id: the
    sequencer must order them itself, since TaskManager refuses a range below one already assigned."""
    book = FakeBook()
    key = DeviceKey.generate()
    for nonce in range(16):
        put(store, key, nonce)
    sequencer(store, book).tick()
    (sent,) = book.assigned
    assert [c.first_nonce for c in sent] == [0, 4, 8, 12]


def _proven_task(store: SqliteStore, book: FakeBook) -> TaskId:
    key = DeviceKey.generate()
    for nonce in range(4):
        put(store, key, nonce)
    (task,) = sequencer(store, book).tick()
    book.states[task.id] = ChainTaskState.ASSIGNED
    store.update_task(task.id, TaskStatus.PROVING, expect=TaskStatus.BATCHED)
    store.update_task(task.id, change=TaskUpdate(proof=PROOF))
    return task.id


def test_submitter_routes_a_proven_task_once(store: SqliteStore) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    submitter = Submitter(store, book)
    assert submitter.tick() == 1
    assert submitter.tick() == 0
    assert book.routed == [task]
    row = store.get_task(task)
    assert row is not None and (row.status, row.route_tx, row.gas_route) == (TaskStatus.SETTLED, "0xroute", 300_000)


def test_after_a_crash_the_chain_is_asked_before_anything_is_sent_again(store: SqliteStore) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    store.update_task(task, TaskStatus.SUBMITTED, expect=TaskStatus.PROVING)  # killed right after sending...
    book.states[task] = ChainTaskState.SETTLED  # ...and the tx was mined
    Submitter(store, book).tick()
    assert book.routed == []
    assert store.get_task(task).status is TaskStatus.SETTLED  # type: ignore[union-attr]


def test_a_route_tx_that_never_landed_is_sent_again(store: SqliteStore) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    store.update_task(task, TaskStatus.SUBMITTED, expect=TaskStatus.PROVING)  # killed before the tx left
    submitter = Submitter(store, book)
    submitter.tick()  # chain says still assigned: back to proving (proof kept)
    submitter.tick()
    assert book.routed == [task]
    assert store.get_task(task).status is TaskStatus.SETTLED  # type: ignore[union-attr]


def test_an_unreachable_chain_does_not_fail_the_task(store: SqliteStore) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    real_route = book.route

    def down(task_id: TaskId, outputs: Sequence[int], last: Anchor, proof: bytes) -> TxOutcome:
        raise ChainUnavailableError("node unreachable")

    book.route = down  # type: ignore[method-assign]
    submitter = Submitter(store, book)
    with pytest.raises(ChainUnavailableError):
        submitter.tick()
    assert store.get_task(task).status is TaskStatus.SUBMITTED  # type: ignore[union-attr]
    book.route = real_route  # type: ignore[method-assign]
    submitter.tick()  # reconciled: still assigned on chain, so back to proving
    submitter.tick()
    assert book.routed == [task]
    assert store.get_task(task).status is TaskStatus.SETTLED  # type: ignore[union-attr]


def test_a_proven_task_waits_out_a_pause_instead_of_failing(store: SqliteStore) -> None:
    """The Router refuses every route while the project is paused: that is not the task's fault."""
    book = FakeBook()
    task = _proven_task(store, book)
    book.active = False
    submitter = Submitter(store, book)
    assert submitter.tick() == 0
    assert book.routed == []
    assert store.get_task(task).status is TaskStatus.PROVING  # type: ignore[union-attr]
    book.active = True
    assert submitter.tick() == 1
    assert book.routed == [task]


def test_a_task_waits_for_its_predecessor_and_is_never_failed_for_it(store: SqliteStore) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    book.pending.add(task)
    submitter = Submitter(store, book)
    assert submitter.tick() == 0
    assert book.routed == []
    assert store.get_task(task).status is TaskStatus.PROVING  # type: ignore[union-attr]
    book.pending.clear()
    assert submitter.tick() == 1
    assert book.routed == [task]


def test_a_proof_made_against_another_anchor_is_proven_again(store: SqliteStore) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    row = store.get_task(task)
    assert row is not None
    book.anchors[(row.project, row.device.lower())] = Anchor(900, 42, 1)  # the chain moved on since the proof was made
    assert Submitter(store, book).tick() == 0
    assert book.routed == []
    again = store.get_task(task)
    assert again is not None and again.status is TaskStatus.BATCHED and again.proof is None


def test_an_overdue_task_is_expired_reassigned_and_routed(store: SqliteStore) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    book.mine(11)  # past the sequencer's 10 blocks
    assert book.overdue(task)
    assert Submitter(store, book).tick() == 1
    assert (book.expired, book.reassigned, book.routed) == ([task], [task], [task])


def test_an_overdue_task_of_a_paused_project_waits_for_the_resume_to_be_reassigned(store: SqliteStore) -> None:
    """TaskManager refuses a reassignment while the project is paused: the submitter must not try one (it would
    abort every tick until the resume), and must do it all once the project is active again."""
    book = FakeBook()
    task = _proven_task(store, book)
    book.mine(11)
    book.active = False
    submitter = Submitter(store, book)
    assert submitter.tick() == 0
    assert (book.expired, book.reassigned, book.routed) == ([], [], [])
    book.active = True
    assert submitter.tick() == 1
    assert (book.expired, book.reassigned, book.routed) == ([task], [task], [task])


def test_a_predecessor_that_failed_here_is_released_so_the_device_does_not_stall(store: SqliteStore) -> None:
    book = FakeBook()
    key = DeviceKey.generate()
    for nonce in range(8):
        put(store, key, nonce)
    first, second = sequencer(store, book).tick()
    for task in (first, second):
        book.states[task.id] = ChainTaskState.ASSIGNED
    store.update_task(first.id, TaskStatus.FAILED, TaskUpdate(reason="proving failed: fix out of range"))
    store.update_task(second.id, TaskStatus.PROVING, expect=TaskStatus.BATCHED)
    store.update_task(second.id, change=TaskUpdate(proof=PROOF))
    assert book.predecessor_pending(second.id)
    submitter = Submitter(store, book)
    assert submitter.tick() == 0  # released the predecessor, the route waits for the next tick
    assert book.released == [first.id] and book.routed == []
    assert submitter.tick() == 1
    assert book.routed == [second.id]


@pytest.mark.parametrize("refusal", ["ProjectNotActive", "DeadlinePassed", "DappGasTooLow", "PredecessorPending"])
def test_a_refusal_about_the_moment_is_retried_not_failed(store: SqliteStore, refusal: str) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    book.refusal = refusal
    submitter = Submitter(store, book)
    assert submitter.tick() == 0
    assert store.get_task(task).status is TaskStatus.PROVING  # type: ignore[union-attr]
    assert submitter.tick() == 1
    assert book.routed == [task]


def test_an_invalid_proof_against_a_moved_anchor_is_proven_again(store: SqliteStore) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    row = store.get_task(task)
    assert row is not None

    def moved(*_: object) -> TxOutcome:
        book.anchors[(row.project, row.device.lower())] = Anchor(900, 42, 1)  # another task settled in between
        raise TransactionRevertedError("route reverted: InvalidProof", error_name="InvalidProof")

    book.route = moved  # type: ignore[method-assign, assignment]
    assert Submitter(store, book).tick() == 0
    again = store.get_task(task)
    assert again is not None and again.status is TaskStatus.BATCHED and again.proof is None


@pytest.mark.parametrize("refusal", ["InvalidProof", "DeviceNotActive"])
def test_a_refusal_about_the_task_fails_it(store: SqliteStore, refusal: str) -> None:
    book = FakeBook()
    task = _proven_task(store, book)
    book.refusal = refusal
    assert Submitter(store, book).tick() == 1
    row = store.get_task(task)
    assert row is not None and row.status is TaskStatus.FAILED and refusal in (row.reason or "")


class FlakyBackend(FakeBackend):
    """The conformant fake prover backend (fake_backend.py) whose snarkjs crashes ``crashes`` times before it
    proves."""

    def __init__(self, crashes: int) -> None:
        self.crashes = crashes

    def prove(self, task_inputs: CircuitTask) -> Proof:
        if self.crashes:
            self.crashes -= 1
            raise ToolchainError("snarkjs ran past 600 s")
        return super().prove(task_inputs)


@pytest.mark.parametrize(("crashes", "status"), [(2, TaskStatus.PROVING), (3, TaskStatus.FAILED)])
def test_a_crashed_prover_puts_the_task_back_a_few_times(store: SqliteStore, crashes: int, status: TaskStatus) -> None:
    """A snarkjs crash says nothing about the task: it is tried again, and failed only after MAX_PROVE_ATTEMPTS."""
    book = FakeBook()
    key = DeviceKey.generate()
    for nonce in range(4):
        put(store, key, nonce)
    (task,) = sequencer(store, book).tick()
    worker = ProverWorker(store, FlakyBackend(crashes), prover=PROVER, n_public=1 + len(RECORD_INPUTS),
                          constraints=None, anchors=book)  # fmt: skip
    for _ in range(MAX_PROVE_ATTEMPTS):
        worker.tick()
    row = store.get_task(task.id)
    assert row is not None and row.status is status


class FailingWrites(SqliteStore):
    """A real SQLite store whose next ``failures`` writes fail the way the adapter reports a failed commit (a full
    disk): nothing is written."""

    failures = 0

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self.failures:
            self.failures -= 1
            raise StoreError("store commit failed: database or disk is full")
        return super()._write(fn)


@pytest.fixture
def failing(tmp_path: Path) -> Iterator[FailingWrites]:
    with FailingWrites(tmp_path / "s.db") as opened:
        opened.upsert_project(TRACKER)
        yield opened


def _worker(store: FailingWrites, book: FakeBook, sleeps: list[float]) -> ProverWorker:
    return ProverWorker(store, FlakyBackend(0), prover=PROVER, n_public=1 + len(RECORD_INPUTS), constraints=None,
                        anchors=book, backoff=Backoff(sleep=sleeps.append))  # fmt: skip


def _batched_task(store: SqliteStore, book: FakeBook) -> TaskRow:
    """One full task of a new device, cut and assigned."""
    key = DeviceKey.generate()
    for nonce in range(4):
        put(store, key, nonce)
    (task,) = sequencer(store, book).tick()
    return task


def _store_retries(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "proofstream.store.retry"]


def test_a_failed_store_write_is_retried_with_backoff_and_logged_with_the_task_id(
    failing: FailingWrites, caplog: pytest.LogCaptureFixture
) -> None:
    """A store error that is not StaleTaskError is not "someone else has it": the prover's claim is tried again
    after a growing wait, each failure logged with the task, and the task is proven."""
    book = FakeBook()
    task = _batched_task(failing, book)
    sleeps: list[float] = []
    failing.failures = 2
    with caplog.at_level(logging.WARNING, logger="proofstream.store.retry"):
        proven = _worker(failing, book, sleeps).tick()
    assert proven is not None and proven.status is TaskStatus.PROVING and proven.proof is not None
    assert sleeps == [0.1, 0.2]
    retries = _store_retries(caplog)
    assert len(retries) == 2
    assert all(f"task={task.id} " in m and "disk is full" in m for m in retries)


def test_a_store_write_that_keeps_failing_reaches_the_node_loop(
    failing: FailingWrites, caplog: pytest.LogCaptureFixture
) -> None:
    """After the last try the error is raised (the node's loop logs it and runs the step again later); nothing was
    written, and the task is proven once the store writes again."""
    book = FakeBook()
    task = _batched_task(failing, book)
    sleeps: list[float] = []
    worker = _worker(failing, book, sleeps)
    failing.failures = DEFAULT_BACKOFF.attempts
    with caplog.at_level(logging.WARNING, logger="proofstream.store.retry"), pytest.raises(StoreError, match="full"):
        worker.tick()
    assert sleeps == [0.1, 0.2, 0.4]
    assert _store_retries(caplog)[-1].startswith(f"store write failed, giving up task={task.id} attempts=4")
    assert failing.get_task(task.id).status is TaskStatus.BATCHED  # type: ignore[union-attr]
    proven = worker.tick()
    assert proven is not None and proven.status is TaskStatus.PROVING and proven.proof is not None


def test_the_submitter_retries_a_failed_write_and_routes_once(failing: FailingWrites) -> None:
    book = FakeBook()
    task = _proven_task(failing, book)
    sleeps: list[float] = []
    failing.failures = 1  # marking the task submitted fails once, before the route tx is sent
    assert Submitter(failing, book, backoff=Backoff(sleep=sleeps.append)).tick() == 1
    assert book.routed == [task] and sleeps == [0.1]
    row = failing.get_task(task)
    assert row is not None and (row.status, row.route_tx, row.gas_route) == (TaskStatus.SETTLED, "0xroute", 300_000)
