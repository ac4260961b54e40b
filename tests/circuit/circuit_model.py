"""Test helpers: tracks, and a plain-Python model of the tracker-distance template circuit's named signals.

The circuit under test is the template's (src/proofstream/templates/tracker_distance/circuit.circom) on the
shared batch library (src/proofstream/circuits/batch.circom) at the template's capacity 8 (the demo scaffolds the
same template at depth 4, `project new --capacity 16`).

The model recomputes every intermediate signal the circuit names (hints, their remainders, range-check bits,
the batch library's gaps and Merkle nodes) from the inputs and optional hint overrides. Written into a correct
witness, it lets a test play a cheating prover that changes one hint and keeps everything downstream
consistent, so only the constraint pinning that hint can object.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from math import isqrt
from typing import Any

from proofstream.circuits.witness import Witness
from proofstream.domain.anchor import NO_ANCHOR, Anchor, anchor_after
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.layout import PUBLIC_INPUTS, batch_root, circuit_inputs
from proofstream.domain.merkle import leaf_hash, node_hash
from proofstream.domain.types import FIELD_MODULUS
from proofstream.projects.circuit import ProjectCircuit
from proofstream.projects.scaffold import template_dir
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.templates.tracker_distance.logic import (
    BHASKARA,
    COS_SCALE,
    LAT_MAX,
    LAT_OFFSET,
    LON_MAX,
    METRES_DEN,
    METRES_NUM,
    SPEED_CAP,
)

SPEC: ProjectSpec = load_project(template_dir("tracker-distance"))
"""The tracker-distance template itself, in place (capacity 8)."""
TRACKER = ProjectCircuit.of(SPEC)
"""The template as the Groth16 backend sees it (inputs by the shared layout, outputs by its logic.py)."""
FIELDS = SPEC.schema.payload_names
P = FIELD_MODULUS
DEPTH = 3
CAPACITY = 1 << DEPTH
PROJECT = 7
TASK_ID = 0x1234_5678_9ABC_DEF0_1122_3344_5566_7788_99AA_BBCC_DDEE_FF00_1122_3344_5566
DEVICE = 0x71C7656EC7AB88B098DEFB751B7401B5F6D8976F
PROVER = 0x2546BCD3C84621E976D8185A91A922AE77ECEC30
CONFIG = 3
"""The config version of the tasks under test (an anchor left under another one is not opened)."""

RANGE_BITS = {
    "batch.nonceRange": 64,
    "batch.timeRange": 64,
    "batch.fieldRange": 32,  # lat, lon are uint32 in [schema]
    "batch.nonceGapRange": 64,
    "batch.timeGapRange": 64,
    "batch.anchorGap": 64,
    "batch.prevRange": 32,
    "latHigh": 28,
    "lonHigh": 29,
    "prevLatHigh": 28,
    "prevLonHigh": 29,
    "lonDiff.outRange": 29,
    "cosqRange": 17,
    "cosRemRange": 56,
    "cosRemBelow": 56,
    "sRange": 44,
    "sLow": 45,
    "sHigh": 45,
    "metresRange": 29,
    "metresRemRange": 36,
    "metresRemBelow": 36,
}
"""Bits of every RangeCheck component under ``main`` (DEPTH = 3), indexes dropped from the name."""


@dataclass(frozen=True)
class Fix:
    """One GPS fix: its message's nonce and timestamp, and the offset-microdegree position."""

    nonce: int
    timestamp: int
    lat: int
    lon: int

    @property
    def record(self) -> TaskRecord:
        return TaskRecord(self.nonce, self.timestamp, {"lat": self.lat, "lon": self.lon})


def records(fixes: Sequence[Fix]) -> tuple[TaskRecord, ...]:
    return tuple(f.record for f in fixes)


def track(n: int, *, lat: int = 142_520_000, lon: int = 193_405_000, step: tuple[int, int] = (900, 1500)) -> list[Fix]:
    """``n`` fixes a few hundred metres apart, nonces and timestamps increasing with gaps."""
    return [
        Fix(nonce=10 + 3 * i, timestamp=1_764_300_000 + 7 * i, lat=lat + step[0] * i, lon=lon + step[1] * i)
        for i in range(n)
    ]


def task_root(project: int, device: int, fixes: Sequence[Fix]) -> int:
    """The batch commitment of these fixes (what the sequencer records on chain at assignment)."""
    return batch_root(project, device, records(fixes), FIELDS, DEPTH)


def anchor_of(previous: Fix | None, *, config: int = CONFIG) -> Anchor:
    """The chain's anchor after a task whose last fix is ``previous`` (proven under ``config``)."""
    if previous is None:
        return NO_ANCHOR
    return anchor_after(PROJECT, DEVICE, config, previous.nonce, previous.timestamp, (previous.lat, previous.lon))


