"""Tracks the protocol forbids cannot even produce a witness: circom's asserts name the broken rule."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from circuit.circuit_model import CAPACITY, DEVICE, PROJECT, P, inputs_for, track
from proofstream.errors import CircuitError
from proofstream.projects.tracker_distance import TRACKER_DISTANCE, task_root
from proofstream.projects.tracker_distance.logic import LAT_MAX, LON_MAX, Fix
from proofstream.prover.circuits import CircuitArtifacts
from proofstream.prover.witness import calculate_witness


def committed(fixes: list[Fix]) -> dict[str, Any]:
    """Inputs whose root commits to exactly these (bad) fixes: only the rule under test can object."""
    return inputs_for(fixes)


def swapped(fixes: list[Fix], i: int, j: int) -> list[Fix]:
    out = list(fixes)
    out[i], out[j] = out[j], out[i]
    return out


GOOD = track(5)

# The circuit line whose constraint each bad track breaks (circom names it in the failed assert).
NONCE = "nonceGapRange[i].in <== nonceGap[i];"
TIME = "timeGapRange[i].in <== timeGap[i];"
PREFIX = "valid[i] * (1 - valid[i - 1]) === 0;"
FIRST_VALID = "valid[0] === 1;"
BOOLEAN = "valid[i] * (valid[i] - 1) === 0;"
LAT_HIGH = "latHigh[i].in <== LAT_MAX - lat[i];"
LAT_LOW = "latLow[i].in <== lat[i];"
LON_HIGH = "lonHigh[i].in <== LON_MAX - lon[i];"
ROOT = "root === node[0];"
FIRST_NONCE = "firstNonce === nonce[0];"
LAST_NONCE = "lastNonce === lastSum;"


def bad_cases() -> dict[str, tuple[dict[str, Any], str]]:
    valid_gap = inputs_for(GOOD)
    valid_gap["valid"] = [1, 1, 0, 1, 1, 0, 0, 0]
    leading_padding = inputs_for(GOOD)
    leading_padding["valid"] = [0, 1, 1, 1, 1, 0, 0, 0]
    non_boolean = inputs_for(GOOD)
    non_boolean["valid"] = [1, 1, 1, 1, 2, 0, 0, 0]
    extra_valid = inputs_for(GOOD)
    extra_valid["valid"] = [
        1,
        1,
        1,
        1,
        1,
        1,
        0,
        0,
    ]  # a padding slot claimed as a fix (root no longer matches)
    wrong_time = [*GOOD[:2], replace(GOOD[2], timestamp=GOOD[1].timestamp), *GOOD[3:]]
    time_back = [*GOOD[:2], replace(GOOD[2], timestamp=GOOD[1].timestamp - 1), *GOOD[3:]]
    time_gap = [*GOOD[:2], replace(GOOD[2], timestamp=GOOD[1].timestamp + 2**32 + 1)]
    padding_lat = inputs_for(GOOD)
    padding_lat["lat"] = [f.lat for f in GOOD] + [0, 0, LAT_MAX + 1]
    return {
        "reordered fixes": (committed(swapped(GOOD, 1, 2)), NONCE),
        "reordered last two": (committed(swapped(GOOD, 3, 4)), NONCE),
        "duplicated fix": (committed([*GOOD[:3], GOOD[2], *GOOD[3:]]), NONCE),
        "same nonce": (committed([*GOOD[:2], replace(GOOD[2], nonce=GOOD[1].nonce), *GOOD[3:]]), NONCE),
        "same timestamp": (committed(wrong_time), TIME),
        "timestamp going back": (committed(time_back), TIME),
        "timestamp gap of 2^32 + 1 s": (committed(time_gap), TIME),
        "valid not a prefix": (valid_gap, PREFIX),
        "slot 0 unused": (leading_padding, FIRST_VALID),
        "valid not boolean": (non_boolean, BOOLEAN),
        "padding claimed valid": (extra_valid, NONCE),
        "lat above the north pole": (committed([*GOOD[:2], replace(GOOD[2], lat=LAT_MAX + 1)]), LAT_HIGH),
        "lat wrapped below zero": (committed([*GOOD[:2], replace(GOOD[2], lat=P - 1)]), LAT_LOW),
        "lon above 180 degrees": (committed([replace(GOOD[0], lon=LON_MAX + 1), *GOOD[1:]]), LON_HIGH),
        "lat out of range in a padding slot": (padding_lat, LAT_HIGH),
        "wrong root": (inputs_for(GOOD, root=task_root(PROJECT, DEVICE, GOOD[:4], 3)), ROOT),
        "root of another device": (inputs_for(GOOD, root=task_root(PROJECT, DEVICE + 1, GOOD, 3)), ROOT),
        "root of another project": (inputs_for(GOOD, root=task_root(PROJECT + 1, DEVICE, GOOD, 3)), ROOT),
        "firstNonce mismatch": (inputs_for(GOOD, firstNonce=GOOD[0].nonce + 1), FIRST_NONCE),
        "lastNonce mismatch": (inputs_for(GOOD, lastNonce=GOOD[3].nonce), LAST_NONCE),
        "lastNonce of a padding slot": (inputs_for(GOOD, lastNonce=0), LAST_NONCE),
    }


BAD = bad_cases()
CIRCUIT_LINES = TRACKER_DISTANCE.circuit_path.read_text().splitlines()


@pytest.mark.parametrize("name", list(BAD))
def test_bad_track_has_no_witness(artifacts: CircuitArtifacts, name: str, tmp_path: Path) -> None:
    inputs, rule = BAD[name]
    with pytest.raises(CircuitError, match="Assert Failed") as caught:
        calculate_witness(artifacts, inputs, tmp_path / "w.wtns")
    assert caught.value.code == "witness_failed"
    assert not (tmp_path / "w.wtns").exists()
    # The last location circom reports is the line in TrackerDistance that holds the broken rule.
    line = int(re.findall(r"TrackerDistance\S* line: (\d+)", str(caught.value))[-1])
    assert CIRCUIT_LINES[line - 1].strip() == rule


def test_the_good_track_behind_the_bad_cases_is_accepted(artifacts: CircuitArtifacts, tmp_path: Path) -> None:
    calculate_witness(artifacts, inputs_for(GOOD), tmp_path / "w.wtns")
    assert (tmp_path / "w.wtns").stat().st_size > 32 * 7000
    assert len(GOOD) < CAPACITY
