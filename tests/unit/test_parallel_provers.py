"""``prover.workers`` threads tick the same ProverWorker: each claims another task (the claim is a compare-and-set on
the task's status), so two tasks are proven at once and none twice."""

from __future__ import annotations

import threading

from chain_fakes import FakeBook
from fake_backend import FakeBackend
from test_pipeline_roles import put, sequencer
from testbed import PROVER

from proofstream.domain.anchor import RECORD_INPUTS
from proofstream.domain.circuit_task import CircuitTask
from proofstream.domain.tasks import TaskStatus
from proofstream.prover.ports import Proof
from proofstream.prover.service import ProverWorker
from proofstream.sdk.device import DeviceKey
from proofstream.store.sqlite import SqliteStore


class MeetingBackend(FakeBackend):
    """Proves only when ``parties`` proofs are under way at the same moment (a barrier), and counts its calls."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10)
        self.proven: list[int] = []
        self._lock = threading.Lock()

    def prove(self, task_inputs: CircuitTask) -> Proof:
        self.barrier.wait()  # BrokenBarrierError unless another thread proves another task now
        with self._lock:
            self.proven.append(task_inputs.task_id)
        return super().prove(task_inputs)


def test_two_prover_threads_prove_two_tasks_at_once_and_each_once(store: SqliteStore) -> None:
    book = FakeBook()
    for key in (DeviceKey.generate(), DeviceKey.generate()):  # one device's tasks are proven in order: two devices
        for nonce in range(4):
            put(store, key, nonce)
    tasks = sequencer(store, book).tick()
    assert len(tasks) == 2
    backend = MeetingBackend(2)
    n_public = 1 + len(RECORD_INPUTS)
    worker = ProverWorker(store, backend, prover=PROVER, n_public=n_public, constraints=None, anchors=book)
    threads = [threading.Thread(target=worker.tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not backend.barrier.broken
    assert sorted(backend.proven) == sorted(task.id for task in tasks)
    for task in tasks:
        row = store.get_task(task.id)
        assert row is not None and row.status is TaskStatus.PROVING and row.proof is not None
    assert worker.tick() is None  # nothing left: neither task is proven a second time
    assert len(backend.proven) == 2
