"""A project folder as a circuit: the ``CircuitProject`` (prover/ports.py) the Groth16 backend proves, the reference
outputs its logic.py gives, and the compile that checks circuit.circom against proofstream.toml."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

from proofstream.circuits.artifacts import CompiledCircuit
from proofstream.circuits.build import compile_circuit
from proofstream.circuits.interface import check_circuit_matches
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.layout import circuit_inputs, record_public_inputs, signature_public_inputs
from proofstream.projects.spec import ProjectSpec

__all__ = ["ProjectCircuit", "check_order", "compile_project", "reference_outputs"]


def check_order(records: Sequence[TaskRecord], capacity: int) -> None:
    """What every circuit enforces through the shared batch template: 1..capacity records, nonces and
    timestamps uint64 and strictly increasing. Raises ValueError."""
    if not 1 <= len(records) <= capacity:
        raise ValueError(f"a task holds 1..{capacity} messages, got {len(records)}")
    for record in records:
        if not (0 <= record.nonce < 2**64 and 0 <= record.timestamp < 2**64):
            raise ValueError(f"nonce {record.nonce} or timestamp {record.timestamp} is outside uint64")
    for before, after in pairwise(records):
        if after.nonce <= before.nonce or after.timestamp <= before.timestamp:
            raise ValueError(
                f"messages must have strictly increasing nonces and timestamps: nonce {before.nonce} "
                f"(t={before.timestamp}) is followed by nonce {after.nonce} (t={after.timestamp})"
            )


def reference_outputs(
    logic: ModuleType,
    records: Sequence[TaskRecord],
    capacity: int,
    previous: TaskRecord | None = None,
    prev_time: int = 0,
) -> tuple[int, ...]:
    """The project's outputs for ``records`` by its plain-Python logic, after the checks the circuit makes.

    ``previous`` is the anchor's message when the circuit opens it (the rules may read it across the task
    boundary); ``prev_time`` the anchor timestamp the first record must come after.
    """
    check_order(records, capacity)
    if records and records[0].timestamp <= prev_time:
        raise ValueError(
            f"the task's first message (t={records[0].timestamp}) is not after the device's anchor (t={prev_time})"
        )
    logic.check(records)
    values = tuple(logic.outputs(records, previous))
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ValueError(f"logic.outputs must return non-negative integers, got {values!r}")
    return values


@dataclass(frozen=True)
class ProjectCircuit:
    """``CircuitProject`` for any project folder: inputs by the shared layout, outputs by its logic.py."""

    spec: ProjectSpec
    logic: ModuleType

    @classmethod
    def of(cls, spec: ProjectSpec) -> ProjectCircuit:
        return cls(spec, spec.logic())

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def schema_fields(self) -> tuple[str, ...]:
        return self.spec.schema.payload_names

    @property
    def depth(self) -> int:
        return self.spec.depth

    @property
    def capacity(self) -> int:
        return self.spec.capacity

    @property
    def n_public(self) -> int:
        return self.spec.n_public

    @property
    def circuit_path(self) -> Path:
        return self.spec.circuit_path

    def _outputs(self, task: CircuitTask) -> tuple[int, ...]:
        return reference_outputs(self.logic, task.records, self.capacity, task.opened_previous, task.anchor.timestamp)

    def circuit_inputs(self, task: CircuitTask) -> dict[str, Any]:
        self._outputs(task)
        if self.spec.circuit_signatures and task.signing is None:
            raise ValueError("the project's circuit checks device signatures: the task carries none")
        return circuit_inputs(task, self.schema_fields, self.depth)

    def reference_outputs(self, task: CircuitTask) -> tuple[int, ...]:
        return (
            *self._outputs(task),
            *record_public_inputs(task, self.schema_fields),
            *(signature_public_inputs(task) if self.spec.circuit_signatures else ()),
        )


def compile_project(spec: ProjectSpec, cache_dir: Path | None = None) -> CompiledCircuit:
    """Compile the project's circuit (no trusted setup; cached by content) and check it against the schema and
    logic.OUTPUTS. Raises CircuitError ``circuit_compile`` with circom's errors, ``schema_mismatch`` with the fix.
    """
    compiled = compile_circuit(spec.circuit_path, spec.circuit_name, cache_dir)
    check_circuit_matches(
        spec.schema.payload_names,
        len(spec.outputs),
        compiled,
        output_names=spec.outputs,
        capacity=spec.capacity,
        signatures=spec.circuit_signatures,
    )
    return compiled
