"""Tracks the protocol forbids cannot even produce a witness: circom's asserts name the broken rule.

The rules live in two files: the framework's (order, ranges, padding, commitment) in the shared library
src/proofstream/circuits/batch.circom (template ProofstreamBatch), the tracker's own (coordinate ranges) in the
template's circuit.circom (template TrackerDistance). Each case names the line it must break.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from circuit.circuit_model import (
    CAPACITY,
    DEVICE,
    PROJECT,
    SPEC,
    Fix,
    P,
    inputs_for,
    reference_metres,
    task_root,
    track,
)
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.circuits.build import LIBRARY_DIR
from proofstream.circuits.witness import calculate_witness, read_wtns
from proofstream.domain.merkle import leaf_hash
from proofstream.errors import CircuitError
from proofstream.templates.tracker_distance.logic import LAT_MAX, LON_MAX


def committed(fixes: list[Fix]) -> dict[str, Any]:
    """Inputs whose root commits to exactly these (bad) fixes: only the rule under test can object."""
    return inputs_for(fixes)


def swapped(fixes: list[Fix], i: int, j: int) -> list[Fix]:
    out = list(fixes)
    out[i], out[j] = out[j], out[i]
    return out


GOOD = track(5)

# The circuit line whose constraint each bad track breaks (circom names it in the failed assert).
BATCH = "ProofstreamBatch"
TRACKER = "TrackerDistance"
NONCE = (BATCH, "nonceGapRange[i].in <== nonceGap[i];")
TIME = (BATCH, "timeGapRange[i].in <== timeGap[i];")
NONCE_RANGE = (BATCH, "nonceRange.in <== nonce[0];")
TIME_RANGE = (BATCH, "timeRange.in <== timestamp[0];")
FIELD_RANGE = (BATCH, "fieldRange[f][i].in <== fields[f][i];")
PREFIX = (BATCH, "valid[i] * (1 - valid[i - 1]) === 0;")
FIRST_VALID = (BATCH, "valid[0] === 1;")
BOOLEAN = (BATCH, "valid[i] * (valid[i] - 1) === 0;")
PADDING_NONCE = (BATCH, "(1 - valid[i]) * nonce[i] === 0;")
PADDING_TIME = (BATCH, "(1 - valid[i]) * timestamp[i] === 0;")
PADDING_FIELD = (BATCH, "(1 - valid[i]) * fields[f][i] === 0;")
ROOT = (BATCH, "root === node[0];")
FIRST_NONCE = (BATCH, "firstNonce === nonce[0];")
LAST_NONCE = (BATCH, "lastNonce === lastSum;")
LAT_HIGH = (TRACKER, "latHigh[i].in <== LAT_MAX - lat[i];")
LON_HIGH = (TRACKER, "lonHigh[i].in <== LON_MAX - lon[i];")
ANCHOR_GAP = (BATCH, "anchorGap.in <== timestamp[0] - prevTime - 1;")
OPENING = (BATCH, "hasPrev * (prevHash.out - prevLeaf) === 0;")
NO_OPENING_NONCE = (BATCH, "(1 - hasPrev) * prevNonce === 0;")
NO_OPENING_FIELDS = (BATCH, "(1 - hasPrev) * prevFields[f] === 0;")
PREV_FIELD_RANGE = (BATCH, "prevRange[f].in <== prevFields[f];")
LAST_TIME = (BATCH, "lastTime === lastTimeSum;")
LAST_LEAF = (BATCH, "lastLeaf === lastLeafSum;")
PREV_LAT_HIGH = (TRACKER, "prevLatHigh.in <== LAT_MAX - prevFields[0];")
PREV_LON_HIGH = (TRACKER, "prevLonHigh.in <== LON_MAX - prevFields[1];")

SOURCES = {
    BATCH: (LIBRARY_DIR / "batch.circom").read_text().splitlines(),
    TRACKER: SPEC.circuit_path.read_text().splitlines(),
}


def in_padding(name: str, value: int) -> dict[str, Any]:
    """GOOD's inputs with ``value`` in the last (padding) slot of input array ``name``."""
    inputs = inputs_for(GOOD)
    inputs[name] = [*inputs[name][:-1], value]
    return inputs


PREVIOUS = Fix(GOOD[0].nonce - 1, GOOD[0].timestamp - 30, GOOD[0].lat - 2_000, GOOD[0].lon + 1_000)
"""The device's last verified fix before GOOD (the anchor)."""


def chained(previous: Fix, fixes: list[Fix] = GOOD, **overrides: Any) -> dict[str, Any]:
    """Inputs for ``fixes`` after ``previous``, whose anchor (prevTime, prevLeaf) is the chain's."""
    return inputs_for(fixes, previous=previous, **overrides)


