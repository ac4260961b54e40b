"""Routes proven tasks: already settled? -> mark submitted -> route (simulate, sign, send, receipt) -> record.

The task is marked ``submitted`` before the transaction leaves, so a node killed while the transaction is in
flight finds it in that state on restart and asks the chain ("already settled?") before anything is sent again.

Protocol v2 (domain/anchor.py) adds three rules:
- a device's tasks are routed in assignment order: a task whose predecessor is still Assigned on chain waits
  (never marked failed for it); a predecessor this node gave up on (failed before it verified) is released by
  this node's prover at once, or expired once its deadline passes, so the device's later tasks do not stall;
- a proof is routed only while the chain holds the anchor it was made against; otherwise it is proven again;
- a task past its deadline is expired and reassigned to this node's prover with a fresh deadline (its proof
  stays valid: the deadline is not among its public inputs).
"""

from __future__ import annotations

import logging

from proofstream import logs as log
from proofstream.domain.tasks import TaskStatus
from proofstream.errors import StaleTaskError, TransactionRevertedError
from proofstream.ports import ChainTaskState, TaskBook
from proofstream.store.ports import Store, StoredProof, TaskRow, TaskUpdate
from proofstream.store.retry import DEFAULT_BACKOFF, Backoff, TaskWriter

logger = logging.getLogger(__name__)

RETRIED_REFUSALS = frozenset({"PredecessorPending", "ProjectNotActive", "DeadlinePassed", "DappGasTooLow"})
"""Router refusals about the moment, not the task: the route is tried again (a deadline that passed is expired and
reassigned first)."""

DROP_PROOF = TaskUpdate(drop_proof=True)
"""A proof made against an anchor the chain no longer holds: the task goes back to be proven again."""


