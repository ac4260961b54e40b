"""What the prover stage is built from: projects that describe a circuit, backends that prove tasks.

A project (tracker distance, weather quality, uptime, a user's own) and a backend (Groth16, PLONK, attest)
meet only through these Protocols, so a backend never knows which project it proves and a project never knows
how.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from proofstream.domain.messages import DeviceMessage, payload_fields

__all__ = ["CircuitProject", "CircuitTask", "Proof", "ProverBackend", "TaskRecord", "record_of"]


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One signed message of a task as a circuit reads it: header fields the leaf binds, then the payload."""

    nonce: int
    timestamp: int
    payload: Mapping[str, int]
    """Payload fields by schema name (offset-encoded unsigned integers, e.g. ``{"lat": ..., "lon": ...}``)."""


def record_of(message: DeviceMessage) -> TaskRecord:
    """A stored device message as the project's logic and circuit read it."""
    names = message.schema.payload_names
    return TaskRecord(message.nonce, message.timestamp, dict(zip(names, payload_fields(message), strict=True)))


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


@runtime_checkable
class CircuitProject(Protocol):
    """A project whose logic is a circuit: how to turn a task into circuit inputs, and what the outputs must
    be."""

    @property
    def name(self) -> str: ...

    @property
    def schema_fields(self) -> tuple[str, ...]:
        """Payload field names in schema (and leaf) order."""
        ...

    @property
    def depth(self) -> int:
        """Merkle depth of the batch commitment; capacity is ``2**depth`` messages."""
        ...

    @property
    def n_public(self) -> int:
        """Number of snarkjs public signals (outputs first, then public inputs)."""
        ...

    @property
    def circuit_path(self) -> Path: ...

    def circuit_inputs(self, task: CircuitTask) -> dict[str, Any]:
        """The full input JSON of the circuit, padding slots included. Raises ValueError for an invalid
        task."""
        ...

    def reference_outputs(self, task: CircuitTask) -> tuple[int, ...]:
        """The public signals the circuit must produce, computed by the project's plain-Python reference
        logic."""
        ...


class Proof(Protocol):
    """What every backend's proof offers the submitter: the public signals and the bytes the Router takes."""

    @property
    def backend(self) -> str: ...

    @property
    def public_signals(self) -> tuple[int, ...]: ...

    @property
    def calldata(self) -> bytes: ...


@runtime_checkable
class ProverBackend(Protocol):
    """Proves tasks of one project with one proof system (Groth16 today; PLONK and attest fit the same
    door)."""

    @property
    def name(self) -> str: ...

    def prove(self, task_inputs: CircuitTask) -> Proof:
        """Raises ProverError when the task cannot be proven (its data breaks the project's rules)."""
        ...

    def verify(self, proof: Proof) -> bool: ...