def anchor_cases() -> dict[str, tuple[dict[str, Any], tuple[str, str]]]:
    honest = chained(PREVIOUS)
    last = GOOD[-1]
    return {
        "first fix at the anchor's time": (chained(replace(PREVIOUS, timestamp=GOOD[0].timestamp)), ANCHOR_GAP),
        "first fix before the anchor's time": (chained(replace(PREVIOUS, timestamp=GOOD[0].timestamp + 5)), ANCHOR_GAP),
        "first fix at prevTime without a leaf": (inputs_for(GOOD, prevTime=GOOD[0].timestamp), ANCHOR_GAP),
        "opening with another position": (chained(PREVIOUS, opening=replace(PREVIOUS, lat=PREVIOUS.lat + 1)), OPENING),
        "opening with another nonce": (chained(PREVIOUS, opening=replace(PREVIOUS, nonce=PREVIOUS.nonce + 1)), OPENING),
        "prevTime not the opened fix's": (chained(PREVIOUS, prevTime=PREVIOUS.timestamp - 1), OPENING),
        "prevLeaf the opening does not hash to": ({**honest, "prevLeaf": honest["prevLeaf"] + 1}, OPENING),
        "opening without an anchor leaf": (
            inputs_for(GOOD, prevFields=[PREVIOUS.lat, PREVIOUS.lon]),
            NO_OPENING_FIELDS,
        ),
        "opening nonce without an anchor leaf": (inputs_for(GOOD, prevNonce=PREVIOUS.nonce), NO_OPENING_NONCE),
        "previous fix beyond uint32": (chained(replace(PREVIOUS, lon=2**32)), PREV_FIELD_RANGE),
        "previous fix above the north pole": (chained(replace(PREVIOUS, lat=LAT_MAX + 1)), PREV_LAT_HIGH),
        "previous fix beyond 180 degrees": (chained(replace(PREVIOUS, lon=LON_MAX + 1)), PREV_LON_HIGH),
        "lastTime of an earlier fix": (chained(PREVIOUS, lastTime=GOOD[3].timestamp), LAST_TIME),
        "lastTime after the last fix": (chained(PREVIOUS, lastTime=last.timestamp + 1), LAST_TIME),
        "lastLeaf of an earlier fix": (
            chained(
                PREVIOUS,
                lastLeaf=leaf_hash(PROJECT, DEVICE, GOOD[3].nonce, GOOD[3].timestamp, (GOOD[3].lat, GOOD[3].lon)),
            ),
            LAST_LEAF,
        ),
        "lastLeaf zero": (chained(PREVIOUS, lastLeaf=0), LAST_LEAF),
    }


