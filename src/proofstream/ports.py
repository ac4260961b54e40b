"""The chain as the pipeline's roles see it: small Protocols, so a role never imports web3.

A port is a Protocol in the ``ports.py`` of the package that uses it: the attester's chain view is
:mod:`proofstream.attester.ports`, the indexer's events :mod:`proofstream.indexer.ports`, the store
:mod:`proofstream.store.ports`. This module holds what several roles share: the task book (the sequencer assigns,
the submitter routes, the prover reads anchors) and the gateway's registration request.

The adapter that implements them over TaskManager and Router lives in :mod:`proofstream.chain.book`; the
conformance suite it and the tests' fake both pass is tests/ports/test_task_book.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from proofstream.domain.anchor import Anchor
from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.types import Address, ConfigVersion, ProjectId, TaskId
from proofstream.domain.vouchers import Permit, Voucher


class ChainTaskState(StrEnum):
    """A task as the TaskManager knows it."""

    UNKNOWN = "unknown"
    ASSIGNED = "assigned"
    SETTLED = "settled"
    FAILED = "failed"
    EXPIRED = "expired"
    """Its deadline passed unrouted and it was expired: it may be reassigned (same record, fresh deadline)."""


@dataclass(frozen=True)
class TxOutcome:
    tx_hash: str
    gas_used: int
    settled: bool = True
    """For a route: False when the DApp reverted and the task ended failed on chain."""
    reason: str | None = None


@dataclass(frozen=True)
class RouteRequest:
    """One proven task to route: its outputs, the anchor it leaves and its proof (made against the device's anchor
    as the chain holds it, or as the request before it in the same batch leaves it)."""

    task_id: TaskId
    outputs: tuple[int, ...]
    last: Anchor
    proof: bytes


class TaskBook(Protocol):
    """TaskManager + Router, seen from the pipeline."""

    @property
    def chain_id(self) -> int: ...

    @property
    def task_manager(self) -> Address: ...

    def assign(self, commitments: Sequence[TaskCommitment], deadline_blocks: int) -> TxOutcome:
        """Record many task commitments in one transaction."""
        ...

    def state(self, task_id: TaskId) -> ChainTaskState: ...

    def project_active(self, project: ProjectId) -> bool:
        """False while the project is paused: nothing is assigned or routed for it then."""
        ...

    def version_live(self, project: ProjectId, version: ConfigVersion) -> bool:
        """Whether new tasks may be assigned under ``version`` (it is current or in its grace period)."""
        ...

    def route(self, task_id: TaskId, outputs: Sequence[int], last: Anchor, proof: bytes) -> TxOutcome:
        """Submit outputs, the anchor the task leaves and the proof, as the assigned prover."""
        ...

    def route_batch(self, requests: Sequence[RouteRequest]) -> list[TxOutcome]:
        """Route many tasks under one verifier in one transaction, with one batched check of their proofs; one
        outcome per request, in order, each with its share of the gas (the shares sum to the transaction's).
        Raises TransactionRevertedError (InvalidBatch) when any proof is bad: then none settles."""
        ...

    def anchor(self, project: ProjectId, device: Address) -> Anchor:
        """The anchor the device's next task is proven against (the last AnchorAdvanced, checked against
        TaskManager.anchorHashOf)."""
        ...

    def predecessor_pending(self, task_id: TaskId) -> bool:
        """True while the device's previously assigned task is still Assigned: the Router refuses this one."""
        ...

    def overdue(self, task_id: TaskId) -> bool:
        """True when the task is Assigned and its deadline block has passed (anyone may expire it)."""
        ...

    def expire(self, task_id: TaskId) -> TxOutcome: ...

    def release(self, task_id: TaskId) -> TxOutcome:
        """Give up a task this node's prover cannot prove, before its deadline (it ends Expired)."""
        ...

    def reassign(self, task_id: TaskId, deadline_blocks: int) -> TxOutcome:
        """Give an expired task back to this node's prover with a fresh deadline (as the sequencer)."""
        ...


class AnchorSource(Protocol):
    """Where a prover reads the anchor a task is proven against: the chain (TaskBook has it)."""

    def anchor(self, project: ProjectId, device: Address) -> Anchor: ...


@dataclass(frozen=True)
class DeviceRegistrationRequest:
    """A device key's signed consent to be bound to ``owner`` in ``project``: DeviceRegistry.registerDevice's
    arguments. The gateway has checked ``signature`` (EIP-712 DeviceBinding, or with a voucher the DevicePermit)
    and the voucher's signature and expiry before handing it on."""

    project: ProjectId
    device: Address
    owner: Address
    signature: bytes
    """65 bytes ``r || s || v``, v in {27, 28}, low s (a BabyJubJub device: 96 bytes ``R8x || R8y || S``; a P-256
    device: 64 bytes ``r || s``, low s). Its length tells the key type."""
    public_key: tuple[int, int] | None = None
    """A BabyJubJub device's key (Ax, Ay): registerBjjDevice instead of registerDevice; a P-256 device's (X, Y):
    registerP256Device."""
    voucher: Voucher | None = None
    """An issuer's voucher: registerDeviceWithVoucher (with ``permit``) or registerDeviceByVoucher (without), which
    anyone may send; ``signature`` is then the permit's (empty without one)."""
    permit: Permit | None = None
    """The device's DevicePermit, with a voucher (its ``signature`` is the request's)."""
