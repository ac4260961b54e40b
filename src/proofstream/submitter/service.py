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

Routes are batched: the tasks ready at a tick under one config version go in one ``routeBatch`` transaction (at most
``max_batch``), with one batched check of their proofs. A proof waits for others at most ``wait_seconds``, and not
at all when no other task could still join (none is being proven or could be). When a batch reverts, it is split
in two and each half routed again (bisection): a bad proof, or a task the Router refuses, ends up alone and is
handled as a single route is, and the good ones settle without it.

A task whose proof was made against the anchor an earlier task of its device still on its way will leave (the
prover's chained proving: its predecessor, or the task before a predecessor that failed) joins that task's batch,
right after it, under the same config version: the Router settles the earlier task first, and the task meets the
anchor it left. Otherwise it waits for that task, and is never routed before it.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence

from proofstream import logs as log
from proofstream.domain.tasks import FINAL, TaskStatus
from proofstream.domain.types import TaskId
from proofstream.errors import StaleTaskError, TransactionRevertedError
from proofstream.ports import ChainTaskState, RouteRequest, TaskBook
from proofstream.store.anchors import anchor_left_by, unfinished_before
from proofstream.store.ports import Store, StoredProof, TaskRow, TaskUpdate
from proofstream.store.retry import DEFAULT_BACKOFF, Backoff, TaskWriter

logger = logging.getLogger(__name__)

RETRIED_REFUSALS = frozenset({"PredecessorPending", "ProjectNotActive", "DeadlinePassed", "DappGasTooLow"})
"""Router refusals about the moment, not the task: the route is tried again (a deadline that passed is expired and
reassigned first)."""

DROP_PROOF = TaskUpdate(drop_proof=True)
"""A proof made against an anchor the chain no longer holds: the task goes back to be proven again."""


class _Readiness(enum.Enum):
    READY = "ready"
    FOLLOWS = "follows"


_READY = _Readiness.READY
"""Routable now: the chain holds the anchor the proof was made against."""
_FOLLOWS = _Readiness.FOLLOWS
"""Routable only right after an earlier task of its device: its predecessor still Assigned on chain, or the task its
proof was chained on, still on its way."""


def _leaves_anchor_for(before: TaskRow, task: TaskRow) -> bool:
    """Whether ``task``'s proof was made against the anchor ``before``'s proof leaves."""
    assert before.proof is not None and task.proof is not None
    return task.proof.made_against(before.proof.next_anchor(before.config), task.config)


class Submitter:
    def __init__(
        self,
        store: Store,
        book: TaskBook,
        *,
        deadline_blocks: int = 1000,
        backoff: Backoff = DEFAULT_BACKOFF,
        max_batch: int = 64,
        wait_seconds: float = 0.0,
        chained: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``deadline_blocks``: the fresh deadline of a reassigned task (the sequencer's ``chain.deadline_blocks``);
        ``backoff``: how a failed task write is retried (``store.retry``); ``max_batch``: most tasks per route
        transaction; ``wait_seconds``: how long a ready proof may wait for others to join its batch; ``chained``:
        the provers prove a task before its predecessor settles (prover/service.py), so any batched task could
        join a batch."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._store = store
        self._tasks = TaskWriter(store, backoff)
        self._book = book
        self._deadline_blocks = deadline_blocks
        self._max_batch = max_batch
        self._wait_seconds = wait_seconds
        self._chained = chained
        self._clock = clock
        self._ready_since: dict[int, float] = {}

    def tick(self) -> int:
        """Route the proven tasks that are ready, in batches; reconcile tasks left in ``submitted``. Returns how
        many reached a final state."""
        done = 0
        for task in self._store.tasks_with_status(TaskStatus.SUBMITTED):
            done += self._reconcile(task)
        ready: list[TaskRow] = []
        following: list[TaskRow] = []
        for task in self._store.tasks_with_status(TaskStatus.PROVING):
            if task.proof is not None:
                outcome = self._prepare(task, task.proof)
                if isinstance(outcome, int):
                    done += outcome
                elif outcome is _READY:
                    ready.append(task)
                else:
                    following.append(task)
        seen = {t.id for t in ready} | {t.id for t in following}
        ready = self._with_followers(ready, following)
        if not ready or not self._due(ready, seen):
            return done
        groups: dict[tuple[int, int], list[TaskRow]] = {}
        for task in ready:
            groups.setdefault((task.project, task.config), []).append(task)
        for group in groups.values():
            for at in range(0, len(group), self._max_batch):
                done += self._route(group[at : at + self._max_batch])
        return done

    def _with_followers(self, ready: list[TaskRow], following: Sequence[TaskRow]) -> list[TaskRow]:
        """``ready`` with each waiting task whose nearest unfinished earlier task (its predecessor, or the one
        before a predecessor that failed) is in it, transitively, and whose proof was made against the anchor that
        task's proof leaves; every task after it."""
        joined = {t.id: t for t in ready}
        # Read once: a task's earlier tasks do not change status within the tick's view of the store.
        earlier_of = {t.id: unfinished_before(self._store, t) for t in following}
        waiting = list(following)
        while waiting:
            left = []
            for task in waiting:
                earlier = earlier_of[task.id]
                before = joined.get(earlier.id) if earlier is not None else None
                if before is None:
                    left.append(task)
                elif before.config == task.config and _leaves_anchor_for(before, task):
                    joined[task.id] = task
            if len(left) == len(waiting):
                break
            waiting = left
        # Assignment order within a device (first nonces rise with task ids' assignment), devices in any order.
        return sorted(joined.values(), key=lambda t: (t.device.lower(), t.first_nonce))

    def _due(self, ready: Sequence[TaskRow], seen: set[TaskId]) -> bool:
        """Whether to route now: a full batch, a proof that waited long enough, or nothing else that could join (no
        task being proven or that could be). ``seen``: the proven tasks this tick looked at; one proven since (after
        the scan) could still join. Messages not yet cut do not hold a batch: they may wait for a window of minutes,
        or for ever (those of a retired version)."""
        now = self._clock()
        since = [self._ready_since.setdefault(t.id, now) for t in ready]
        if len(ready) >= self._max_batch or now - min(since) >= self._wait_seconds:
            return True
        return not any(
            self._could_join(t)
            for t in self._store.tasks_with_status(TaskStatus.BATCHED, TaskStatus.PROVING)
            if t.proof is None or t.id not in seen
        )

    def _could_join(self, task: TaskRow) -> bool:
        """A task without a proof that is being proven or can be (chained proving, or its predecessor is final)."""
        if task.status is TaskStatus.PROVING or self._chained:
            return True
        previous = self._store.previous_task(task.project, task.device, task.first_nonce)
        return previous is None or previous.status in FINAL

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

    def _prepare(self, task: TaskRow, proof: StoredProof) -> int | _Readiness:
        """``_READY`` when ``task`` can be routed now, ``_FOLLOWS`` when only right after an earlier task of its
        device (:data:`_FOLLOWS`); else how many tasks this made final (0 or 1)."""
        state = self._book.state(task.id)
        if state in (ChainTaskState.ASSIGNED, ChainTaskState.EXPIRED):
            if not self._book.project_active(task.project):
                # Paused: the Router would refuse the route and TaskManager a reassignment; keep the proof and
                # wait for the resume (an overdue task is expired and reassigned then).
                return 0
            state = self._revive(task, state)
        if state is not ChainTaskState.ASSIGNED:
            return self._finish_from_chain(task, state)
        if self._book.predecessor_pending(task.id):
            self._unblock_predecessor(task)
            # The Router routes a device's tasks in order: with the predecessor in the same batch, or after it.
            return _FOLLOWS
        anchor = self._book.anchor(task.project, task.device)
        if not proof.made_against(anchor, task.config):
            earlier = unfinished_before(self._store, task)
            left = anchor_left_by(self._store, earlier) if earlier is not None else None
            if left is not None and proof.made_against(left, task.config):
                # Chained on an earlier task still on its way (its predecessor failed, or was released or expired,
                # before it): routed right after that one, never before it.
                return _FOLLOWS
            log.warning(
                logger,
                "proof made against another anchor, proving again",
                task=task.id,
                proof_anchor=proof.prev_time,
                chain_anchor=anchor.timestamp,
            )
            self._tasks.update(task.id, TaskStatus.BATCHED, DROP_PROOF, expect=TaskStatus.PROVING)
            return 0
        return _READY

    def _route(self, tasks: Sequence[TaskRow]) -> int:
        """Mark ``tasks`` submitted and route them in one transaction (one task: a plain route)."""
        taken = []
        for task in tasks:
            self._ready_since.pop(task.id, None)
            try:
                self._tasks.update(task.id, TaskStatus.SUBMITTED, expect=TaskStatus.PROVING)
            except StaleTaskError:
                continue  # another submitter took it
            taken.append(task)
        return self._send(taken)

    def _send(self, tasks: Sequence[TaskRow]) -> int:
        """Route submitted ``tasks``; a batch that reverts is split in two and each half sent again."""
        if not tasks:
            return 0
        proofs = [t.proof for t in tasks]
        assert all(p is not None for p in proofs)
        if len(tasks) == 1:
            return self._send_one(tasks[0])
        requests = [
            RouteRequest(t.id, tuple(p.outputs), p.next_anchor(t.config), p.calldata)
            for t, p in zip(tasks, proofs, strict=True)
            if p is not None
        ]
        try:
            outcomes = self._book.route_batch(requests)
        except TransactionRevertedError as exc:
            # Nothing settled: find the task the batch fails on by halves, the others settle without it.
            log.warning(logger, "route batch refused, splitting it", tasks=len(tasks), reason=exc.error_name or exc)
            half = len(tasks) // 2
            return self._send(tasks[:half]) + self._send(tasks[half:])
        for task, outcome in zip(tasks, outcomes, strict=True):
            self._record(task, outcome.tx_hash, outcome.gas_used, outcome.settled, outcome.reason)
        return len(tasks)

    def _send_one(self, task: TaskRow) -> int:
        proof = task.proof
        assert proof is not None
        try:
            outcome = self._book.route(task.id, list(proof.outputs), proof.next_anchor(task.config), proof.calldata)
        except TransactionRevertedError as exc:
            # Only a refusal that says something about the task ends it; an unreachable node
            # (ChainUnavailableError) propagates, the task stays ``submitted`` and the next tick reconciles it.
            return self._refused(task, proof, exc)
        self._record(task, outcome.tx_hash, outcome.gas_used, outcome.settled, outcome.reason)
        return 1

    def _record(self, task: TaskRow, tx_hash: str, gas: int, settled: bool, reason: str | None) -> None:
        status = TaskStatus.SETTLED if settled else TaskStatus.FAILED
        self._tasks.update(task.id, status, TaskUpdate(route_tx=tx_hash, gas_route=gas, reason=reason))
        log.info(logger, "task routed", task=task.id, status=status, tx=tx_hash, gas=gas)

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
