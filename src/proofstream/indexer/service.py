"""Follows DeviceRegistered (with a BabyJubJub device's key), DeviceDeactivated, TaskSettled and TaskFailed events
into the store, from a checkpoint.

The device allowlist the gateway checks is what the chain says, and a task the submitter lost track of (killed
after its route tx was mined) still ends settled, with the tx hash taken from the event.
"""

from __future__ import annotations

import logging

from proofstream import logs as log
from proofstream.domain.tasks import FINAL, TaskStatus
from proofstream.indexer.ports import ChainEvents
from proofstream.store.ports import Store, TaskUpdate
from proofstream.store.retry import DEFAULT_BACKOFF, Backoff, TaskWriter

logger = logging.getLogger(__name__)

CHECKPOINT = "indexer.block"
MAX_RANGE = 5_000
"""Blocks per eth_getLogs request: nodes cap the range a single query may span."""


class Indexer:
    def __init__(
        self, store: Store, events: ChainEvents, *, start_block: int, backoff: Backoff = DEFAULT_BACKOFF
    ) -> None:
        """``backoff``: how a failed task write is retried (``store.retry``)."""
        self._store = store
        self._tasks = TaskWriter(store, backoff)
        self._events = events
        self._start_block = start_block

    def tick(self) -> int:
        """Read the events of the blocks since the checkpoint; returns the number of the last block read."""
        saved = self._store.get_checkpoint(CHECKPOINT)
        first = int(saved) + 1 if saved is not None else self._start_block
        latest = self._events.latest_block()
        while first <= latest:
            last = min(latest, first + MAX_RANGE - 1)
            self._apply(first, last)
            self._store.set_checkpoint(CHECKPOINT, str(last))
            first = last + 1
        return latest

    def _apply(self, first: int, last: int) -> None:
        for reg in self._events.device_registrations(first, last):
            self._store.upsert_device(reg.project, reg.device, reg.owner, key=reg.key)
            log.info(logger, "device registered", project=reg.project, device=reg.device, owner=reg.owner)
        # After the registrations of the same range: a deactivation is final, so no later registration undoes it.
        for gone in self._events.device_deactivations(first, last):
            self._store.deactivate_device(gone.project, gone.device)
            log.info(logger, "device deactivated", project=gone.project, device=gone.device)
        for outcome in self._events.task_outcomes(first, last):
            task = self._store.get_task(outcome.task_id)
            if task is None:
                continue
            if task.status in FINAL:
                # The submitter may have finished it from the chain's state alone (after a restart), which
                # carries no tx hash: the event is where that hash comes from.
                if task.route_tx is None:
                    self._tasks.update(task.id, change=TaskUpdate(route_tx=outcome.tx_hash))
                continue
            status = TaskStatus.SETTLED if outcome.settled else TaskStatus.FAILED
            self._tasks.update(task.id, status, TaskUpdate(route_tx=outcome.tx_hash, reason=outcome.reason))
            log.info(logger, "task final from chain", task=task.id, status=status, tx=outcome.tx_hash)