class Submitter:
    def __init__(
        self, store: Store, book: TaskBook, *, deadline_blocks: int = 1000, backoff: Backoff = DEFAULT_BACKOFF
    ) -> None:
        """``deadline_blocks``: the fresh deadline of a reassigned task (the sequencer's ``chain.deadline_blocks``);
        ``backoff``: how a failed task write is retried (``store.retry``)."""
        self._store = store
        self._tasks = TaskWriter(store, backoff)
        self._book = book
        self._deadline_blocks = deadline_blocks

    def tick(self) -> int:
        """Route every proven task; reconcile tasks left in ``submitted``. Returns how many reached a final state."""
        done = 0
        for task in self._store.tasks_with_status(TaskStatus.SUBMITTED):
            done += self._reconcile(task)
        for task in self._store.tasks_with_status(TaskStatus.PROVING):
            if task.proof is not None:
                done += self._submit(task, task.proof)
        return done

    def _reconcile(self, task: TaskRow) -> int:
        state = self._book.state(task.id)
        if state in (ChainTaskState.ASSIGNED, ChainTaskState.EXPIRED):
            # The route tx never made it into a block: hand the task back to be sent again.
            log.warning(logger, "route tx not on chain, resending", task=task.id)
            self._tasks.update(task.id, TaskStatus.PROVING, expect=TaskStatus.SUBMITTED)
            return 0
        return self._finish_from_chain(task, state)

    def _finish_from_chain(self, task: TaskRow, state: ChainTaskState) -> int:
        if state is ChainTaskState.SETTLED:
            self._tasks.update(task.id, TaskStatus.SETTLED)
        elif state is ChainTaskState.FAILED:
            self._tasks.update(task.id, TaskStatus.FAILED, TaskUpdate(reason=task.reason or "failed on chain"))
        else:
            return 0
        log.info(logger, "task final on chain", task=task.id, state=state)
        return 1

    def _revive(self, task: TaskRow, state: ChainTaskState) -> ChainTaskState:
        """Expire the task if its deadline passed, and reassign an expired one to this node's prover."""
        if state is ChainTaskState.ASSIGNED and self._book.overdue(task.id):
            outcome = self._book.expire(task.id)
            log.warning(logger, "task past its deadline, expired", task=task.id, tx=outcome.tx_hash)
            state = ChainTaskState.EXPIRED
        if state is ChainTaskState.EXPIRED:
            outcome = self._book.reassign(task.id, self._deadline_blocks)
            log.info(logger, "task reassigned with a fresh deadline", task=task.id, tx=outcome.tx_hash)
            state = ChainTaskState.ASSIGNED
        return state

    def _unblock_predecessor(self, task: TaskRow) -> None:
        """A predecessor this node will never route (failed in the store) is released (this node's prover holds
        it), or expired once it is overdue (another prover holds it)."""
        previous = self._store.previous_task(task.project, task.device, task.first_nonce)
        if previous is None or previous.status is not TaskStatus.FAILED:
            return  # still in flight here: it settles, fails on chain or is expired in its own turn
        if self._book.state(previous.id) is not ChainTaskState.ASSIGNED:
            return
        if self._book.overdue(previous.id):
            outcome = self._book.expire(previous.id)
        else:
            try:
                outcome = self._book.release(previous.id)
            except TransactionRevertedError as exc:
                log.info(
                    logger, "predecessor held by another prover, waiting for its deadline", task=task.id, error=exc
                )
                return
        log.warning(
            logger, "ended a failed predecessor on chain", task=task.id, predecessor=previous.id, tx=outcome.tx_hash
        )

    def _submit(self, task: TaskRow, proof: StoredProof) -> int:
        state = self._revive(task, self._book.state(task.id))
        if state is not ChainTaskState.ASSIGNED:
            return self._finish_from_chain(task, state)
        if not self._book.project_active(task.project):
            return 0  # paused: the Router would refuse the route; keep the proof and wait for the resume
        if self._book.predecessor_pending(task.id):
            self._unblock_predecessor(task)
            return 0  # the Router routes a device's tasks in order: wait for the predecessor
        anchor = self._book.anchor(task.project, task.device)
        if not proof.made_against(anchor, task.config):
            log.warning(
                logger,
                "proof made against another anchor, proving again",
                task=task.id,
                proof_anchor=proof.prev_time,
                chain_anchor=anchor.timestamp,
            )
            self._tasks.update(task.id, TaskStatus.BATCHED, DROP_PROOF, expect=TaskStatus.PROVING)
            return 0
        try:
            self._tasks.update(task.id, TaskStatus.SUBMITTED, expect=TaskStatus.PROVING)
        except StaleTaskError:
            return 0  # another submitter took it
        try:
            outcome = self._book.route(task.id, list(proof.outputs), proof.next_anchor(task.config), proof.calldata)
        except TransactionRevertedError as exc:
            # Only a refusal that says something about the task ends it; an unreachable node
            # (ChainUnavailableError) propagates, the task stays ``submitted`` and the next tick reconciles it.
            return self._refused(task, proof, exc)
        status = TaskStatus.SETTLED if outcome.settled else TaskStatus.FAILED
        routed = TaskUpdate(route_tx=outcome.tx_hash, gas_route=outcome.gas_used, reason=outcome.reason)
        self._tasks.update(task.id, status, routed)
        log.info(logger, "task routed", task=task.id, status=status, tx=outcome.tx_hash, gas=outcome.gas_used)
        return 1

    def _refused(self, task: TaskRow, proof: StoredProof, exc: TransactionRevertedError) -> int:
        """A route the Router refused: retried when the refusal is about the moment (a predecessor still pending,
        a pause, a deadline just passed, too little gas), proven again when the anchor moved under the proof, and
        failed only when it is about the task itself (an invalid proof, a deactivated device)."""
        state = self._book.state(task.id)
        if state is not ChainTaskState.ASSIGNED:
            return self._finish_from_chain(task, state)
        name = exc.error_name
        if name in RETRIED_REFUSALS or self._book.predecessor_pending(task.id):
            log.info(logger, "route refused for now, will retry", task=task.id, reason=name or exc)
            self._tasks.update(task.id, TaskStatus.PROVING, expect=TaskStatus.SUBMITTED)
            return 0
        if name == "InvalidProof" and not proof.made_against(self._book.anchor(task.project, task.device), task.config):
            log.warning(logger, "the anchor moved under the proof, proving again", task=task.id)
            self._tasks.update(task.id, TaskStatus.BATCHED, DROP_PROOF, expect=TaskStatus.SUBMITTED)
            return 0
        log.error(logger, "route refused", task=task.id, reason=exc)
        self._tasks.update(task.id, TaskStatus.FAILED, TaskUpdate(reason=f"route refused: {exc}"))
        return 1
