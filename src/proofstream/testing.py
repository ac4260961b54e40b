"""Witness-only differential testing of a project: does circuit.circom compute what logic.py says?

``proofstream project test`` and every template's own ``tests/test_project.py`` run this. It compiles the
circuit (no trusted setup: witnesses need only the wasm), checks its interface against ``proofstream.toml``,
then feeds circuit and reference logic the same batches and compares:

(a) a property test over the project's generator: random seeds, device numbers, start times, nonces,
    1..capacity messages and how the task is chained to the device's previous one (no verified task yet; the
    previous message opened from the anchor leaf; an anchor from another config version, prevLeaf 0)
    (hypothesis when it is installed, so a failure shrinks to a small batch; plain seeded randomness
    otherwise);
(b) the generator's ``edge_cases()`` (no previous message) and ``chained_edge_cases()`` (``(previous, batch)``
    pairs: the previous message is the device's anchor), a full batch with and without its previous message, a
    single message and a batch at the top of the nonce range;
(c) batches the circuit must reject whatever the logic says: the empty batch (all padding), a first message
    that is not after the anchor's time, and a wrong opening of the anchor leaf.

The two sides agree on a batch when both accept it with the same outputs, or both reject it (the logic raises
ValueError, the witness fails). Witnesses come from one long-lived Node process running the circuit's wasm
(circom's own witness calculator), so a hundred batches take seconds.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from proofstream.domain.anchor import NO_ANCHOR, Anchor, anchor_after
from proofstream.domain.eddsa import EddsaKey
from proofstream.errors import CircuitError, ProofstreamError, ToolchainError
from proofstream.projects.build import compile_project
from proofstream.projects.circuit import reference_outputs
from proofstream.projects.inputs import batch_root, circuit_inputs
from proofstream.projects.signed import sign_task
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.prover.circuits import CompiledCircuit
from proofstream.prover.ports import CircuitTask, TaskRecord

__all__ = [
    "BatchOutcome",
    "DifferentialError",
    "DifferentialReport",
    "WitnessRunner",
    "assert_project",
    "compile_project",
    "records_of",
    "run_differential",
]

UINT64_MAX = 2**64 - 1
TASK_ID_BITS = 248
"""Random task ids in the tests stay below the BN254 field (real ones are a keccak reduced into it)."""
CONFIG = 2
"""The config version the compared tasks are proven under (an anchor under another one is not opened)."""
ANCHOR_MODES = ("none", "opened", "other config")
"""How a generated task is chained: no verified task yet (prevTime 0, prevLeaf 0); the previous message opened
from the anchor leaf; an anchor left by another config version (prevTime kept, prevLeaf 0)."""

Reading = tuple[int, Mapping[str, int]]

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


# --- witnesses ------------------------------------------------------------------------------------------------

_WORKER_JS = r"""
// proofstream witness worker: one JSON request per stdin line, one JSON answer per stdout line.
const readline = require("readline");
const fs = require("fs");
const builder = require(process.argv[2]);
const wasm = fs.readFileSync(process.argv[3]);
const nOut = Number(process.argv[4]);
const send = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
console.log = (...args) => process.stderr.write(args.join(" ") + "\n");  // circuit log() must not hit stdout
let calculator = null;
readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  try {
    if (calculator === null) calculator = await builder(wasm);
    const w = await calculator.calculateWitness(JSON.parse(line), 0);
    send({ ok: true, outputs: w.slice(1, 1 + nOut).map((v) => v.toString()) });
  } catch (err) {
    calculator = null;  // its error buffer keeps old messages: start afresh after a failure
    send({ ok: false, error: String(err && err.message ? err.message : err) });
  }
});
"""


def _json_inputs(value: Any) -> Any:
    """Big integers as decimal strings (JSON numbers lose precision past 2^53)."""
    if isinstance(value, bool):
        raise CircuitError("booleans are not circuit inputs; use 0 or 1")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _json_inputs(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_json_inputs(v) for v in value]
    raise CircuitError(f"unsupported circuit input value {value!r}")


def _error_text(message: str) -> str:
    """circom's words ("Assert Failed. Error in template T line: N") on one line, without JS noise."""
    lines = [line.strip().removeprefix("Error: ") for line in message.splitlines() if line.strip()]
    return " ".join(dict.fromkeys(lines)) or "witness generation failed"


