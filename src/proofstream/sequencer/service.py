"""Turns stored messages into tasks: cut (batching policy), commit (Poseidon Merkle root), assign (on chain).

A task is written to the store before its assignment transaction is sent, and a task that has no assignment tx
yet is first looked up on chain: after a crash between the two, the sequencer neither loses the task nor
assigns it twice.

Config versions (docs/protocol.md, "Versions and upgrades"): a task holds messages of one config version and is
assigned under it. Messages of a version that is no longer live on chain are left unbatched (kept in the store,
counted in :attr:`Sequencer.held_back`, logged once per version); a task cut while its version was live but not yet
assigned when it retired fails with that reason. While the project is paused nothing is cut or assigned.

In the latency mode (a policy with ``backlog_joins``) a device with a task in flight (batched, proving or
submitted) gets no new task: its messages wait, and join one task once that task is final.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from proofstream import logs as log
from proofstream.domain.batching import Batch, BatchPolicy, Pending, cut_batches
from proofstream.domain.merkle import build_tree
from proofstream.domain.messages import message_leaf
from proofstream.domain.tasks import FINAL, TaskStatus, gas_shares, task_id
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import TransactionRevertedError
from proofstream.ports import ChainTaskState, TaskBook
from proofstream.store.ports import Store, StoredMessage, TaskRow, TaskUpdate
from proofstream.store.retry import DEFAULT_BACKOFF, Backoff, TaskWriter

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
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        """``backoff``: how a failed task write is retried (``store.retry``)."""
        if policy.capacity != 2**depth:
            raise ValueError(f"batch capacity {policy.capacity} must equal the circuit's 2**{depth} slots")
        self._store = store
        self._tasks = TaskWriter(store, backoff)
        self._book = book
        self._project = project
        self._depth = depth
        self._policy = policy
        self._prover = prover
        self._deadline_blocks = deadline_blocks
        self._clock = clock
        self._held: dict[ConfigVersion, int] = {}
        self._reported_versions: set[ConfigVersion] = set()
        self._paused = False

    @property
    def held_back(self) -> Mapping[ConfigVersion, int]:
        """Messages the last tick left unbatched because their config version is not live, per version."""
        return dict(self._held)

    @property
    def paused(self) -> bool:
        """True when the last tick found the project paused on chain."""
        return self._paused

    def tick(self, *, flush: bool = False) -> list[TaskRow]:
        """Cut what is ready, then assign every task still waiting for its assignment. Returns the new tasks."""
        stored = self._store.unbatched_messages(self._project)
        if not stored and not self._waiting():
            self._held = {}
            return []  # nothing to do: spare the chain the liveness queries
        if not self._book.project_active(self._project):
            if not self._paused:
                log.warning(
                    logger, "project paused on chain, nothing cut or assigned until it resumes", project=self._project
                )
            self._paused = True
            return []
        if self._paused:
            log.info(logger, "project resumed on chain", project=self._project)
            self._paused = False
        live = self._liveness()
        created = self._cut(stored, live, flush=flush)
        self._assign_pending(live)
        return created

    def _waiting(self) -> list[TaskRow]:
        """Tasks cut but not yet assigned, in each device's nonce order (TaskManager only accepts ranges that move
        forward, and tasks cut in one tick may share a creation time)."""
        waiting = [t for t in self._store.tasks_with_status(TaskStatus.BATCHED) if t.assign_tx is None]
        return sorted(waiting, key=lambda t: (t.device.lower(), t.first_nonce))

    def _liveness(self) -> Callable[[ConfigVersion], bool]:
        """Whether a version is live on chain, asked at most once per version per tick."""
        known: dict[ConfigVersion, bool] = {}

        def live(version: ConfigVersion) -> bool:
            if version not in known:
                known[version] = self._book.version_live(self._project, version)
            return known[version]

        return live

    def _cut(
        self, messages: Sequence[StoredMessage], live: Callable[[ConfigVersion], bool], *, flush: bool
    ) -> list[TaskRow]:
        stored = {m.id: m for m in messages}
        held: Counter[ConfigVersion] = Counter()
        pending = []
        busy = self._in_flight() if self._policy.backlog_joins else set()
        for m in messages:
            version = ConfigVersion(m.message.config)
            if m.message.device.lower() in busy:
                continue  # the latency mode: it joins the device's next task once the one in flight is final
            if live(version):
                pending.append(Pending(m.id, m.message.device, m.message.nonce, m.message.timestamp, version))
            else:
                held[version] += 1
        self._report_held(held)
        created = []
        for batch in cut_batches(pending, self._policy, now=int(self._clock()), flush=flush):
            in_batch = [stored[p.message_id] for p in batch.messages]
            task = self._task_of(batch, in_batch)
            self._tasks.write(task.id, partial(self._store.create_task, task, [m.id for m in in_batch]))
            log.info(
                logger,
                "task cut",
                task=task.id,
                device=task.device,
                config=task.config,
                count=len(in_batch),
                nonces=f"{task.first_nonce}..{task.last_nonce}",
            )
            created.append(task)
        return created

    def _in_flight(self) -> set[str]:
        """Devices (lower-case) of this project with a task not yet settled or failed."""
        open_statuses = [status for status in TaskStatus if status not in FINAL]
        return {t.device.lower() for t in self._store.tasks_with_status(*open_statuses) if t.project == self._project}

    def _report_held(self, held: Counter[ConfigVersion]) -> None:
        for version in sorted(held.keys() - self._reported_versions):
            # Once per version: the messages are kept (the device can see them as received), but no task can be
            # assigned under a retired version, so they will never be batched.
            log.warning(
                logger,
                "config version not live on chain, its messages left unbatched",
                project=self._project,
                config=version,
                count=held[version],
            )
            self._reported_versions.add(version)
        self._held = dict(held)

    def _task_of(self, batch: Batch, messages: Sequence[StoredMessage]) -> TaskRow:
        leaves = [message_leaf(self._project, m.message) for m in messages]
        configs = {m.message.config for m in messages}
        if configs != {batch.config}:
            # The policy cuts at every version change; a task is proven under exactly one version.
            raise ValueError(f"batch mixes config versions {sorted(configs)}")
        return TaskRow(
            id=task_id(self._book.chain_id, self._book.task_manager, self._project, batch.device, batch.first_nonce),
            project=self._project,
            config=batch.config,
            device=batch.device,
            first_nonce=batch.first_nonce,
            last_nonce=batch.last_nonce,
            root=build_tree(leaves, self._depth).root,
            created_at=self._clock(),
        )

    def _assign_pending(self, live: Callable[[ConfigVersion], bool]) -> None:
        to_send = []
        for task in self._waiting():
            if self._book.state(task.id) is not ChainTaskState.UNKNOWN:
                log.info(logger, "task already assigned on chain", task=task.id)
                self._tasks.update(task.id, change=TaskUpdate(assign_tx=RECOVERED))
            elif not live(task.config):
                reason = f"config version {task.config} retired before the task was assigned"
                log.error(logger, "assignment impossible", task=task.id, reason=reason)
                self._tasks.update(task.id, TaskStatus.FAILED, TaskUpdate(reason=reason))
            else:
                to_send.append(task)
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
                    log.error(logger, "assignment refused", task=task.id, reason=exc)
                    self._tasks.update(task.id, TaskStatus.FAILED, TaskUpdate(reason=f"assignment refused: {exc}"))

    def _send(self, tasks: Sequence[TaskRow]) -> None:
        commitments = [t.commitment(self._prover) for t in tasks]
        outcome = self._book.assign(commitments, self._deadline_blocks)
        for task, gas in zip(tasks, gas_shares(outcome.gas_used, len(tasks)), strict=True):
            self._tasks.update(task.id, change=TaskUpdate(assign_tx=outcome.tx_hash, gas_assign=gas))
        log.info(logger, "tasks assigned", count=len(tasks), tx=outcome.tx_hash, gas=outcome.gas_used)