def make_task(
    fixes: Sequence[Fix],
    *,
    root: int | None = None,
    previous: Fix | None = None,
    anchor: Anchor | None = None,
    opening: Fix | None = None,
) -> CircuitTask:
    """The task of ``fixes`` for PROJECT/DEVICE/PROVER/TASK_ID, with the correct root unless one is given, chained
    to the device's last verified fix ``previous`` (its anchor unless ``anchor`` is given; the prover opens the
    anchor leaf with ``previous``, or with ``opening`` when given)."""
    shown = opening if opening is not None else previous
    return CircuitTask(
        project=PROJECT,
        task_id=TASK_ID,
        device=DEVICE,
        prover=PROVER,
        root=task_root(PROJECT, DEVICE, fixes) if root is None else root,
        records=records(fixes),
        config=CONFIG,
        anchor=anchor_of(previous) if anchor is None else anchor,
        previous=shown.record if shown is not None else None,
    )


def reference_metres(fixes: Sequence[Fix], previous: Fix | None = None) -> int:
    """The template logic's metres, after every check the prover makes (ValueError for a bad track)."""
    return TRACKER.reference_outputs(make_task(fixes, root=0, previous=previous))[0]  # no root in the metres


def inputs_for(
    fixes: Sequence[Fix], *, previous: Fix | None = None, opening: Fix | None = None, **overrides: Any
) -> dict[str, Any]:
    """Circuit inputs for ``fixes`` (after ``previous``) with the correct root and anchor, then ``overrides`` of
    whole input entries.

    Built without validation, so tests can feed the circuit tracks the reference rejects."""
    inputs: dict[str, Any] = circuit_inputs(make_task(fixes, previous=previous, opening=opening), FIELDS, DEPTH)
    inputs.update(overrides)
    return inputs


CAP_BITS = 90
"""The speed cap's MinOf width in circuit.circom (SPEED_CAP * dt < 2^90)."""


def min_of(put: Callable[[str, int], int], name: str, a: int, b: int, n: int) -> int:
    """The signals of batch.circom's MinOf(n) component ``name`` (circomlib's LessThan(n) inside, whose Num2Bits
    decomposes ``a + 2^n - b`` into n + 1 bits); returns its ``out``."""
    value = (a + (1 << n) - b) % P
    for k in range(n + 1):
        put(f"{name}.less.n2b.out[{k}]", (value >> k) & 1)
    less = put(f"{name}.less.out", 1 - ((value >> n) & 1))
    return put(f"{name}.out", b + less * (a - b))


def range_bits(component: str) -> int:
    return RANGE_BITS[re.sub(r"\[\d+\]", "", component)]


