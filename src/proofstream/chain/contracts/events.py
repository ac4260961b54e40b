"""The events the contract wrappers decode, as frozen dataclasses: what the indexer and the tests read.

Each carries its :class:`EventPosition`, so events of several contracts can be put in chain order and undone
after a reorg.
"""

from __future__ import annotations

from dataclasses import dataclass

from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.types import Address, ConfigVersion, FieldElement, Nonce, ProjectId, TaskId


@dataclass(frozen=True)
class EventPosition:
    """Where a log sits on chain: enough to order events and to undo them after a reorg."""

    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int


@dataclass(frozen=True, kw_only=True)
class TaskAssignedEvent(TaskCommitment):
    task_id: TaskId
    deadline: int
    position: EventPosition
    previous_first_nonce: Nonce | None = None
    """First nonce of the device's task assigned before this one (None for its first)."""


@dataclass(frozen=True)
class VersionAddedEvent:
    project: ProjectId
    version: ConfigVersion
    config_hash: bytes
    uri: str
    verifier: Address
    position: EventPosition


@dataclass(frozen=True)
class VersionRetiredEvent:
    project: ProjectId
    version: ConfigVersion
    at_block: int
    """First block in which the version is no longer live; later than the event's block while a grace period
    runs."""
    position: EventPosition


@dataclass(frozen=True)
class TaskSettledEvent:
    task_id: TaskId
    prover: Address
    position: EventPosition


@dataclass(frozen=True)
class TaskFailedEvent:
    task_id: TaskId
    reason: bytes
    position: EventPosition


@dataclass(frozen=True)
class DeviceRegisteredEvent:
    project: ProjectId
    device: Address
    owner: Address
    position: EventPosition


@dataclass(frozen=True)
class BjjKeyRegisteredEvent:
    """A device with a BabyJubJub key was registered (a DeviceRegisteredEvent comes with it)."""

    project: ProjectId
    device: Address
    ax: FieldElement
    ay: FieldElement
    position: EventPosition


@dataclass(frozen=True)
class P256KeyRegisteredEvent:
    """A device with a P-256 key was registered (a DeviceRegisteredEvent comes with it)."""

    project: ProjectId
    device: Address
    x: int
    y: int
    position: EventPosition


@dataclass(frozen=True)
class DeviceDeactivatedEvent:
    project: ProjectId
    device: Address
    position: EventPosition


@dataclass(frozen=True)
class DeviceTransferredEvent:
    """The device's NFT changed hands: its rewards now go to ``owner``."""

    project: ProjectId
    device: Address
    owner: Address
    position: EventPosition


@dataclass(frozen=True)
class RewardedEvent:
    project: ProjectId
    task_id: TaskId
    device: Address
    units: int
    amount: int
    position: EventPosition
