"""A task as a proof is about it: its records (one per signed message), the anchor it is proven against, and for
a circuit that checks device signatures, what those signatures were made under. Pure data; the circuit-input
layout (``domain.layout``) turns it into a circuit's inputs, a project's logic reads its records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from proofstream.domain.anchor import NO_ANCHOR, Anchor, anchor_after

if TYPE_CHECKING:
    from proofstream.domain.messages import DeviceMessage

__all__ = ["CircuitTask", "SigningContext", "TaskRecord", "record_of"]


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One signed message of a task as a circuit reads it: header fields the leaf binds, then the payload."""

    nonce: int
    timestamp: int
    payload: Mapping[str, int]
    """Payload fields by schema name (offset-encoded unsigned integers, e.g. ``{"lat": ..., "lon": ...}``)."""


def record_of(message: DeviceMessage) -> TaskRecord:
    """A stored device message as the project's logic and circuit read it."""
    # Imported here: domain.messages loads eth-utils and coincurve (about a second), and every project's logic.py
    # imports this module for TaskRecord alone.
    from proofstream.domain.messages import payload_fields

    names = message.schema.payload_names
    return TaskRecord(message.nonce, message.timestamp, dict(zip(names, payload_fields(message), strict=True)))


@dataclass(frozen=True, slots=True)
class SigningContext:
    """What a circuit that checks device signatures (``[proof] signatures = "circuit"``) reads besides the
    records: the values the Router appends as public inputs, and each record's EdDSA-Poseidon signature."""

    chain_id: int
    registry: int
    """The DeviceRegistry's address as an integer (what the device signed under)."""
    key: tuple[int, int]
    """The device's BabyJubJub public key (Ax, Ay), as the registry holds it."""
    signatures: tuple[tuple[int, int, int], ...] = ()
    """(R8x, R8y, S) of each record, in record order."""


@dataclass(frozen=True, slots=True)
class CircuitTask:
    """A task as a prover sees it: the on-chain assignment record plus the task's messages in nonce order."""

    project: int
    task_id: int
    device: int
    """The device address as a 160-bit integer (the form the Merkle leaves and the circuit use)."""
    prover: int
    """The assigned prover's address as an integer: bound in the proof against front-running."""
    root: int
    """The batch commitment recorded at assignment (Poseidon Merkle root, docs/protocol.md)."""
    records: tuple[TaskRecord, ...] = field(default_factory=tuple)
    config: int = 1
    """The config version the task was assigned under (it decides whether the anchor leaf is opened)."""
    anchor: Anchor = NO_ANCHOR
    """The chain's anchor for (project, device) this task is proven against (domain/anchor.py)."""
    previous: TaskRecord | None = None
    """The anchor's message, needed when ``anchor.prev_leaf(config) != 0``: the circuit opens the leaf with it."""
    signing: SigningContext | None = None
    """Set for a project whose circuit checks the device signatures (circuits/signed.py)."""

    @property
    def prev_leaf(self) -> int:
        return self.anchor.prev_leaf(self.config)

    def last_anchor(self, field_names: Sequence[str] | None = None) -> Anchor:
        """The anchor the task leaves once verified: its last message's timestamp and leaf (zeros for none).
        The payload is read in ``field_names`` order (the schema's), or in the record's own order, which
        :func:`record_of` makes the schema order."""
        if not self.records:
            return Anchor(0, 0, self.config)
        last = self.records[-1]
        fields = tuple(last.payload.values()) if field_names is None else tuple(last.payload[n] for n in field_names)
        return anchor_after(self.project, self.device, self.config, last.nonce, last.timestamp, fields)

    @property
    def opened_previous(self) -> TaskRecord | None:
        """The previous message the project's rules may read: ``previous`` when the anchor leaf is opened."""
        return self.previous if self.prev_leaf != 0 else None
