"""What the indexer reads from the chain: the events it follows, as plain data and a Protocol.

The adapter over the contracts' event logs is :class:`proofstream.chain.book.ChainBook`; the conformance suite
every implementation passes (the adapter and the tests' fake alike) is tests/ports/test_chain_events.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from proofstream.domain.types import Address, ProjectId, TaskId


@dataclass(frozen=True)
class DeviceRegistration:
    project: ProjectId
    device: Address
    owner: Address
    block: int
    key: tuple[int, int] | None = None
    """The device's BabyJubJub public key (Ax, Ay) when it was registered with one (BjjKeyRegistered), or its
    P-256 key (X, Y) (P256KeyRegistered); the device id tells which."""


@dataclass(frozen=True)
class DeviceDeactivation:
    """A DeviceDeactivated event: the device is never paid again (the Router checks) nor admitted (the gateway)."""

    project: ProjectId
    device: Address
    block: int


@dataclass(frozen=True)
class DeviceTransfer:
    """A DeviceTransferred event: the device's NFT changed hands, so its rewards now go to ``owner``."""

    project: ProjectId
    device: Address
    owner: Address
    block: int
    log_index: int
    """The event's position in its block: two transfers of one device in one block apply in this order."""


@dataclass(frozen=True)
class TaskOutcome:
    """A TaskSettled or TaskFailed event."""

    task_id: TaskId
    settled: bool
    tx_hash: str
    block: int
    reason: str | None = None


class ChainEvents(Protocol):
    """The events the indexer follows, by block range (both ends included), each list in chain order.

    A range ends at :meth:`latest_block` at the latest: past it, nodes differ (anvil refuses a range that starts
    past its head; the tests' fake refuses any range that ends past it)."""

    def latest_block(self) -> int: ...

    def block_hash(self, number: int) -> str | None:
        """The 0x-hex hash of block ``number`` on the chain as it is now (another after a reorg); None past the
        head."""
        ...

    def device_registrations(self, from_block: int, to_block: int) -> list[DeviceRegistration]: ...

    def device_deactivations(self, from_block: int, to_block: int) -> list[DeviceDeactivation]: ...

    def device_transfers(self, from_block: int, to_block: int) -> list[DeviceTransfer]: ...

    def task_outcomes(self, from_block: int, to_block: int) -> list[TaskOutcome]: ...