def model_signals(inputs: Mapping[str, Any], hints: Mapping[str, int] | None = None) -> dict[str, int]:
    """Every named signal of ``main`` except Poseidon's internals (field values), with ``hints`` (e.g.
    ``{"s[1]": v}``) replacing the honest values and everything that depends on them recomputed from the
    replacement."""
    hints = dict(hints or {})
    sig: dict[str, int] = {}

    def put(name: str, value: int) -> int:
        sig[name] = hints.get(name, value) % P
        return sig[name]

    public = {name: put(name, inputs[name]) for name in PUBLIC_INPUTS}
    prev_nonce = put("prevNonce", inputs["prevNonce"])
    prev_lat, prev_lon = (put(f"prevFields[{f}]", v) for f, v in enumerate(inputs["prevFields"]))
    valid = [put(f"valid[{i}]", v) for i, v in enumerate(inputs["valid"])]
    nonce = [put(f"nonce[{i}]", v) for i, v in enumerate(inputs["nonce"])]
    ts = [put(f"timestamp[{i}]", v) for i, v in enumerate(inputs["timestamp"])]
    lat = [put(f"lat[{i}]", v) for i, v in enumerate(inputs["lat"])]
    lon = [put(f"lon[{i}]", v) for i, v in enumerate(inputs["lon"])]

    # --- the shared batch library (component ``batch``)
    put("batch.taskIdSquare", public["taskId"] ** 2)
    put("batch.proverSquare", public["prover"] ** 2)
    put("batch.count", sum(valid))
    # Only the first nonce and timestamp are range-checked; later ones follow at range-checked gaps.
    checks: dict[str, int] = {"batch.nonceRange": nonce[0], "batch.timeRange": ts[0]}
    for i in range(CAPACITY):
        checks[f"batch.fieldRange[0][{i}]"] = lat[i]
        checks[f"batch.fieldRange[1][{i}]"] = lon[i]
    # the anchor: the first fix after prevTime, hasPrev = (prevLeaf != 0) through its inverse, the opening
    prev_time, prev_leaf = public["prevTime"], public["prevLeaf"]
    checks["batch.anchorGap"] = ts[0] - prev_time - 1
    prev_inv = put("batch.prevInv", pow(prev_leaf, P - 2, P) if prev_leaf else 0)
    has_prev = put("batch.hasPrev", prev_leaf * prev_inv)
    checks["batch.prevRange[0]"], checks["batch.prevRange[1]"] = prev_lat, prev_lon
    dt = [put("batch.dt[0]", has_prev * (ts[0] - prev_time))]
    for i in range(1, CAPACITY):
        checks[f"batch.nonceGapRange[{i}]"] = put(f"batch.nonceGap[{i}]", valid[i] * (nonce[i] - nonce[i - 1] - 1))
        time_gap = put(f"batch.timeGap[{i}]", valid[i] * (ts[i] - ts[i - 1] - 1))
        checks[f"batch.timeGapRange[{i}]"] = time_gap
        dt.append(put(f"batch.dt[{i}]", time_gap + valid[i]))
    for i in range(CAPACITY):
        following = valid[i + 1] if i + 1 < CAPACITY else 0
        put(f"batch.lastTerm[{i}]", (valid[i] - following) * nonce[i])
    nodes = [0] * (2 * CAPACITY - 1)
    for i in range(CAPACITY):
        leaf = leaf_hash(public["project"], public["device"], nonce[i], ts[i], (lat[i], lon[i]))
        nodes[CAPACITY - 1 + i] = put(f"batch.node[{CAPACITY - 1 + i}]", valid[i] * leaf)
    for k in range(CAPACITY - 2, -1, -1):
        nodes[k] = put(f"batch.node[{k}]", node_hash(nodes[2 * k + 1], nodes[2 * k + 2]))
    for i in range(CAPACITY):
        following = valid[i + 1] if i + 1 < CAPACITY else 0
        put(f"batch.lastTimeTerm[{i}]", (valid[i] - following) * ts[i])
        put(f"batch.lastLeafTerm[{i}]", (valid[i] - following) * nodes[CAPACITY - 1 + i])
    del prev_nonce  # it only enters the opening's Poseidon hash (not modelled: it depends on modelled inputs only)

    # --- the tracker's own template
    for i in range(CAPACITY):
        checks[f"latHigh[{i}]"] = LAT_MAX - lat[i]
        checks[f"lonHigh[{i}]"] = LON_MAX - lon[i]
    checks["prevLatHigh"], checks["prevLonHigh"] = LAT_MAX - prev_lat, LON_MAX - prev_lon
    lat_before = [prev_lat, *lat[:-1]]
    lon_before = [prev_lon, *lon[:-1]]
    d2 = put("d2", (lat[0] - LAT_OFFSET) ** 2)
    num, den = COS_SCALE * (BHASKARA - 4 * d2), BHASKARA + d2
    cosq = put("cosq", num // den)
    cos_rem = put("cosRem", num - cosq * den)
    checks["cosqRange"], checks["cosRemRange"], checks["cosRemBelow"] = cosq, cos_rem, den - 1 - cos_rem
    cos2 = put("cos2", cosq * cosq)
    total = 0
    for i in range(CAPACITY):
        dlat2 = put(f"dlat2[{i}]", (lat[i] - lat_before[i]) ** 2)
        # lonDiff: AbsDiff(29) with its sign hint; lonShort: MinOf(29)(|d|, LON_MAX - |d|)
        negative = put(f"lonDiff[{i}].negative", 1 if lon[i] < lon_before[i] else 0)
        u = put(f"lonDiff[{i}].out", (lon[i] - lon_before[i]) * (1 - 2 * negative))
        checks[f"lonDiff[{i}].outRange"] = u
        short = min_of(put, f"lonShort[{i}]", u, LON_MAX - u, 29)
        lon_term = put(f"lonTerm[{i}]", put(f"dlon2[{i}]", short * short) * cos2)
        sq = (dlat2 * COS_SCALE * COS_SCALE + lon_term) % P
        s = put(f"s[{i}]", isqrt(sq))
        s_square = put(f"sSquare[{i}]", s * s)
        checks[f"sRange[{i}]"], checks[f"sLow[{i}]"], checks[f"sHigh[{i}]"] = (
            s,
            sq - s_square,
            s_square + 2 * s - sq,
        )
        total += min_of(put, f"speedCap[{i}]", s, SPEED_CAP * dt[i], CAP_BITS)
    metres = put("metres", total * METRES_NUM // METRES_DEN)
    metres_rem = put("metresRem", total * METRES_NUM - metres * METRES_DEN)
    checks["metresRange"], checks["metresRemRange"] = metres, metres_rem
    checks["metresRemBelow"] = METRES_DEN - 1 - metres_rem

    for component, value in checks.items():
        field_value = value % P  # a cheater can only write the low bits; the sum then misses the value
        for k in range(range_bits(component)):
            put(f"{component}.bits.out[{k}]", (field_value >> k) & 1)
    return sig


def apply_signals(witness: Witness, symbols: Mapping[str, int], signals: Mapping[str, int]) -> Witness:
    """``witness`` with every modelled signal that is a wire set to the model's value."""
    values = list(witness.values)
    for name, value in signals.items():
        wire = symbols.get(f"main.{name}")
        if wire is not None:
            values[wire] = value % P
    return Witness(witness.prime, tuple(values))
