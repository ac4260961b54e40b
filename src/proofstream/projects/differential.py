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

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from proofstream.circuits.artifacts import CompiledCircuit
from proofstream.circuits.witness import WitnessRunner
from proofstream.domain.circuit_task import TaskRecord
from proofstream.projects.circuit import compile_project
from proofstream.projects.comparison import (
    UINT64_MAX,
    BatchOutcome,
    Comparison,
    DifferentialReport,
    Reading,
    compare_batch,
    records_of,
)
from proofstream.projects.spec import ProjectSpec, load_project

__all__ = ["ANCHOR_MODES", "assert_project", "run_differential"]

ANCHOR_MODES = ("none", "opened", "other config")
"""How a generated task is chained: no verified task yet (prevTime 0, prevLeaf 0); the previous message opened
from the anchor leaf; an anchor left by another config version (prevTime kept, prevLeaf 0)."""


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
    ctx: Comparison, generator: Any, seed: int, device: int, count: int, start: int, mode: str
) -> BatchOutcome:
    """One generated task of ``count`` messages, chained as ``mode`` (:data:`ANCHOR_MODES`) to the message the
    generator makes just before them."""
    rng = random.Random(seed)
    readings = generator.readings(rng, device, count + 1, start)
    previous, *records = _generated_records(readings, rng, ctx.spec.capacity)
    label = f"generated (seed={seed}, device={device}, count={count}, start={start}, anchor={mode})"
    if mode == "none":
        return compare_batch(ctx, label, records, rng)
    return compare_batch(ctx, label, records, rng, previous=previous, same_config=mode == "opened")


def _property_hypothesis(ctx: Comparison, examples: int, seed: int | None) -> _PropertyResult:
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


def _property_plain(ctx: Comparison, examples: int, seed: int | None) -> _PropertyResult:
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
    with WitnessRunner(compiled, len(spec.outputs)) as runner:
        ctx = Comparison(spec, spec.logic(), runner)
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
                report.outcomes.append(compare_batch(ctx, label, records, rng, previous=before))
        chained_cases = getattr(generator, "chained_edge_cases", None)
        for i, (before, readings) in enumerate(chained_cases() if callable(chained_cases) else []):
            previous, *records = records_of([before, *readings])
            for label, part, prior in _tasks_of(f"chained edge case {i + 1}", records, previous, spec.capacity):
                report.outcomes.append(compare_batch(ctx, label, part, rng, previous=prior))
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


def _fixed_batches(ctx: Comparison, generator: Any, rng: random.Random) -> list[BatchOutcome]:
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
        compare_batch(ctx, f"full batch ({capacity} messages)", full, rng),
        compare_batch(ctx, "full batch after its previous message", full, rng, previous=previous),
        compare_batch(
            ctx, "previous message under another config version", full, rng, previous=previous, same_config=False
        ),
        compare_batch(ctx, "single message", [single], rng),
        compare_batch(ctx, "single message after its previous message", [single], rng, previous=single_previous),
        compare_batch(
            ctx, "largest nonces (up to 2^64 - 1)", top, rng, previous=replace(previous, nonce=UINT64_MAX - capacity)
        ),
    ]
    not_after = "its first message must come after the anchor's prevTime"
    for label, when in (("first message at the anchor's time", 0), ("first message before the anchor's time", 1)):
        anchor = replace(previous, timestamp=first.timestamp + when)
        outcomes.append(compare_batch(ctx, label, full, rng, previous=anchor, why_rejected=not_after))
    name = ctx.spec.schema.payload_names[0]
    wrong_field = replace(previous, payload={**previous.payload, name: previous.payload[name] ^ 1})
    wrong_openings = {
        "anchor leaf opened with another payload": wrong_field,
        "anchor leaf opened with another nonce": replace(previous, nonce=previous.nonce + 1),
    }
    for label, opening in wrong_openings.items():
        why = "the opening of prevLeaf must hash to prevLeaf"
        outcomes.append(compare_batch(ctx, label, full, rng, previous=previous, opening=opening, why_rejected=why))
    why_empty = "valid[0] must be 1: a task holds at least one message"
    outcomes.append(compare_batch(ctx, "empty batch (all padding)", [], rng, why_rejected=why_empty))
    return outcomes


def assert_project(path: str | Path, *, examples: int = 30, seed: int | None = None) -> DifferentialReport:
    """Load the project at ``path`` and run :func:`run_differential`; DifferentialError on any disagreement.

    This is what a project's own ``tests/test_project.py`` calls.
    """
    report = run_differential(load_project(path), examples=examples, seed=seed)
    report.raise_on_failure()
    return report
