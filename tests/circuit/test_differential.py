"""The tracker-distance template's circuit and its Python reference agree: same metres, same Merkle root, same
intermediate signals.

tests/templates runs the generic differential harness (proofstream.testing) over the template's generator and
``edge_cases()``; this file adds what is specific to the tracker: tracks across the whole coordinate range, the
largest nonces and time gaps, and the full public-signal vector (root and task binding included) as the Groth16
backend's ``reference_outputs`` computes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circuit.circuit_model import (
    CAPACITY,
    DEVICE,
    PROJECT,
    PROVER,
    TASK_ID,
    TRACKER,
    Fix,
    anchor_of,
    apply_signals,
    inputs_for,
    make_task,
    model_signals,
    reference_metres,
    task_root,
    track,
)
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.circuits.witness import calculate_witness, read_wtns
from proofstream.domain.merkle import leaf_hash
from proofstream.templates.tracker_distance.logic import LAT_MAX, LAT_OFFSET, LON_MAX

POSEIDON_INTERNALS = ("main.batch.leafHash[", "main.batch.nodeHash[", "main.batch.prevHash.")


def witness_outputs(
    artifacts: CircuitArtifacts, fixes: list[Fix], out: Path, previous: Fix | None = None
) -> tuple[int, ...]:
    """Generate the witness and return the public signals (wires 1..12)."""
    inputs = inputs_for(fixes, previous=previous)
    calculate_witness(artifacts, inputs, out)
    return read_wtns(out).values[1 : artifacts.public_signals + 1]


def assert_matches_reference(
    artifacts: CircuitArtifacts, fixes: list[Fix], out: Path, previous: Fix | None = None
) -> None:
    public = witness_outputs(artifacts, fixes, out, previous)
    root = task_root(PROJECT, DEVICE, fixes)
    anchor = anchor_of(previous)
    last = fixes[-1]
    last_leaf = leaf_hash(PROJECT, DEVICE, last.nonce, last.timestamp, (last.lat, last.lon))
    expected = (
        *(reference_metres(fixes, previous), PROJECT, TASK_ID, root, DEVICE, PROVER, fixes[0].nonce, last.nonce),
        *(anchor.timestamp, anchor.leaf, last.timestamp, last_leaf),
    )
    # What the prover checks a proof against before it submits: the same vector.
    assert TRACKER.reference_outputs(make_task(fixes, previous=previous)) == expected
    # The circuit recomputes the root from the fixes and constrains it equal to the public one: a witness at
    # all means the circuit's Merkle tree agrees with proofstream.domain.merkle.
    assert public == expected


@st.composite
def tracks(draw: st.DrawFn) -> list[Fix]:
    """A previous fix (the anchor's) then 1..CAPACITY fixes: the test drops the first or chains to it."""
    n = draw(st.integers(2, CAPACITY + 1))
    lat = draw(st.integers(0, LAT_MAX))
    lon = draw(st.integers(0, LON_MAX))
    big = draw(st.booleans())  # small hops (realistic) or jumps across the whole range
    span = 180_000_000 if big else 50_000
    nonce = draw(st.integers(0, 2**64 - 1 - 8 * 1000))
    ts = draw(st.integers(1, 2**40))
    fixes = []
    for i in range(n):
        if i:
            lat = min(LAT_MAX, max(0, lat + draw(st.integers(-span, span))))
            lon = min(LON_MAX, max(0, lon + draw(st.integers(-2 * span, 2 * span))))
            nonce += draw(st.integers(1, 1000))
            # seconds to a day apart, or (a tracker back after a long time off) gaps far beyond 2^32 s
            ts += draw(st.one_of(st.integers(1, 2**32), st.integers(2**32 + 1, 2**56)))
        fixes.append(Fix(nonce, ts, lat, lon))
    return fixes


@settings(max_examples=16, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fixes=tracks(), chained=st.booleans())
def test_random_tracks_match_reference(
    artifacts: CircuitArtifacts, fixes: list[Fix], chained: bool, tmp_path: Path
) -> None:
    previous, *task = fixes
    assert_matches_reference(artifacts, task, tmp_path / "w.wtns", previous if chained else None)


EDGE_CASES: dict[str, list[Fix]] = {
    "one fix": track(1),
    "full capacity": track(CAPACITY),
    "identical positions": [Fix(i + 1, 100 + i, 100_000_000, 200_000_000) for i in range(5)],
    "north pole": [Fix(1, 1, LAT_MAX, 0), Fix(2, 2, LAT_MAX, LON_MAX), Fix(3, 3, LAT_MAX - 1000, 5)],
    "south pole": [Fix(1, 1, 0, 1), Fix(2, 2, 0, LON_MAX), Fix(3, 3, 500, LON_MAX - 7)],
    "equator": [Fix(1, 1, LAT_OFFSET, 0), Fix(2, 2, LAT_OFFSET, LON_MAX), Fix(3, 3, LAT_OFFSET + 1, 1)],
    "max coordinates and jumps": [
        Fix(2**64 - 9, 2**64 - 2**33, 0, 0),
        Fix(2**64 - 5, 2**64 - 2**32 - 1, LAT_MAX, LON_MAX),
        Fix(2**64 - 1, 2**64 - 1, 0, 0),
    ],
    "full capacity at the top of uint64": [Fix(2**64 - 8 + i, 2**64 - 8 + i, 1 + i, 2 + i) for i in range(CAPACITY)],
    "zero nonce, first second": [Fix(0, 1, 1, 1), Fix(1, 2, 2, 2)],
    "time gaps beyond 2^32 s": [Fix(1, 1, 5, 5), Fix(2, 2**32 + 1, 6, 6), Fix(3, 2**40, 7, 7)],
    "largest time gap": [Fix(1, 1, 5, 5), Fix(2, 2**64 - 1, 6, 6)],
    "largest nonce gap": [Fix(0, 1, 5, 5), Fix(2**64 - 1, 2, 6, 6)],
    "-180 and +180 alternating": [Fix(i + 1, 86_400 * (i + 1), LAT_OFFSET, LON_MAX * (i % 2)) for i in range(CAPACITY)],
    "across the antimeridian": [Fix(1, 10, 100_000_000, LON_MAX - 500), Fix(2, 70, 100_000_000, 500)],
    "exactly half way round": [Fix(1, 10**6, LAT_OFFSET, 0), Fix(2, 2 * 10**6, LAT_OFFSET, LON_MAX // 2)],
    "faster than the maximum speed": [Fix(1, 10, 100_000_000, 200_000_000), Fix(2, 11, 101_000_000, 200_000_000)],
}

CHAINED: dict[str, tuple[Fix, list[Fix]]] = {
    "one fix after the previous": (Fix(9, 1_764_299_990, 142_520_000, 193_405_000), track(1)),
    "full capacity after the previous": (Fix(9, 1_764_299_990, 142_519_000, 193_404_000), track(CAPACITY)),
    "previous at +180, task at -180": (Fix(1, 100, LAT_OFFSET, LON_MAX), [Fix(2, 200, LAT_OFFSET, 0)]),
    "previous far away a second ago": (Fix(1, 100, 0, 0), [Fix(2, 101, LAT_MAX, LON_MAX // 2)]),
    "previous at the epoch, task at the end of uint64": (Fix(1, 0, LAT_MAX, LON_MAX), [Fix(2, 2**64 - 1, 0, 1)]),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_edge_cases_match_reference(artifacts: CircuitArtifacts, name: str, tmp_path: Path) -> None:
    assert_matches_reference(artifacts, EDGE_CASES[name], tmp_path / "w.wtns")


@pytest.mark.parametrize("name", list(CHAINED))
def test_chained_tracks_match_reference(artifacts: CircuitArtifacts, name: str, tmp_path: Path) -> None:
    previous, fixes = CHAINED[name]
    assert_matches_reference(artifacts, fixes, tmp_path / "w.wtns", previous)


def test_max_coordinate_jump_is_counted(artifacts: CircuitArtifacts, tmp_path: Path) -> None:
    # Half the world away along the equator, 12 days later (no faster than 100 m/s): the same number in both.
    fixes = [Fix(1, 1, LAT_OFFSET, 0), Fix(2, 1 + 10**6, LAT_OFFSET, LON_MAX // 2)]
    (metres, *_rest) = witness_outputs(artifacts, fixes, tmp_path / "w.wtns")
    assert metres == reference_metres(fixes) > 20_000_000


def test_the_antimeridian_and_the_speed_cap_bound_the_metres(artifacts: CircuitArtifacts, tmp_path: Path) -> None:
    """-180° and +180° are one meridian (0 m), and no hop counts more than 100 m per second."""
    wrap = EDGE_CASES["-180 and +180 alternating"]
    assert witness_outputs(artifacts, wrap, tmp_path / "w.wtns")[0] == reference_metres(wrap) == 0
    fast = EDGE_CASES["faster than the maximum speed"]
    assert witness_outputs(artifacts, fast, tmp_path / "w.wtns")[0] == reference_metres(fast) == 99
    previous, far = CHAINED["previous far away a second ago"]
    assert witness_outputs(artifacts, far, tmp_path / "w.wtns", previous)[0] == reference_metres(far, previous) == 99
    assert reference_metres(far) == 0  # the same fix without its previous one: no hop at all


MODELLED = {
    **{
        name: (None, EDGE_CASES[name])
        for name in ("one fix", "full capacity", "north pole", "max coordinates and jumps")
    },
    **{name: CHAINED[name] for name in ("full capacity after the previous", "previous at +180, task at -180")},
    "across the antimeridian": (None, EDGE_CASES["across the antimeridian"]),
}


@pytest.mark.parametrize("name", list(MODELLED))
def test_every_named_signal_matches_the_model(
    artifacts: CircuitArtifacts, symbols: dict[str, int], name: str, tmp_path: Path
) -> None:
    """Each intermediate the circuit names (hints, remainders, range bits, gaps, nodes) equals the Python model:
    the model the under-constraint tests build on is exact, and the circuit computes what the reference says."""
    previous, fixes = MODELLED[name]
    inputs: dict[str, Any] = inputs_for(fixes, previous=previous)
    calculate_witness(artifacts, inputs, tmp_path / "w.wtns")
    witness = read_wtns(tmp_path / "w.wtns")
    signals = model_signals(inputs)
    assert sum(f"main.{n}" in symbols for n in signals) > 3000
    assert apply_signals(witness, symbols, signals) == witness
    # ...and it is complete: every wire the optimiser kept, except inside Poseidon (which depends only on the
    # modelled leaf inputs and nodes), is a modelled signal, so a tampered hint leaves nothing stale behind.
    kept = {name for name in symbols if name.startswith("main.") and not name.startswith(POSEIDON_INTERNALS)}
    assert kept - {f"main.{n}" for n in signals} == set()
