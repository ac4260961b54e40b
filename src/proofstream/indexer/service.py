"""Follows DeviceRegistered (with a BabyJubJub or P-256 device's key), DeviceTransferred, DeviceDeactivated,
TaskSettled and TaskFailed events into the store, from a checkpoint, ``confirmations`` blocks behind the chain's
head.

The device allowlist the gateway checks, and each device's owner, are what the chain says, and a task the
submitter lost track of (killed after its route tx was mined) still ends settled, with the tx hash taken from the
event.

The checkpoint holds the last block read and the hashes of the last blocks of the ranges read since. When the
chain no longer has the checkpoint's block under its hash (a reorganisation deeper than ``confirmations``), the
indexer goes back to the newest kept block the chain still has, undoes the device rows and transfers of the blocks
after it (:meth:`~proofstream.store.ports.Store.rewind_devices`) and reads them again from the new chain.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from proofstream import logs as log
from proofstream.domain.tasks import FINAL, TaskStatus
from proofstream.errors import StoreError
from proofstream.indexer.ports import ChainEvents, DeviceDeactivation, DeviceRegistration, DeviceTransfer, TaskOutcome
from proofstream.store.ports import Store, TaskUpdate
from proofstream.store.retry import DEFAULT_BACKOFF, Backoff, TaskWriter

logger = logging.getLogger(__name__)

CHECKPOINT = "indexer.block"
"""The store checkpoint: JSON ``{"block": N, "hashes": [[number, hash], ...]}`` (a bare block number, as earlier
versions wrote it, is read as a checkpoint without hashes)."""
MAX_RANGE = 5_000
"""Blocks per eth_getLogs request: nodes cap the range a single query may span."""
KEPT_HASHES = 64
"""Block hashes the checkpoint keeps (the last block of each range read, newest last): a reorganisation is undone
from the newest of them the chain still has, or from the start block when it has none of them."""


@dataclass(frozen=True)
class Checkpoint:
    block: int
    """The last block read."""
    hashes: tuple[tuple[int, str], ...] = ()
    """(number, hash) of blocks read, oldest first; the last is ``block``'s once one was read."""

    def to_json(self) -> str:
        return json.dumps({"block": self.block, "hashes": [list(h) for h in self.hashes]}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> Checkpoint:
        value = json.loads(raw)
        if isinstance(value, int):
            return cls(value)
        if isinstance(value, dict) and isinstance(value.get("block"), int):
            return cls(value["block"], tuple((int(n), str(h)) for n, h in value.get("hashes", [])))
        raise StoreError(f"the indexer's checkpoint {raw!r} is not one it wrote")

    def advanced(self, block: int, block_hash: str) -> Checkpoint:
        kept = (*(h for h in self.hashes if h[0] < block), (block, block_hash))
        return Checkpoint(block, kept[-KEPT_HASHES:])


@dataclass(frozen=True)
class _Events:
    """What one range's reads found."""

    registrations: list[DeviceRegistration]
    transfers: list[DeviceTransfer]
    deactivations: list[DeviceDeactivation]
    outcomes: list[TaskOutcome]


class Indexer:
    def __init__(
        self,
        store: Store,
        events: ChainEvents,
        *,
        start_block: int,
        confirmations: int = 0,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        """``confirmations``: blocks that must follow a block before its events are read; ``backoff``: how a failed
        task write is retried (``store.retry``)."""
        self._store = store
        self._tasks = TaskWriter(store, backoff)
        self._events = events
        self._start_block = start_block
        self._confirmations = confirmations

    def tick(self) -> int:
        """Read the events of the confirmed blocks since the checkpoint; returns the number of the last confirmed
        block."""
        saved = self._store.get_checkpoint(CHECKPOINT)
        checkpoint = self._unwind(Checkpoint.from_json(saved)) if saved is not None else None
        first = checkpoint.block + 1 if checkpoint is not None else self._start_block
        confirmed = self._events.latest_block() - self._confirmations
        while first <= confirmed:
            last = min(confirmed, first + MAX_RANGE - 1)
            before = self._events.block_hash(last)
            read = self._read(first, last)
            if before is None or before != self._events.block_hash(last):
                # The chain changed under the reads, which may hold events of either chain: next tick reads again.
                log.warning(logger, "chain reorganised while reading", first=first, last=last)
                break
            self._apply(read)
            checkpoint = (checkpoint or Checkpoint(first - 1)).advanced(last, before)
            self._store.set_checkpoint(CHECKPOINT, checkpoint.to_json())
            first = last + 1
        return confirmed

    def _unwind(self, checkpoint: Checkpoint) -> Checkpoint:
        """The checkpoint itself while the chain still has its block; otherwise the newest kept block the chain
        still has (or the one before the start block), after undoing the device rows of the blocks after it."""
        if not checkpoint.hashes or self._on_chain(checkpoint.hashes[-1]):
            return checkpoint
        kept = [h for h in checkpoint.hashes[:-1] if self._on_chain(h)]
        fork = kept[-1][0] if kept else self._start_block - 1
        self._store.rewind_devices(fork)
        log.warning(logger, "chain reorganised: reading again", block=checkpoint.block, back_to=fork)
        back = Checkpoint(fork, tuple(kept))
        self._store.set_checkpoint(CHECKPOINT, back.to_json())
        return back

    def _on_chain(self, kept: tuple[int, str]) -> bool:
        return self._events.block_hash(kept[0]) == kept[1]

    def _read(self, first: int, last: int) -> _Events:
        events = self._events
        return _Events(
            events.device_registrations(first, last),
            events.device_transfers(first, last),
            events.device_deactivations(first, last),
            events.task_outcomes(first, last),
        )

    def _apply(self, read: _Events) -> None:
        for reg in read.registrations:
            self._store.upsert_device(reg.project, reg.device, reg.owner, key=reg.key, block=reg.block)
            log.info(logger, "device registered", project=reg.project, device=reg.device, owner=reg.owner)
        # After the registrations of the same range: a device is transferred once it is registered (each transfer
        # is kept by its position, so the order among them is the chain's whatever order they are written in).
        for moved in read.transfers:
            self._store.transfer_device(
                moved.project, moved.device, moved.owner, block=moved.block, log_index=moved.log_index
            )
            log.info(logger, "device transferred", project=moved.project, device=moved.device, owner=moved.owner)
        # After the registrations of the same range: a deactivation is final, so no later registration undoes it.
        for gone in read.deactivations:
            self._store.deactivate_device(gone.project, gone.device, block=gone.block)
            log.info(logger, "device deactivated", project=gone.project, device=gone.device)
        for outcome in read.outcomes:
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
