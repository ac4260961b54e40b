"""The prover loop: claim an assigned task, prove it, store the proof for the submitter.

A claim is a compare-and-set on the task's status (batched -> proving), so several workers (threads now,
processes on other machines with PostgreSQL later) never prove the same task twice.

A backend that depends on others (``attest`` waits for a quorum of attesters) may say "not yet": it offers a
cheap ``ready(task)`` that is asked before claiming, and raises :class:`ProofNotReadyError` from ``prove`` if
the answer changed in between; the task goes back to ``batched`` and the worker moves on to the next one.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol, runtime_checkable

from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import ConfigVersion
from proofstream.errors import ProofstreamError, ProverError, StoreError
from proofstream.prover.ports import CircuitTask, ProverBackend, record_of
from proofstream.store.ports import Store, TaskRow

logger = logging.getLogger(__name__)

PROTOCOL_PUBLIC_INPUTS = 7
"""``project, taskId, root, device, prover, firstNonce, lastNonce`` follow the outputs (docs/protocol.md)."""


class ProofNotReadyError(ProverError):
    """The backend cannot prove the task yet (e.g. too few attestations so far): try again later. The task is
    put back, not failed."""

    code = "not_ready"


@runtime_checkable
class DeferringBackend(Protocol):
    """A backend that can tell cheaply, before a task is claimed, whether proving it could succeed now."""

    def ready(self, task: TaskRow) -> bool: ...


class ProverWorker:
    def __init__(
        self,
        store: Store,
        backend: ProverBackend,
        *,
        prover: str,
        n_public: int,
        constraints: int | None,
        config: ConfigVersion | None = None,
    ) -> None:
        """``config``: prove only tasks of this config version (a node runs one worker per live version)."""
        self._config = config
        self._store = store
        self._backend = backend
        self._prover = int(prover, 16)
        self._n_outputs = n_public - PROTOCOL_PUBLIC_INPUTS
        self._constraints = constraints

    def release_orphans(self) -> int:
        """At start-up: tasks a killed worker held in ``proving`` without a proof go back to the pool."""
        released = 0
        for task in self._store.tasks_with_status(TaskStatus.PROVING):
            if task.proof is None:
                self._store.update_task(task.id, TaskStatus.BATCHED, expect=TaskStatus.PROVING)
                released += 1
        return released

    def tick(self) -> TaskRow | None:
        """Prove one task if one is waiting; returns it (with its proof or its failure) or None."""
        deferring = self._backend if isinstance(self._backend, DeferringBackend) else None
        for task in self._store.tasks_with_status(TaskStatus.BATCHED):
            if task.assign_tx is None:
                continue  # its commitment is not on chain yet
            if self._config is not None and task.config != self._config:
                continue  # another version's worker proves it
            if deferring is not None and not deferring.ready(task):
                continue  # asked before claiming: a waiting task costs no write per tick
            try:
                self._store.update_task(task.id, TaskStatus.PROVING, expect=TaskStatus.BATCHED)
            except StoreError:
                continue  # another worker claimed it
            proven = self._prove(task)
            if proven is not None:
                return proven
        return None

    def _prove(self, task: TaskRow) -> TaskRow | None:
        messages = self._store.task_messages(task.id)
        circuit_task = CircuitTask(
            project=task.project,
            task_id=task.id,
            device=int(task.device, 16),
            prover=self._prover,
            root=task.root,
            records=tuple(record_of(m.message) for m in messages),
        )
        started = time.perf_counter()
        try:
            proof = self._backend.prove(circuit_task)
        except ProofNotReadyError as exc:
            logger.info("task not ready, put back task=%s reason=%s", task.id, exc)
            self._store.update_task(task.id, TaskStatus.BATCHED, expect=TaskStatus.PROVING)
            return None
        except (ProofstreamError, ValueError) as exc:
            logger.error("proving failed task=%s reason=%s", task.id, exc)
            return self._store.update_task(task.id, TaskStatus.FAILED, reason=f"proving failed: {exc}")
        seconds = time.perf_counter() - started
        outputs = [str(x) for x in proof.public_signals[: self._n_outputs]]
        logger.info("task proven task=%s outputs=%s seconds=%.2f", task.id, outputs, seconds)
        return self._store.update_task(
            task.id,
            outputs=outputs,
            proof={
                "backend": proof.backend,
                "calldata": proof.calldata.hex(),
                "public_signals": [str(x) for x in proof.public_signals],
            },
            prove_seconds=round(seconds, 3),
            constraints=self._constraints,
        )
