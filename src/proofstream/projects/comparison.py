"""Comparing circuit and reference logic on one batch, and the report of a whole differential check.

A batch becomes a task as the node would prove it (random project, device, task id and prover; chained to the
device's previous message or not), its circuit inputs are laid out by :mod:`proofstream.domain.layout`, and
both sides judge it: the project's logic through :func:`proofstream.projects.circuit.reference_outputs`, the
circuit through a :class:`~proofstream.circuits.witness.WitnessRunner`. They agree when both accept it with the
same outputs, or both reject it. :mod:`proofstream.projects.differential` chooses the batches.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from proofstream.circuits.artifacts import CompiledCircuit
from proofstream.circuits.signed import sign_task
from proofstream.circuits.witness import WitnessRunner, json_inputs
from proofstream.domain.anchor import NO_ANCHOR, Anchor, anchor_after
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.eddsa import EddsaKey
from proofstream.domain.layout import batch_root, circuit_inputs
from proofstream.errors import CircuitError, ProofstreamError
from proofstream.projects.circuit import reference_outputs
from proofstream.projects.spec import ProjectSpec

__all__ = [
    "CONFIG",
    "UINT64_MAX",
    "BatchOutcome",
    "Comparison",
    "DifferentialError",
    "DifferentialReport",
    "Reading",
    "compare_batch",
    "records_of",
]


UINT64_MAX = 2**64 - 1
"""The largest nonce and timestamp (both are uint64 in every circuit)."""
TASK_ID_BITS = 248
"""Random task ids in the tests stay below the BN254 field (real ones are a keccak reduced into it)."""
CONFIG = 2
"""The config version the compared tasks are proven under (an anchor under another one is not opened)."""
Reading = tuple[int, Mapping[str, int]]
"""One generator reading: its timestamp and its payload by schema field name."""

_SIGNING_KEY = EddsaKey(bytes(range(32)))
"""Signs the compared batches of a project whose circuit checks device signatures (a test key, never a device's)."""


class DifferentialError(ProofstreamError):
    """The circuit and the reference logic disagree on a batch (the message shows the first such batch)."""

    code = "differential_mismatch"


def records_of(readings: Sequence[Reading], first_nonce: int = 1, nonce_gaps: Sequence[int] = ()) -> list[TaskRecord]:
    """Generator readings as task records: nonces from ``first_nonce``, then ``+ nonce_gaps[i]`` (default 1)."""
    records = []
    nonce = first_nonce
    for i, (timestamp, payload) in enumerate(readings):
        if i:
            nonce += nonce_gaps[i - 1] if i - 1 < len(nonce_gaps) else 1
        records.append(TaskRecord(nonce=nonce, timestamp=timestamp, payload=dict(payload)))
    return records


# --- comparing one batch --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchOutcome:
    """What circuit and reference made of one batch."""

    label: str
    records: tuple[TaskRecord, ...]
    inputs: Mapping[str, Any]
    output_names: tuple[str, ...]
    reference: tuple[int, ...] | None
    """The logic's outputs, or None when it rejected the batch (``reference_error``)."""
    circuit: tuple[int, ...] | None
    """The circuit's outputs, or None when the witness failed (``circuit_error``)."""
    reference_error: str | None = None
    circuit_error: str | None = None
    reference_crashed: bool = False
    """The logic raised something other than ValueError (a bug in logic.py, never agreement)."""
    expect_rejection: bool = False
    """For batches the circuit must reject whatever the logic says (the empty batch, a broken anchor)."""
    why_rejected: str = ""
    """Why the circuit must reject it (shown when it does not)."""
    previous: TaskRecord | None = None
    """The anchor's message the task was chained to, if any."""
    anchor: Anchor = NO_ANCHOR
    """The anchor the task was proven against (prevTime; prevLeaf when its config version is the task's)."""
    opening: TaskRecord | None = None
    """What the circuit opened the anchor leaf with, when that was not ``previous`` (a wrong opening)."""

    @property
    def agrees(self) -> bool:
        if self.reference_crashed:
            return False
        if self.expect_rejection:
            return self.circuit is None
        return self.reference == self.circuit

    @property
    def accepted(self) -> bool:
        return self.circuit is not None and self.reference is not None

    def _named(self, values: tuple[int, ...] | None, error: str | None) -> str:
        if values is None:
            return f"rejected ({error})"
        return ", ".join(f"{name}={value}" for name, value in zip(self.output_names, values, strict=False))

    def describe(self) -> str:
        """The batch, both verdicts and the circuit inputs, for a failure message."""
        lines = [f"batch {self.label!r} ({len(self.records)} message(s)):"]
        if self.previous is not None:
            opened = "opened" if self.anchor.prev_leaf(CONFIG) else "not opened: another config version"
            p = self.previous
            lines.append(f"  previous: nonce={p.nonce} timestamp={p.timestamp} {dict(p.payload)} ({opened})")
            if self.opening is not None:
                o = self.opening
                lines.append(f"  opened as: nonce={o.nonce} timestamp={o.timestamp} {dict(o.payload)}")
        else:
            lines.append(f"  previous: none (prevTime={self.anchor.timestamp}, prevLeaf=0)")
        for r in self.records:
            lines.append(f"  nonce={r.nonce} timestamp={r.timestamp} {dict(r.payload)}")
        if self.expect_rejection:
            lines.append(f"  the circuit must reject it ({self.why_rejected})")
        lines.append(f"  circuit:   {self._named(self.circuit, self.circuit_error)}")
        lines.append(f"  reference: {self._named(self.reference, self.reference_error)}")
        lines.append(f"  inputs: {json.dumps(json_inputs(self.inputs))}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Comparison:
    """What every batch of one check is compared with: the project, its loaded logic and the circuit's runner."""

    spec: ProjectSpec
    logic: Any
    runner: WitnessRunner


def compare_batch(
    ctx: Comparison,
    label: str,
    records: Sequence[TaskRecord],
    rng: random.Random,
    *,
    previous: TaskRecord | None = None,
    same_config: bool = True,
    opening: TaskRecord | None = None,
    why_rejected: str = "",
) -> BatchOutcome:
    """Compare circuit and logic on ``records``, chained to ``previous`` (the device's anchor message; None: no
    verified task yet). ``same_config=False`` leaves the anchor under another config version (prevLeaf 0);
    ``opening`` makes the prover open the anchor leaf with another message. A ``why_rejected`` batch must be
    rejected by the circuit whatever the logic says."""
    spec = ctx.spec
    fields = spec.schema.payload_names
    project = rng.randrange(1, 2**64)
    device = rng.randrange(1, 2**160)
    root = batch_root(project, device, records, fields, spec.depth)
    anchor = NO_ANCHOR
    if previous is not None:
        values = [previous.payload[name] for name in fields]
        config = CONFIG if same_config else CONFIG - 1
        anchor = anchor_after(project, device, config, previous.nonce, previous.timestamp, values)
    task = CircuitTask(
        project=project,
        task_id=rng.randrange(2**TASK_ID_BITS),
        device=device,
        prover=rng.randrange(1, 2**160),
        root=root,
        records=tuple(records),
        config=CONFIG,
        anchor=anchor,
        previous=opening if opening is not None else previous,
    )
    if spec.circuit_signatures:  # the circuit checks each message's signature: sign as the device would
        task = sign_task(task, _SIGNING_KEY, rng.randrange(1, 2**64), rng.randrange(1, 2**160), fields)
    inputs = circuit_inputs(task, fields, spec.depth)
    reference: tuple[int, ...] | None = None
    reference_error = None
    crashed = False
    try:
        opened = previous if task.prev_leaf else None  # the honest message, whatever the prover opens it with
        reference = reference_outputs(ctx.logic, records, spec.capacity, opened, anchor.timestamp)
    except ValueError as exc:
        reference_error = str(exc)
    except Exception as exc:  # a bug in the project's logic: report it with the batch that triggers it
        reference_error = f"logic.py raised {type(exc).__name__}: {exc}"
        crashed = True
    circuit: tuple[int, ...] | None = None
    circuit_error = None
    try:
        circuit = ctx.runner.outputs(inputs)
    except CircuitError as exc:
        circuit_error = str(exc)
    return BatchOutcome(
        label=label,
        records=tuple(records),
        inputs=inputs,
        output_names=spec.outputs,
        reference=reference,
        circuit=circuit,
        reference_error=reference_error,
        circuit_error=circuit_error,
        reference_crashed=crashed,
        expect_rejection=bool(why_rejected),
        why_rejected=why_rejected,
        previous=previous,
        anchor=anchor,
        opening=opening,
    )


# --- the report -----------------------------------------------------------------------------------------------


@dataclass
class DifferentialReport:
    """Every batch compared, and the ones where circuit and logic disagree."""

    project: str
    circuit: CompiledCircuit
    outcomes: list[BatchOutcome] = field(default_factory=list)
    property_examples: int = 0
    property_accepted: int = 0
    """Generated batches both sides accepted (the rest both rejected: a generator should mostly make valid ones)."""
    property_engine: str = "hypothesis"
    property_failure: BatchOutcome | None = None
    """The smallest failing generated batch found (hypothesis shrinks it), if any."""

    @property
    def failures(self) -> list[BatchOutcome]:
        found = [o for o in self.outcomes if not o.agrees]
        if self.property_failure is not None:
            found.insert(0, self.property_failure)
        return found

    @property
    def ok(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        """A few lines for a terminal: sizes, then each batch's verdict, then the first failure in full."""
        accepted = sum(o.accepted for o in self.outcomes)
        lines = [
            f"{self.project}: circuit {self.circuit.name} has {self.circuit.constraints} constraints, "
            f"{self.circuit.public_signals} public signals",
            f"  property test ({self.property_engine}): {self.property_examples} generated batch(es), "
            f"{self.property_accepted} accepted: " + ("agree" if self.property_failure is None else "DISAGREE"),
        ]
        for o in self.outcomes:
            if not o.agrees:
                verdict = "DISAGREE"
            elif o.expect_rejection or not o.accepted:
                verdict = "rejected by both"
            else:
                verdict = "agree: " + o._named(o.circuit, None)
            lines.append(f"  {o.label}: {verdict}")
        compared = accepted + self.property_accepted
        lines.append(f"  {compared} accepted batch(es) compared; {len(self.failures)} failure(s)")
        if self.failures:
            lines.append("first failure:")
            lines.append(self.failures[0].describe())
        return "\n".join(lines)

    def raise_on_failure(self) -> None:
        """DifferentialError with :meth:`describe` when any batch disagrees."""
        if not self.ok:
            raise DifferentialError(self.describe())