def bad_cases() -> dict[str, tuple[dict[str, Any], tuple[str, str]]]:
    valid_gap = inputs_for(GOOD, valid=[1, 1, 0, 1, 1, 0, 0, 0])
    leading_padding = inputs_for(GOOD, valid=[0, 1, 1, 1, 1, 0, 0, 0])
    non_boolean = inputs_for(GOOD, valid=[1, 1, 1, 1, 2, 0, 0, 0])
    extra_valid = inputs_for(GOOD, valid=[1, 1, 1, 1, 1, 1, 0, 0])  # a padding slot claimed as a fix
    wrong_time = [*GOOD[:2], replace(GOOD[2], timestamp=GOOD[1].timestamp), *GOOD[3:]]
    time_back = [*GOOD[:2], replace(GOOD[2], timestamp=GOOD[1].timestamp - 1), *GOOD[3:]]
    return {
        "reordered fixes": (committed(swapped(GOOD, 1, 2)), NONCE),
        "reordered last two": (committed(swapped(GOOD, 3, 4)), NONCE),
        "duplicated fix": (committed([*GOOD[:3], GOOD[2], *GOOD[3:]]), NONCE),
        "same nonce": (committed([*GOOD[:2], replace(GOOD[2], nonce=GOOD[1].nonce), *GOOD[3:]]), NONCE),
        "same timestamp": (committed(wrong_time), TIME),
        "timestamp going back": (committed(time_back), TIME),
        "timestamps beyond uint64": (committed([replace(f, timestamp=f.timestamp + 2**64) for f in GOOD]), TIME_RANGE),
        "nonces beyond uint64": (committed([replace(f, nonce=f.nonce + 2**64) for f in GOOD]), NONCE_RANGE),
        # P - 1 is "-1": the next nonce minus it minus one wraps to a small gap, so only the range check objects
        "nonce wrapped below zero": (committed([replace(GOOD[0], nonce=P - 1), *GOOD[1:]]), NONCE_RANGE),
        "valid not a prefix": (valid_gap, PREFIX),
        "slot 0 unused": (leading_padding, FIRST_VALID),
        "valid not boolean": (non_boolean, BOOLEAN),
        "padding claimed valid": (extra_valid, NONCE),
        "lat above the north pole": (committed([*GOOD[:2], replace(GOOD[2], lat=LAT_MAX + 1)]), LAT_HIGH),
        "lat wrapped below zero": (committed([*GOOD[:2], replace(GOOD[2], lat=P - 1)]), FIELD_RANGE),
        "lon above 180 degrees": (committed([replace(GOOD[0], lon=LON_MAX + 1), *GOOD[1:]]), LON_HIGH),
        "lon beyond uint32": (committed([*GOOD[:3], replace(GOOD[3], lon=2**32)]), FIELD_RANGE),
        "lat out of range in a padding slot": (in_padding("lat", LAT_MAX + 1), PADDING_FIELD),
        "lon in a padding slot": (in_padding("lon", 5), PADDING_FIELD),
        "nonce in a padding slot": (in_padding("nonce", GOOD[-1].nonce + 1), PADDING_NONCE),
        "timestamp in a padding slot": (in_padding("timestamp", GOOD[-1].timestamp + 1), PADDING_TIME),
        "wrong root": (inputs_for(GOOD, root=task_root(PROJECT, DEVICE, GOOD[:4])), ROOT),
        "root of another device": (inputs_for(GOOD, root=task_root(PROJECT, DEVICE + 1, GOOD)), ROOT),
        "root of another project": (inputs_for(GOOD, root=task_root(PROJECT + 1, DEVICE, GOOD)), ROOT),
        "firstNonce mismatch": (inputs_for(GOOD, firstNonce=GOOD[0].nonce + 1), FIRST_NONCE),
        "lastNonce mismatch": (inputs_for(GOOD, lastNonce=GOOD[3].nonce), LAST_NONCE),
        "lastNonce of a padding slot": (inputs_for(GOOD, lastNonce=0), LAST_NONCE),
        **anchor_cases(),
    }


BAD = bad_cases()


def test_every_rule_line_exists() -> None:
    for template, rule in {rule for _inputs, rule in BAD.values()}:
        assert sum(line.strip() == rule for line in SOURCES[template]) == 1, (template, rule)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_track_has_no_witness(artifacts: CircuitArtifacts, name: str, tmp_path: Path) -> None:
    inputs, (template, rule) = BAD[name]
    with pytest.raises(CircuitError, match="Assert Failed") as caught:
        calculate_witness(artifacts, inputs, tmp_path / "w.wtns")
    assert caught.value.code == "witness_failed"
    assert not (tmp_path / "w.wtns").exists()
    # circom reports the failing location innermost first (Num2Bits, RangeCheck, ...): the first frame in the
    # batch library or the tracker's template is the line that holds the broken rule.
    frames = re.findall(rf"Error in template ({BATCH}|{TRACKER})_\d+ line: (\d+)", str(caught.value))
    assert frames, str(caught.value)
    where, line = frames[0]
    assert (where, SOURCES[where][int(line) - 1].strip()) == (template, rule)


def test_the_good_track_behind_the_bad_cases_is_accepted(artifacts: CircuitArtifacts, tmp_path: Path) -> None:
    calculate_witness(artifacts, inputs_for(GOOD), tmp_path / "w.wtns")
    assert (tmp_path / "w.wtns").stat().st_size > 32 * 7000
    assert len(GOOD) < CAPACITY
    calculate_witness(artifacts, chained(PREVIOUS), tmp_path / "w.wtns")
    assert read_wtns(tmp_path / "w.wtns").values[1] == reference_metres(GOOD, PREVIOUS) > reference_metres(GOOD)


@pytest.mark.parametrize("gap", [2**32, 2**32 + 1, 2**48, 2**64 - 1 - GOOD[1].timestamp])
def test_any_uint64_time_gap_is_accepted(artifacts: CircuitArtifacts, gap: int, tmp_path: Path) -> None:
    """The batch library bounds timestamps to uint64, not their gaps (the old circuit capped gaps at 2^32 s):
    a tracker that was off for a long time still gets its next hop counted, like the reference does."""
    fixes = [GOOD[0], GOOD[1], replace(GOOD[2], timestamp=GOOD[1].timestamp + gap)]
    calculate_witness(artifacts, inputs_for(fixes), tmp_path / "w.wtns")
    assert read_wtns(tmp_path / "w.wtns").values[1] == reference_metres(fixes) > 0
