"""The chain as the pipeline's roles see it: small Protocols, so a role never imports web3.

The adapter that implements them over TaskManager and Router lives in :mod:`proofstream.chain.book`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from proofstream.domain.types import Address, FieldElement, Nonce, ProjectId, TaskId


class ChainTaskState(StrEnum):
    """A task as the TaskManager knows it."""

    UNKNOWN = "unknown"
    ASSIGNED = "assigned"
    SETTLED = "settled"
    FAILED = "failed"


@dataclass(frozen=True)
class Commitment:
    """What the sequencer records on chain for one task at assignment."""

    project: ProjectId
    device: Address
    first_nonce: Nonce
    last_nonce: Nonce
    root: FieldElement
    prover: Address


@dataclass(frozen=True)
class TxOutcome:
    tx_hash: str
    gas_used: int
    settled: bool = True
    """For a route: False when the DApp reverted and the task ended failed on chain."""
    reason: str | None = None


class TaskBook(Protocol):
    """TaskManager + Router, seen from the pipeline."""

    @property
    def chain_id(self) -> int: ...

    @property
    def task_manager(self) -> Address: ...

    def assign(self, commitments: Sequence[Commitment], deadline_blocks: int) -> TxOutcome:
        """Record many task commitments in one transaction."""
        ...

    def state(self, task_id: TaskId) -> ChainTaskState: ...

    def route(self, task_id: TaskId, outputs: Sequence[int], proof: bytes) -> TxOutcome:
        """Submit outputs + proof as the assigned prover."""
        ...


@dataclass(frozen=True)
class DeviceRegistration:
    project: ProjectId
    device: Address
    owner: Address
    block: int


@dataclass(frozen=True)
class TaskOutcome:
    """A TaskSettled or TaskFailed event."""

    task_id: TaskId
    settled: bool
    tx_hash: str
    block: int
    reason: str | None = None


class ChainEvents(Protocol):
    """The events the indexer follows."""

    def latest_block(self) -> int: ...

    def device_registrations(self, from_block: int, to_block: int) -> list[DeviceRegistration]: ...

    def task_outcomes(self, from_block: int, to_block: int) -> list[TaskOutcome]: ...
