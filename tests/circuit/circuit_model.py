"""Test helpers: tracks, and a plain-Python model of the tracker-distance circuit's named signals.

The model recomputes every intermediate signal the circuit names (hints, their remainders, range-check bits)
from the inputs and optional hint overrides. Written into a correct witness, it lets a test play a cheating
prover that changes one hint and keeps everything downstream consistent, so only the constraint pinning that
hint can object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import isqrt
from typing import Any

from proofstream.domain.merkle import leaf_hash, node_hash
from proofstream.domain.types import FIELD_MODULUS
from proofstream.projects.tracker_distance import task_root
from proofstream.projects.tracker_distance.logic import (
    BHASKARA,
    COS_SCALE,
    LAT_MAX,
    LAT_OFFSET,
    LON_MAX,
    METRES_DEN,
    METRES_NUM,
    Fix,
    circuit_inputs,
)
from proofstream.prover.witness import Witness

P = FIELD_MODULUS
DEPTH = 3
CAPACITY = 1 << DEPTH
PROJECT = 7
TASK_ID = 0x1234_5678_9ABC_DEF0_1122_3344_5566_7788_99AA_BBCC_DDEE_FF00_1122_3344_5566
DEVICE = 0x71C7656EC7AB88B098DEFB751B7401B5F6D8976F
PROVER = 0x2546BCD3C84621E976D8185A91A922AE77ECEC30

RANGE_BITS = {
    "latLow": 28,
    "latHigh": 28,
    "lonLow": 29,
    "lonHigh": 29,
    "nonceGapRange": 64,
    "timeGapRange": 32,
    "cosqRange": 17,
    "cosRemRange": 56,
    "cosRemBelow": 56,
    "sRange": 45,
    "sLow": 46,
    "sHigh": 46,
    "metresRange": 30,
    "metresRemRange": 36,
    "metresRemBelow": 36,
}
"""Bits of every RangeCheck component in circuit.circom (DEPTH = 3)."""


def track(n: int, *, lat: int = 142_520_000, lon: int = 193_405_000, step: tuple[int, int] = (900, 1500)) -> list[Fix]:
    """``n`` fixes a few hundred metres apart, nonces and timestamps increasing with gaps."""
    return [
        Fix(nonce=10 + 3 * i, timestamp=1_764_300_000 + 7 * i, lat=lat + step[0] * i, lon=lon + step[1] * i)
        for i in range(n)
    ]


def inputs_for(fixes: Sequence[Fix], **overrides: Any) -> dict[str, Any]:
    """Circuit inputs for ``fixes`` with the correct root, then ``overrides`` of whole input entries."""
    root = task_root(PROJECT, DEVICE, list(fixes), DEPTH)
    inputs: dict[str, Any] = circuit_inputs(PROJECT, TASK_ID, DEVICE, PROVER, fixes, root, DEPTH)
    inputs.update(overrides)
    return inputs


def model_signals(inputs: Mapping[str, Any], hints: Mapping[str, int] | None = None) -> dict[str, int]:
    """Every named signal of ``main`` (field values), with ``hints`` (e.g. ``{"s[1]": v}``) replacing the
    honest hint values and everything that depends on them recomputed from the replacement."""
    hints = dict(hints or {})
    sig: dict[str, int] = {}

    def put(name: str, value: int) -> int:
        sig[name] = hints.get(name, value) % P
        return sig[name]

    valid = [put(f"valid[{i}]", v) for i, v in enumerate(inputs["valid"])]
    nonce, ts, lat, lon = (list(inputs[k]) for k in ("nonce", "timestamp", "lat", "lon"))
    checks: dict[str, int] = {}
    for i in range(CAPACITY):
        checks[f"latLow[{i}]"] = lat[i]
        checks[f"latHigh[{i}]"] = LAT_MAX - lat[i]
        checks[f"lonLow[{i}]"] = lon[i]
        checks[f"lonHigh[{i}]"] = LON_MAX - lon[i]
    for i in range(1, CAPACITY):
        checks[f"nonceGapRange[{i}]"] = put(f"nonceGap[{i}]", valid[i] * (nonce[i] - nonce[i - 1] - 1))
        checks[f"timeGapRange[{i}]"] = put(f"timeGap[{i}]", valid[i] * (ts[i] - ts[i - 1] - 1))
    for i in range(CAPACITY):
        following = valid[i + 1] if i + 1 < CAPACITY else 0
        put(f"lastTerm[{i}]", (valid[i] - following) * nonce[i])
    nodes = [0] * (2 * CAPACITY - 1)
    for i in range(CAPACITY):
        leaf = leaf_hash(inputs["project"], inputs["device"], nonce[i], ts[i], (lat[i], lon[i]))
        nodes[CAPACITY - 1 + i] = put(f"node[{CAPACITY - 1 + i}]", valid[i] * leaf)
    for k in range(CAPACITY - 2, -1, -1):
        nodes[k] = put(f"node[{k}]", node_hash(nodes[2 * k + 1], nodes[2 * k + 2]))

    d2 = put("d2", (lat[0] - LAT_OFFSET) ** 2)
    num, den = COS_SCALE * (BHASKARA - 4 * d2), BHASKARA + d2
    cosq = put("cosq", num // den)
    cos_rem = put("cosRem", num - cosq * den)
    checks["cosqRange"], checks["cosRemRange"], checks["cosRemBelow"] = cosq, cos_rem, den - 1 - cos_rem
    cos2 = put("cos2", cosq * cosq)
    total = 0
    for i in range(1, CAPACITY):
        dlat2 = put(f"dlat2[{i}]", (lat[i] - lat[i - 1]) ** 2)
        lon_term = put(f"lonTerm[{i}]", put(f"dlon2[{i}]", (lon[i] - lon[i - 1]) ** 2) * cos2)
        sq = (dlat2 * COS_SCALE * COS_SCALE + lon_term) % P
        s = put(f"s[{i}]", isqrt(sq))
        s_square = put(f"sSquare[{i}]", s * s)
        checks[f"sRange[{i}]"], checks[f"sLow[{i}]"], checks[f"sHigh[{i}]"] = (
            s,
            sq - s_square,
            s_square + 2 * s - sq,
        )
        total += put(f"seg[{i}]", valid[i] * s)
    metres = put("metres", total * METRES_NUM // METRES_DEN)
    metres_rem = put("metresRem", total * METRES_NUM - metres * METRES_DEN)
    checks["metresRange"], checks["metresRemRange"] = metres, metres_rem
    checks["metresRemBelow"] = METRES_DEN - 1 - metres_rem

    for component, value in checks.items():
        bits = RANGE_BITS[component.split("[")[0]]
        field_value = value % P  # a cheater can only write the low bits; the sum then misses the value
        for k in range(bits):
            sig[f"{component}.bits.out[{k}]"] = (field_value >> k) & 1
    return sig


def apply_signals(witness: Witness, symbols: Mapping[str, int], signals: Mapping[str, int]) -> Witness:
    """``witness`` with every modelled signal that is a wire set to the model's value."""
    values = list(witness.values)
    for name, value in signals.items():
        wire = symbols.get(f"main.{name}")
        if wire is not None:
            values[wire] = value % P
    return Witness(witness.prime, tuple(values))
