"""What the prover stage is built from: projects that describe a circuit, backends that prove tasks.

A project (tracker distance, weather quality, uptime, a user's own) and a backend (Groth16, PLONK, attest)
meet only through these Protocols, so a backend never knows which project it proves and a project never knows
how.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

# The task types live in the domain; they are named here too, where project code has always imported them
# (a scaffolded project's logic.py and tests: ``from proofstream.prover.ports import TaskRecord``).
from proofstream.domain.circuit_task import CircuitTask, SigningContext, TaskRecord, record_of

__all__ = ["CircuitProject", "CircuitTask", "Proof", "ProverBackend", "SigningContext", "TaskRecord", "record_of"]


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
