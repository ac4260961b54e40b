"""Turns stored messages into tasks: cut (batching policy), commit (Poseidon Merkle root), assign (on chain).

A task is written to the store before its assignment transaction is sent, and a task that has no assignment tx
yet is first looked up on chain: after a crash between the two, the sequencer neither loses the task nor
assigns it twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from proofstream.domain.batching import Batch, BatchPolicy, Pending, cut_batches
from proofstream.domain.merkle import build_tree, leaf_hash
from proofstream.domain.messages import payload_fields
from proofstream.domain.tasks import TaskStatus, task_id
from proofstream.domain.types import Address, ConfigVersion, FieldElement, ProjectId
from proofstream.errors import TransactionRevertedError
from proofstream.ports import ChainTaskState, Commitment, TaskBook
from proofstream.store.ports import Store, StoredMessage, TaskRow

logger = logging.getLogger(__name__)

RECOVERED = "recovered"
"""assign_tx of a task found already assigned on chain after a restart (the original tx hash was not kept)."""


class Sequencer:
    def __init__(
        self,
        store: Store,
        book: TaskBook,
        *,
        project: ProjectId,
        depth: int,
        policy: BatchPolicy,
        prover: Address,
        deadline_blocks: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if policy.capacity != 2**depth:
            raise ValueError(f"batch capacity {policy.capacity} must equal the circuit's 2**{depth} slots")
        self._store = store
        self._book = book
        self._project = project
        self._depth = depth
        self._policy = policy
        self._prover = prover
        self._deadline_blocks = deadline_blocks
        self._clock = clock

    def tick(self, *, flush: bool = False) -> list[TaskRow]:
        """Cut what is ready, then assign every task still waiting for its assignment. Returns the new tasks."""
        created = self._cut(flush=flush)
        self._assign_pending()
        return created

    def _cut(self, *, flush: bool) -> list[TaskRow]:
        stored = {m.id: m for m in self._store.unbatched_messages(self._project)}
        pending = [Pending(m.id, m.message.device, m.message.nonce, m.message.timestamp) for m in stored.values()]
        created = []
        for batch in cut_batches(pending, self._policy, now=int(self._clock()), flush=flush):
            messages = [stored[p.message_id] for p in batch.messages]
            task = self._task_of(batch, messages)
            self._store.create_task(task, [m.id for m in messages])
            logger.info(
                "task cut task=%s device=%s messages=%d nonces=%d..%d",
                task.id,
                task.device,
                len(messages),
                task.first_nonce,
                task.last_nonce,
            )
            created.append(task)
        return created

    def _task_of(self, batch: Batch, messages: Sequence[StoredMessage]) -> TaskRow:
        leaves = [
            leaf_hash(
                self._project,
                int(m.message.device, 16),
                m.message.nonce,
                m.message.timestamp,
                payload_fields(m.message),
            )
            for m in messages
        ]
        configs = {m.message.config for m in messages}
        if len(configs) != 1:
            # Devices sign under one config version; a task is proven under exactly one.
            raise ValueError(f"batch mixes config versions {sorted(configs)}")
        return TaskRow(
            id=task_id(self._book.chain_id, self._book.task_manager, self._project, batch.device, batch.first_nonce),
            project=self._project,
            config=ConfigVersion(configs.pop()),
            device=batch.device,
            first_nonce=batch.first_nonce,
            last_nonce=batch.last_nonce,
            root=build_tree(leaves, self._depth).root,
            created_at=self._clock(),
        )

    def _assign_pending(self) -> None:
        waiting = [t for t in self._store.tasks_with_status(TaskStatus.BATCHED) if t.assign_tx is None]
        to_send = []
        for task in waiting:
            if self._book.state(task.id) is ChainTaskState.UNKNOWN:
                to_send.append(task)
            else:
                logger.info("task already assigned on chain task=%s", task.id)
                self._store.update_task(task.id, assign_tx=RECOVERED)
        if not to_send:
            return
        try:
            self._send(to_send)
        except TransactionRevertedError:
            if len(to_send) == 1:
                raise
            # One bad commitment must not hold back the others: find it by assigning one at a time.
            for task in to_send:
                try:
                    self._send([task])
                except TransactionRevertedError as exc:
                    logger.error("assignment refused task=%s reason=%s", task.id, exc)
                    self._store.update_task(task.id, TaskStatus.FAILED, reason=f"assignment refused: {exc}")

    def _send(self, tasks: Sequence[TaskRow]) -> None:
        commitments = [
            Commitment(t.project, t.device, t.first_nonce, t.last_nonce, FieldElement(t.root), self._prover)
            for t in tasks
        ]
        outcome = self._book.assign(commitments, self._deadline_blocks)
        gas_each = outcome.gas_used // len(tasks)
        for task in tasks:
            self._store.update_task(task.id, assign_tx=outcome.tx_hash, gas_assign=gas_each)
        logger.info("tasks assigned count=%d tx=%s gas=%d", len(tasks), outcome.tx_hash, outcome.gas_used)
