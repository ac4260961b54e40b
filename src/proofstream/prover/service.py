"""The prover loop: claim an assigned task, prove it against its device's anchor, store the proof for the submitter.

The Router routes a device's tasks in assignment order and checks each proof against the anchor its predecessor
left (protocol v2, domain/anchor.py). That anchor is known before the predecessor settles: it is the timestamp and
leaf of the predecessor's last message, which its own proof pins. So a task whose predecessor is still on its way
(batched, being proven or routed) is proven at once against the anchor the predecessor will leave ("chained"
proving), and the submitter routes the two in one transaction, the predecessor first. A predecessor that failed
here is passed over: the task chains on the nearest earlier task still on its way (store/anchors.py), so it can
never be routed before that one and move the anchor past its messages. A device's tasks are then
proven in parallel and settle together, instead of one proof and one route transaction after the other. Should the
predecessor fail before it verifies (the anchor stays where it was), the submitter finds the proof made against an
anchor the chain never held and sends the task back to be proven again, against the chain's anchor. A predecessor
that is final in the store has left the chain's anchor as it is: the task is proven against that.

A backend that depends on others (``attest``: its attesters read the anchor from the chain) proves a task only once
its predecessor in the store is final, as before chaining.

A claim is a compare-and-set on the task's status (batched -> proving), so several workers (threads now,
processes on other machines with PostgreSQL later) never prove the same task twice.

A backend that depends on others (``attest`` waits for a quorum of attesters) may say "not yet": it offers a
cheap ``ready(task)`` that is asked before claiming, and raises :class:`ProofNotReadyError` from ``prove`` if
the answer changed in between; the task goes back to ``batched`` and the worker moves on to the next one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from proofstream import logs as log
from proofstream.domain import eddsa
from proofstream.domain.anchor import RECORD_INPUTS, Anchor
from proofstream.domain.circuit_task import CircuitTask, SigningContext, TaskRecord, record_of
from proofstream.domain.layout import SIGNATURE_INPUTS
from proofstream.domain.messages import DeviceMessage, message_leaf
from proofstream.domain.tasks import FINAL, TaskStatus
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ChainError, ProofstreamError, ProverError, StaleTaskError, ToolchainError
from proofstream.ports import AnchorSource
from proofstream.prover.ports import ProverBackend
from proofstream.store.anchors import anchor_left_by, find_anchor_message, unfinished_before
from proofstream.store.ports import Store, StoredProof, TaskRow, TaskUpdate
from proofstream.store.retry import DEFAULT_BACKOFF, Backoff, TaskWriter

logger = logging.getLogger(__name__)

PROTOCOL_PUBLIC_INPUTS = len(RECORD_INPUTS)
"""The record inputs (``domain.anchor.RECORD_INPUTS``) follow the outputs (docs/protocol.md)."""

MAX_PROVE_ATTEMPTS = 3
"""Tries of a task whose proving failed for a reason outside the task (snarkjs, the chain) before it fails."""

_PREV_TIME = PROTOCOL_PUBLIC_INPUTS - 4
"""Offsets of prevTime, prevLeaf, lastTime, lastLeaf after the outputs."""


SIGNATURE_PUBLIC_INPUTS = len(SIGNATURE_INPUTS)
"""chainId, registry, config, keyAx, keyAy: after the record inputs when the circuit checks device signatures."""


class DeviceKeys(Protocol):
    def device_key(self, project: ProjectId, device: Address) -> tuple[int, int] | None: ...


@dataclass(frozen=True)
class DeviceSigning:
    """What a circuit that checks the device signatures needs besides the messages: the chain id and the
    DeviceRegistry the devices signed under, and where the registered BabyJubJub keys are (the store, which the
    indexer fills from BjjKeyRegistered)."""

    chain_id: int
    registry: int
    keys: DeviceKeys

    def context(self, task: TaskRow, messages: Sequence[DeviceMessage]) -> SigningContext:
        """The task's signing context from its stored messages' 96-byte signatures; ProverError without a key or
        with a message that is not BabyJubJub-signed."""
        key = self.keys.device_key(task.project, task.device)
        if key is None:
            raise ProverError(f"device {task.device} has no BabyJubJub key on record", code="device_key_unknown")
        signatures = []
        for message in messages:
            if len(message.signature) != eddsa.SIGNATURE_BYTES:
                raise ProverError(f"message nonce {message.nonce} is not BabyJubJub-signed", code="bad_signature")
            signature = eddsa.decode_signature(message.signature)
            signatures.append((signature.r8[0], signature.r8[1], signature.s))
        return SigningContext(self.chain_id, self.registry, key, tuple(signatures))


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
        anchors: AnchorSource,
        config: ConfigVersion | None = None,
        signing: DeviceSigning | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        """``config``: prove only tasks of this config version (a node runs one worker per live version);
        ``anchors``: the chain's anchors (the node passes its TaskBook); ``signing``: set when the circuit checks
        the device signatures (``[proof] signatures = "circuit"``); ``backoff``: how a failed task write is
        retried (``store.retry``)."""
        self._signing = signing
        self._tasks = TaskWriter(store, backoff)
        self._anchors = anchors
        self._config = config
        self._store = store
        self._backend = backend
        self._prover = int(prover, 16)
        self._n_outputs = n_public - PROTOCOL_PUBLIC_INPUTS - (SIGNATURE_PUBLIC_INPUTS if signing is not None else 0)
        self._constraints = constraints
        self._chained = not isinstance(backend, DeferringBackend)
        """Whether a task is proven against the anchor its pending predecessor will leave (module docstring)."""
        self._attempts: dict[int, int] = {}
        """Interrupted proving attempts per task, in this worker's life."""

    def release_orphans(self) -> int:
        """At start-up: tasks a killed worker held in ``proving`` without a proof go back to the pool."""
        released = 0
        for task in self._store.tasks_with_status(TaskStatus.PROVING):
            if task.proof is None:
                self._tasks.update(task.id, TaskStatus.BATCHED, expect=TaskStatus.PROVING)
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
            if not self._anchor_known(task):
                continue  # its predecessor must settle first (a deferring backend)
            if deferring is not None and not deferring.ready(task):
                continue  # asked before claiming: a waiting task costs no write per tick
            try:
                self._tasks.update(task.id, TaskStatus.PROVING, expect=TaskStatus.BATCHED)
            except StaleTaskError:
                continue  # another worker claimed it
            proven = self._prove(task)
            if proven is not None:
                return proven
        return None

    def _anchor_known(self, task: TaskRow) -> bool:
        """Whether the anchor ``task`` is proven against is known (from the store alone: asked every tick)."""
        if self._chained:
            return True
        previous = self._store.previous_task(task.project, task.device, task.first_nonce)
        return previous is None or previous.status in FINAL

    def _anchor_of(self, task: TaskRow) -> Anchor | None:
        """The anchor to prove ``task`` against: while an earlier task of the device is on its way (the nearest,
        past those that failed), the one it will leave (chained proving, not for a deferring backend); else the
        chain's. None when that earlier task has no messages."""
        earlier = unfinished_before(self._store, task) if self._chained else None
        if earlier is None:
            # Unchained, tick() claimed the task once its predecessor was final: the chain's anchor holds.
            return self._anchors.anchor(task.project, task.device)
        return anchor_left_by(self._store, earlier)

    def _anchor_message(self, task: TaskRow, anchor: Anchor) -> TaskRecord:
        """The stored message whose leaf is the anchor's: the last message of one of the device's earlier tasks."""
        found = find_anchor_message(
            self._store,
            task.project,
            task.device,
            task.first_nonce,
            lambda stored: message_leaf(task.project, stored.message) == anchor.leaf,
        )
        if found is None:
            raise ProverError(
                f"the device's anchor message (t={anchor.timestamp}) is not the last message of any of its stored "
                "tasks",
                code="anchor_unknown",
            )
        return record_of(found.message)

    def _circuit_task(self, task: TaskRow) -> CircuitTask:
        anchor = self._anchor_of(task)
        if anchor is None:
            raise ProverError(f"task {task.id}: the earlier task it chains on has no messages", code="anchor_unknown")
        previous = self._anchor_message(task, anchor) if anchor.prev_leaf(task.config) != 0 else None
        messages = self._store.task_messages(task.id)
        return CircuitTask(
            project=task.project,
            task_id=task.id,
            device=int(task.device, 16),
            prover=self._prover,
            root=task.root,
            records=tuple(record_of(m.message) for m in messages),
            config=task.config,
            anchor=anchor,
            previous=previous,
            signing=None if self._signing is None else self._signing.context(task, [m.message for m in messages]),
        )

    def _prove(self, task: TaskRow) -> TaskRow | None:
        started = time.perf_counter()
        try:
            proof = self._backend.prove(self._circuit_task(task))
        except ProofNotReadyError as exc:
            log.info(logger, "task not ready, put back", task=task.id, reason=exc)
            self._tasks.update(task.id, TaskStatus.BATCHED, expect=TaskStatus.PROVING)
            return None
        except (ToolchainError, ChainError) as exc:
            # About this machine or its node, not the task: a crashed or timed-out snarkjs, a chain read that
            # failed. Failing the task would cost the device its messages, so it goes back, a few times.
            attempts = self._attempts.get(task.id, 0) + 1
            self._attempts[task.id] = attempts
            if attempts < MAX_PROVE_ATTEMPTS:
                log.warning(logger, "proving interrupted, put back", task=task.id, attempt=attempts, reason=exc)
                self._tasks.update(task.id, TaskStatus.BATCHED, expect=TaskStatus.PROVING)
                return None
            log.error(logger, "proving failed", task=task.id, attempts=attempts, reason=exc)
            return self._tasks.update(task.id, TaskStatus.FAILED, TaskUpdate(reason=f"proving failed: {exc}"))
        except (ProofstreamError, ValueError) as exc:
            log.error(logger, "proving failed", task=task.id, reason=exc)
            return self._tasks.update(task.id, TaskStatus.FAILED, TaskUpdate(reason=f"proving failed: {exc}"))
        seconds = time.perf_counter() - started
        signals = proof.public_signals
        outputs = tuple(signals[: self._n_outputs])
        record = signals[self._n_outputs : self._n_outputs + PROTOCOL_PUBLIC_INPUTS]
        prev_time, prev_leaf, last_time, last_leaf = record[_PREV_TIME:]
        log.info(logger, "task proven", task=task.id, outputs=list(outputs), seconds=round(seconds, 2))
        stored = StoredProof(
            backend=proof.backend,
            outputs=outputs,
            calldata=proof.calldata,
            public_signals=tuple(signals),
            # The anchor the proof was made against, and the one it leaves: the submitter routes it only while the
            # chain still holds the first, and hands the Router the second.
            prev_time=prev_time,
            prev_leaf=prev_leaf,
            last_time=last_time,
            last_leaf=last_leaf,
        )
        change = TaskUpdate(proof=stored, prove_seconds=round(seconds, 3), constraints=self._constraints)
        return self._tasks.update(task.id, change=change)