class WitnessRunner:
    """Computes the outputs of a compiled circuit for many inputs in one Node process."""

    def __init__(self, compiled: CompiledCircuit, n_outputs: int) -> None:
        node = shutil.which("node")
        if node is None:
            raise ToolchainError("`node` is not on PATH (Node.js 20 or later is required)", code="toolchain_missing")
        self._dir = tempfile.TemporaryDirectory(prefix="proofstream-witness-")
        script = Path(self._dir.name) / "worker.js"
        script.write_text(_WORKER_JS)
        calculator = compiled.wasm.parent / "witness_calculator.js"
        self._process = subprocess.Popen(
            [node, str(script), str(calculator), str(compiled.wasm), str(n_outputs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.calls = 0

    def outputs(self, inputs: Mapping[str, Any]) -> tuple[int, ...]:
        """The circuit's outputs for ``inputs``; CircuitError ``witness_failed`` when the circuit rejects them."""
        stdin, stdout = self._pipes()
        self.calls += 1
        try:
            stdin.write(json.dumps(_json_inputs(inputs)) + "\n")
            stdin.flush()
            line = stdout.readline()
        except OSError as exc:
            raise ToolchainError(f"the witness worker died: {exc}") from exc
        if not line:
            raise ToolchainError(f"the witness worker exited (status {self._process.poll()})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise CircuitError(_error_text(str(answer["error"])), code="witness_failed")
        return tuple(int(v) for v in answer["outputs"])

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        if self._process.stdin is None or self._process.stdout is None:
            raise ToolchainError("the witness worker has no pipes")
        return self._process.stdin, self._process.stdout

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._dir.cleanup()


@contextmanager
def _runner(compiled: CompiledCircuit, n_outputs: int) -> Iterator[WitnessRunner]:
    runner = WitnessRunner(compiled, n_outputs)
    try:
        yield runner
    finally:
        runner.close()


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
        lines.append(f"  inputs: {json.dumps(_json_inputs(self.inputs))}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Context:
    spec: ProjectSpec
    logic: Any
    runner: WitnessRunner


def _run_batch(
    ctx: _Context,
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


@dataclass
class _PropertyResult:
    runs: int = 0
    """Generated batches up to and including the first failure (shrinking not counted)."""
    shrinks: int = 0
    accepted: int = 0
    failure: BatchOutcome | None = None
    """The smallest failing batch found."""


def _generated_records(readings: Sequence[Reading], rng: random.Random, capacity: int) -> list[TaskRecord]:
    """Records with random nonces: anywhere in uint64, gaps of 1 (the usual) up to 2^20 (lost messages)."""
    first = rng.choice((0, 1, rng.randrange(2**32), rng.randrange(UINT64_MAX - capacity * 2**20)))
    gaps = [rng.choice((1, 1, 2, rng.randint(1, 2**20))) for _ in range(capacity)]
    return records_of(readings, first, gaps)


def _run_generated(
    ctx: _Context, generator: Any, seed: int, device: int, count: int, start: int, mode: str
) -> BatchOutcome:
    """One generated task of ``count`` messages, chained as ``mode`` (:data:`ANCHOR_MODES`) to the message the
    generator makes just before them."""
    rng = random.Random(seed)
    readings = generator.readings(rng, device, count + 1, start)
    previous, *records = _generated_records(readings, rng, ctx.spec.capacity)
    label = f"generated (seed={seed}, device={device}, count={count}, start={start}, anchor={mode})"
    if mode == "none":
        return _run_batch(ctx, label, records, rng)
    return _run_batch(ctx, label, records, rng, previous=previous, same_config=mode == "opened")


def _property_hypothesis(ctx: _Context, examples: int, seed: int | None) -> _PropertyResult:
    """Generated batches through hypothesis, which shrinks a failing one."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    capacity = ctx.spec.capacity
    generator = ctx.spec.generator()
    result = _PropertyResult()
    shrink_budget = examples + 100  # witnesses are cheap but not free: stop shrinking after this many runs

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(
        seed=st.integers(0, 2**32 - 1),
        device=st.integers(0, 999),
        count=st.integers(1, capacity),
        start=st.integers(0, 2**40),
        mode=st.sampled_from(ANCHOR_MODES),
    )
    def prop(seed: int, device: int, count: int, start: int, mode: str) -> None:
        # Only what changes the readings is drawn by hypothesis, so it does not spend examples on variations
        # (nonces, ids) that cannot change an output; those come from the seed.
        if result.failure is None:
            result.runs += 1
        elif result.runs + result.shrinks >= shrink_budget:
            # Out of budget: call every candidate a failure without running it, so hypothesis ends quickly
            # (and its final replay fails as it expects); result.failure keeps the smallest real one.
            raise AssertionError("shrink budget spent")
        else:
            result.shrinks += 1
        outcome = _run_generated(ctx, generator, seed, device, count, start, mode)
        if not outcome.agrees:
            if result.failure is None or len(outcome.records) <= len(result.failure.records):
                result.failure = outcome
            raise AssertionError(outcome.label)
        if result.failure is None:
            result.accepted += outcome.accepted

    test: Callable[[], None] = prop
    if seed is not None:
        test = hypothesis_seed(seed)(prop)
    try:
        test()
    except Exception:  # hypothesis re-raises the failure (or reports it flaky): the batch is in result.failure
        if result.failure is None:
            raise
    return result


def _property_plain(ctx: _Context, examples: int, seed: int | None) -> _PropertyResult:
    """Generated batches from seeded randomness (no hypothesis installed): the first failure, unshrunk."""
    capacity = ctx.spec.capacity
    generator = ctx.spec.generator()
    chooser = random.Random(seed)
    result = _PropertyResult()
    for i in range(examples):
        case_seed = chooser.randrange(2**32)
        rng = random.Random(case_seed)
        device = rng.randrange(1000)
        count = 1 + i % capacity if i < capacity else rng.randint(1, capacity)
        start = rng.randrange(2**40)
        mode = ANCHOR_MODES[i % len(ANCHOR_MODES)]
        outcome = _run_generated(ctx, generator, case_seed, device, count, start, mode)
        result.runs += 1
        if not outcome.agrees:
            result.failure = outcome
            break
        result.accepted += outcome.accepted
    return result


def run_differential(
    spec: ProjectSpec,
    *,
    examples: int = 30,
    seed: int | None = None,
    cache_dir: Path | None = None,
    compiled: CompiledCircuit | None = None,
) -> DifferentialReport:
    """Compile ``spec``'s circuit (unless ``compiled`` is given) and compare it with its logic on (a) ``examples``
    generated batches, with and without a previous message, (b) edge cases and chained edge cases, full and
    single-message batches with and without their previous message, the largest nonces, (c) batches the circuit
    must reject: a first message not after the anchor, wrong openings of the anchor leaf, the empty batch.

    ``seed`` makes the run repeatable. Compile and interface problems raise CircuitError; disagreements are in
    the report (``report.ok``, ``report.describe()``, ``report.raise_on_failure()``).
    """
    if compiled is None:
        compiled = compile_project(spec, cache_dir)
    generator = spec.generator()
    rng = random.Random(seed)
    with _runner(compiled, len(spec.outputs)) as runner:
        ctx = _Context(spec, spec.logic(), runner)
        report = DifferentialReport(project=spec.name, circuit=compiled)

        if examples > 0:
            try:
                import hypothesis  # noqa: F401  (optional: a dev dependency, not a runtime one)

                property_test = _property_hypothesis
            except ImportError:
                property_test = _property_plain
                report.property_engine = "seeded random"
            found = property_test(ctx, examples, seed)
            report.property_examples, report.property_accepted = found.runs, found.accepted
            report.property_failure = found.failure

        edge_cases = getattr(generator, "edge_cases", None)
        for i, readings in enumerate(edge_cases() if callable(edge_cases) else []):
            for label, records, before in _tasks_of(f"edge case {i + 1}", records_of(readings), None, spec.capacity):
                report.outcomes.append(_run_batch(ctx, label, records, rng, previous=before))
        chained_cases = getattr(generator, "chained_edge_cases", None)
        for i, (before, readings) in enumerate(chained_cases() if callable(chained_cases) else []):
            previous, *records = records_of([before, *readings])
            for label, part, prior in _tasks_of(f"chained edge case {i + 1}", records, previous, spec.capacity):
                report.outcomes.append(_run_batch(ctx, label, part, rng, previous=prior))
        report.outcomes.extend(_fixed_batches(ctx, generator, rng))
    return report


def _tasks_of(
    label: str, records: list[TaskRecord], previous: TaskRecord | None, capacity: int
) -> list[tuple[str, list[TaskRecord], TaskRecord | None]]:
    """A hand-picked batch longer than the capacity (a template's edge cases, in its signed variant of a smaller
    capacity) as consecutive tasks, each chained to the one before, as the sequencer would cut it."""
    if len(records) <= capacity:
        return [(label, records, previous)]
    parts = []
    for k in range(0, len(records), capacity):
        prior = previous if k == 0 else records[k - 1]
        parts.append((f"{label}, task {k // capacity + 1}", records[k : k + capacity], prior))
    return parts


def _fixed_batches(ctx: _Context, generator: Any, rng: random.Random) -> list[BatchOutcome]:
    """A full batch with and without its previous message, one message, the largest nonces, then what the circuit
    must reject: a first message not after the anchor, wrong openings of the anchor leaf, the empty batch."""
    capacity = ctx.spec.capacity
    start = 1_700_000_000
    chained = records_of(generator.readings(random.Random(rng.randrange(2**32)), 0, capacity + 1, start))
    previous, *full = chained
    single_previous, single = records_of(generator.readings(random.Random(rng.randrange(2**32)), 1, 2, start))
    top = records_of([(r.timestamp, r.payload) for r in full], first_nonce=UINT64_MAX - capacity + 1)
    first = full[0]
    outcomes = [
        _run_batch(ctx, f"full batch ({capacity} messages)", full, rng),
        _run_batch(ctx, "full batch after its previous message", full, rng, previous=previous),
        _run_batch(
            ctx, "previous message under another config version", full, rng, previous=previous, same_config=False
        ),
        _run_batch(ctx, "single message", [single], rng),
        _run_batch(ctx, "single message after its previous message", [single], rng, previous=single_previous),
        _run_batch(
            ctx, "largest nonces (up to 2^64 - 1)", top, rng, previous=replace(previous, nonce=UINT64_MAX - capacity)
        ),
    ]
    not_after = "its first message must come after the anchor's prevTime"
    for label, when in (("first message at the anchor's time", 0), ("first message before the anchor's time", 1)):
        anchor = replace(previous, timestamp=first.timestamp + when)
        outcomes.append(_run_batch(ctx, label, full, rng, previous=anchor, why_rejected=not_after))
    name = ctx.spec.schema.payload_names[0]
    wrong_field = replace(previous, payload={**previous.payload, name: previous.payload[name] ^ 1})
    wrong_openings = {
        "anchor leaf opened with another payload": wrong_field,
        "anchor leaf opened with another nonce": replace(previous, nonce=previous.nonce + 1),
    }
    for label, opening in wrong_openings.items():
        why = "the opening of prevLeaf must hash to prevLeaf"
        outcomes.append(_run_batch(ctx, label, full, rng, previous=previous, opening=opening, why_rejected=why))
    why_empty = "valid[0] must be 1: a task holds at least one message"
    outcomes.append(_run_batch(ctx, "empty batch (all padding)", [], rng, why_rejected=why_empty))
    return outcomes


def assert_project(path: str | Path, *, examples: int = 30, seed: int | None = None) -> DifferentialReport:
    """Load the project at ``path`` and run :func:`run_differential`; DifferentialError on any disagreement.

    This is what a project's own ``tests/test_project.py`` calls.
    """
    report = run_differential(load_project(path), examples=examples, seed=seed)
    report.raise_on_failure()
    return report
