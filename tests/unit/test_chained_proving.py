"""Chained proving: a task whose predecessor is still on its way is proven at once against the anchor the
predecessor will leave (its last message), and routed in the predecessor's batch, right after it. Should the
predecessor fail before it verifies, the task is proven again against the chain's anchor; a deferring backend
(attest) still waits for the predecessor to be final."""

from __future__ import annotations

from dataclasses import replace

from chain_fakes import FakeBook
from fake_backend import FakeBackend
from test_pipeline_roles import put, sequencer
from testbed import PROVER

from proofstream.domain.anchor import NO_ANCHOR, RECORD_INPUTS, Anchor
from proofstream.domain.circuit_task import CircuitTask
from proofstream.domain.messages import message_leaf
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import TaskId
from proofstream.prover.ports import Proof
from proofstream.prover.service import ProverWorker
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import TaskRow, TaskUpdate
from proofstream.store.sqlite import SqliteStore
from proofstream.submitter.service import Submitter


class RecordingBackend(FakeBackend):
    """Remembers the anchor each task was proven against."""

    def __init__(self) -> None:
        self.anchors: dict[int, Anchor] = {}

    def prove(self, task_inputs: CircuitTask) -> Proof:
        self.anchors[task_inputs.task_id] = task_inputs.anchor
        return super().prove(task_inputs)


class DeferringRecordingBackend(RecordingBackend):
    def ready(self, task: TaskRow) -> bool:
        return True


def _worker(store: SqliteStore, book: FakeBook, backend: FakeBackend) -> ProverWorker:
    return ProverWorker(store, backend, prover=PROVER, n_public=1 + len(RECORD_INPUTS), constraints=None, anchors=book)


def _device_tasks(store: SqliteStore, book: FakeBook, tasks: int) -> list[TaskRow]:
    """``tasks`` assigned tasks of four messages of one new device, in order."""
    key = DeviceKey.generate()
    for nonce in range(4 * tasks):
        put(store, key, nonce)
    cut = sequencer(store, book).tick()
    assert len(cut) == tasks
    return sorted(cut, key=lambda t: t.first_nonce)


def _row(store: SqliteStore, task: TaskId) -> TaskRow:
    row = store.get_task(task)
    assert row is not None
    return row


def _left_by(store: SqliteStore, task: TaskRow) -> Anchor:
    last = store.task_messages(task.id)[-1].message
    return Anchor(last.timestamp, message_leaf(task.project, last), task.config)


def test_a_task_is_proven_against_the_anchor_its_pending_predecessor_will_leave(store: SqliteStore) -> None:
    book = FakeBook()
    first, second, third = _device_tasks(store, book, 3)
    backend = RecordingBackend()
    worker = _worker(store, book, backend)
    while worker.tick() is not None:
        pass
    assert backend.anchors == {
        first.id: NO_ANCHOR,
        second.id: _left_by(store, first),
        third.id: _left_by(store, second),
    }
    assert book.routed == []  # all three proven before any of them settled


def test_a_device_s_chained_tasks_settle_in_one_route_batch_in_order(store: SqliteStore) -> None:
    book = FakeBook()
    tasks = _device_tasks(store, book, 3)
    worker = _worker(store, book, RecordingBackend())
    while worker.tick() is not None:
        pass
    assert Submitter(store, book, chained=True).tick() == 3
    assert book.batches == [[t.id for t in tasks]]
    assert all(_row(store, t.id).status is TaskStatus.SETTLED for t in tasks)
    assert book.anchor(tasks[0].project, tasks[0].device) == _left_by(store, tasks[-1])


def test_a_follower_whose_predecessor_does_not_verify_is_proven_again_against_the_chain(store: SqliteStore) -> None:
    book = FakeBook()
    first, second = _device_tasks(store, book, 2)
    backend = RecordingBackend()
    worker = _worker(store, book, backend)
    while worker.tick() is not None:
        pass
    first_proof = _row(store, first.id).proof
    assert first_proof is not None
    book.bad_proofs.add(first_proof.calldata)
    submitter = Submitter(store, book, chained=True)
    # The batch fails on the first task's proof: bisected, it fails alone; the second waits for it.
    assert submitter.tick() == 1
    assert _row(store, first.id).status is TaskStatus.FAILED
    assert _row(store, second.id).status is TaskStatus.PROVING
    # The predecessor this node gave up on is released; the second's proof was made against the anchor it would
    # have left, which the chain never held: it goes back to be proven, against the chain's anchor.
    submitter.tick()
    submitter.tick()
    assert first.id in book.released
    assert _row(store, second.id).status is TaskStatus.BATCHED and _row(store, second.id).proof is None
    assert worker.tick() is not None
    assert backend.anchors[second.id] == NO_ANCHOR
    assert submitter.tick() == 1
    assert _row(store, second.id).status is TaskStatus.SETTLED


def test_a_follower_proven_against_another_anchor_waits_for_its_predecessor(store: SqliteStore) -> None:
    """Only a proof made against the anchor the predecessor's proof leaves joins its batch."""
    book = FakeBook()
    first, second = _device_tasks(store, book, 2)
    worker = _worker(store, book, RecordingBackend())
    while worker.tick() is not None:
        pass
    first_row = _row(store, first.id)
    assert first_row.proof is not None
    store.update_task(
        first.id, change=TaskUpdate(proof=replace(first_row.proof, last_leaf=first_row.proof.last_leaf + 1))
    )
    assert Submitter(store, book, chained=True).tick() == 1
    assert book.batches == [] and book.routed == [first.id]  # routed alone
    assert _row(store, second.id).status is TaskStatus.PROVING


def test_a_deferring_backend_proves_a_task_only_once_its_predecessor_is_final(store: SqliteStore) -> None:
    book = FakeBook()
    first, second = _device_tasks(store, book, 2)
    backend = DeferringRecordingBackend()
    worker = _worker(store, book, backend)
    assert worker.tick() is not None
    assert worker.tick() is None  # the second waits: its predecessor is proven, not final
    assert list(backend.anchors) == [first.id]
    assert Submitter(store, book).tick() == 1
    assert worker.tick() is not None
    assert backend.anchors[second.id] == _left_by(store, first)


def test_a_task_after_a_failed_predecessor_chains_on_the_one_before_and_never_overtakes_it(
    store: SqliteStore,
) -> None:
    """O is still being proven when its successor P fails (no proof): F, after P, must be proven against the anchor
    O will leave and routed after O, never alone before it (the anchor would move past O's messages, and O's valid
    route would be refused)."""
    book = FakeBook()
    o, p, f = _device_tasks(store, book, 3)
    store.update_task(o.id, TaskStatus.PROVING, expect=TaskStatus.BATCHED)  # a slow proof under way
    store.update_task(p.id, TaskStatus.FAILED, TaskUpdate(reason="proving failed: out of range"))
    backend = RecordingBackend()
    worker = _worker(store, book, backend)
    assert worker.tick() is not None
    assert backend.anchors == {f.id: _left_by(store, o)}
    submitter = Submitter(store, book, chained=True, wait_seconds=0.0)
    for _ in range(3):  # releases P (this node gave it up), then waits for O: F is neither routed nor dropped
        assert submitter.tick() == 0
    assert p.id in book.released and book.routed == []
    assert _row(store, f.id).status is TaskStatus.PROVING and _row(store, f.id).proof is not None
    store.update_task(o.id, TaskStatus.BATCHED, expect=TaskStatus.PROVING)
    assert worker.tick() is not None  # O's proof at last
    assert submitter.tick() == 2
    assert book.batches == [[o.id, f.id]]
    assert book.anchor(o.project, o.device) == _left_by(store, f)
