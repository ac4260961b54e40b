"""Routes proven tasks: already settled? -> mark submitted -> route (simulate, sign, send, receipt) -> record.

The task is marked ``submitted`` before the transaction leaves, so a node killed while the transaction is in
flight finds it in that state on restart and asks the chain ("already settled?") before anything is sent again.
"""

from __future__ import annotations

import logging

from proofstream.domain.tasks import TaskStatus
from proofstream.errors import StoreError, TransactionRevertedError
from proofstream.ports import ChainTaskState, TaskBook
from proofstream.store.ports import Store, TaskRow

logger = logging.getLogger(__name__)


class Submitter:
    def __init__(self, store: Store, book: TaskBook) -> None:
        self._store = store
        self._book = book

    def tick(self) -> int:
        """Route every proven task; reconcile tasks left in ``submitted``. Returns how many reached a final state."""
        done = 0
        for task in self._store.tasks_with_status(TaskStatus.SUBMITTED):
            done += self._reconcile(task)
        for task in self._store.tasks_with_status(TaskStatus.PROVING):
            if task.proof is not None:
                done += self._submit(task)
        return done

    def _reconcile(self, task: TaskRow) -> int:
        state = self._book.state(task.id)
        if state is ChainTaskState.ASSIGNED:
            # The route tx never made it into a block: hand the task back to be sent again.
            logger.warning("route tx not on chain, resending task=%s", task.id)
            self._store.update_task(task.id, TaskStatus.PROVING, expect=TaskStatus.SUBMITTED)
            return 0
        return self._finish_from_chain(task, state)

    def _finish_from_chain(self, task: TaskRow, state: ChainTaskState) -> int:
        if state is ChainTaskState.SETTLED:
            self._store.update_task(task.id, TaskStatus.SETTLED)
        elif state is ChainTaskState.FAILED:
            self._store.update_task(task.id, TaskStatus.FAILED, reason=task.reason or "failed on chain")
        else:
            return 0
        logger.info("task final on chain task=%s state=%s", task.id, state)
        return 1

    def _submit(self, task: TaskRow) -> int:
        state = self._book.state(task.id)
        if state is not ChainTaskState.ASSIGNED:
            return self._finish_from_chain(task, state)
        if not self._book.project_active(task.project):
            return 0  # paused: the Router would refuse the route; keep the proof and wait for the resume
        try:
            self._store.update_task(task.id, TaskStatus.SUBMITTED, expect=TaskStatus.PROVING)
        except StoreError:
            return 0  # another submitter took it
        proof = task.proof
        try:
            outcome = self._book.route(task.id, [int(x) for x in task.outputs], bytes.fromhex(proof["calldata"]))
        except TransactionRevertedError as exc:
            # Only a refusal ends the task; an unreachable node (ChainUnavailableError) propagates, the task
            # stays ``submitted`` and the next tick reconciles it with the chain.
            logger.error("route refused task=%s reason=%s", task.id, exc)
            state = self._book.state(task.id)
            if state is ChainTaskState.ASSIGNED:
                self._store.update_task(task.id, TaskStatus.FAILED, reason=f"route refused: {exc}")
                return 1
            return self._finish_from_chain(task, state)
        status = TaskStatus.SETTLED if outcome.settled else TaskStatus.FAILED
        self._store.update_task(
            task.id, status, route_tx=outcome.tx_hash, gas_route=outcome.gas_used, reason=outcome.reason
        )
        logger.info("task routed task=%s status=%s tx=%s gas=%d", task.id, status, outcome.tx_hash, outcome.gas_used)
        return 1
