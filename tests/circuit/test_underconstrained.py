"""Every hint is pinned: a cheating prover who changes one hint (and keeps everything downstream consistent)
gets a witness the constraints reject, and a proof from it does not verify.

The circuit is the tracker-distance template's. The witness is tampered directly in the .wtns file (wire
indexes from the .sym file), with the dependent signals recomputed by the Python model of the circuit; the
untampered model reproduces the real witness exactly and covers every wire outside Poseidon (see
test_differential), so the only thing that can object is the constraint that pins the hint.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from circuit.circuit_model import CAPACITY, SPEC, Fix, apply_signals, inputs_for, model_signals, track
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.circuits.build import LIBRARY_DIR
from proofstream.circuits.witness import Witness, calculate_witness, check_witness, read_wtns, write_wtns
from proofstream.errors import CircuitError
from proofstream.prover.groth16 import prove_witness, verify

FIXES = track(5, step=(4_000, 7_000))
PREVIOUS = Fix(FIXES[0].nonce - 1, FIXES[0].timestamp - 9, FIXES[0].lat - 3_000, FIXES[0].lon - 5_000)
"""The device's last verified fix: the anchor the honest task is chained to (its boundary hop counts)."""
INPUTS: dict[str, Any] = inputs_for(FIXES, previous=PREVIOUS)
HONEST = model_signals(INPUTS)
UNCHAINED: dict[str, Any] = inputs_for(FIXES)
"""The same fixes as a device's first task: no anchor leaf, so the opening must be all zeros."""
HONEST_UNCHAINED = model_signals(UNCHAINED)


def _witness(artifacts: CircuitArtifacts, inputs: dict[str, Any], path: Path) -> Witness:
    calculate_witness(artifacts, inputs, path)
    return read_wtns(path)


@pytest.fixture(scope="module")
def honest(artifacts: CircuitArtifacts, tmp_path_factory: pytest.TempPathFactory) -> Witness:
    return _witness(artifacts, INPUTS, tmp_path_factory.mktemp("honest") / "honest.wtns")


@pytest.fixture(scope="module")
def honest_unchained(artifacts: CircuitArtifacts, tmp_path_factory: pytest.TempPathFactory) -> Witness:
    return _witness(artifacts, UNCHAINED, tmp_path_factory.mktemp("honest") / "unchained.wtns")


def tampered(honest: Witness, symbols: dict[str, int], hints: dict[str, int], path: Path) -> Path:
    write_wtns(path, apply_signals(honest, symbols, model_signals(INPUTS, hints)))
    return path


def test_the_honest_task_is_chained_and_capped_nowhere() -> None:
    # The control for the attacks below: the boundary hop counts, and no hop reaches the speed cap.
    assert HONEST["batch.hasPrev"] == 1 and HONEST["batch.dt[0]"] == 9
    assert all(HONEST[f"speedCap[{i}].less.out"] == 1 for i in range(len(FIXES)))
    assert HONEST_UNCHAINED["batch.hasPrev"] == 0 and HONEST_UNCHAINED["batch.dt[0]"] == 0
    assert HONEST["metres"] > HONEST_UNCHAINED["metres"] > 0


def test_the_model_rewrites_the_honest_witness_unchanged(
    artifacts: CircuitArtifacts, symbols: dict[str, int], honest: Witness, tmp_path: Path
) -> None:
    # The control: with no tampering the rewritten witness passes, so any failure below comes from the hint.
    check_witness(artifacts, tampered(honest, symbols, {}, tmp_path / "w.wtns"))


def off_by(name: str, delta: int) -> dict[str, int]:
    return {name: HONEST[name] + delta}


def non_boolean_bits(component: str) -> dict[str, int]:
    """The range-check bits of ``component`` rewritten with the same weighted sum but a bit equal to 2 (the
    Num2Bits hint ``out[k] <-- (in >> k) & 1`` cheated): only the bits' booleanity can object."""
    bits = [HONEST.get(f"{component}.bits.out[{k}]") for k in range(64)]
    k = next(k for k in range(1, 64) if bits[k] == 1)
    return {f"{component}.bits.out[{k}]": 0, f"{component}.bits.out[{k - 1}]": (bits[k - 1] or 0) + 2}


HINT_SIGNALS = ("cosq", "cosRem", "s", "metres", "metresRem")
"""Every signal circuit.circom computes with ``<--`` (checked against the source below)."""
BATCH_HINTS = ("batch.prevInv",)
"""Every signal batch.circom's ProofstreamBatch computes with ``<--``."""

HINT_ATTACKS: dict[str, dict[str, int]] = {
    # cosine division: another quotient (the remainder follows so q*den + r == num), or another remainder
    "cos quotient + 1": off_by("cosq", 1),
    "cos quotient - 1": off_by("cosq", -1),
    "cos remainder + 1": off_by("cosRem", 1),
    "cos remainder - 1": off_by("cosRem", -1),
    # isqrt hint one off either way in every slot, used or padding (the remainder range checks pin it)
    **{f"sqrt s[{i}] + 1": off_by(f"s[{i}]", 1) for i in range(CAPACITY)},
    **{f"sqrt s[{i}] - 1": off_by(f"s[{i}]", -1) for i in range(CAPACITY)},
    # the speed cap: a hop counted in full where the cap binds, or the cap claimed not to bind
    "speed cap comparison flipped": {"speedCap[2].less.out": 0},
    "speed cap out above the hop": off_by("speedCap[2].out", 1),
    "speed cap on a padding slot lifted": {"speedCap[5].out": HONEST["s[5]"]},
    # the antimeridian: the long way round claimed shorter, a longitude difference with the wrong sign
    "longitude the long way round": {"lonShort[1].less.out": 0},
    "longitude difference sign flipped": {"lonDiff[1].negative": 1 - HONEST["lonDiff[1].negative"]},
    "shorter longitude off by one": off_by("lonShort[1].out", 1),
    # the anchor: hasPrev dropped while prevLeaf is set (its inverse kept, or zeroed too), the boundary's dt
    # stretched, the anchor's inverse hint wrong
    "hasPrev forced to 0 with prevLeaf set": {"batch.hasPrev": 0},
    "hasPrev and its inverse forced to 0 with prevLeaf set": {"batch.hasPrev": 0, "batch.prevInv": 0},
    "anchor inverse off by one": off_by("batch.prevInv", 1),
    "boundary dt stretched": off_by("batch.dt[0]", 100),
    "boundary dt without its timestamp gap": {"batch.dt[0]": HONEST["batch.dt[0]"] + 1},
    # the opening: another previous fix (the Poseidon opening of prevLeaf objects), its nonce
    "previous fix moved": off_by("prevFields[0]", 1_000),
    "previous fix nonce changed": off_by("prevNonce", 1),
    "previous fix time moved": off_by("prevTime", -1),
    # the next anchor: not the last used slot's time or leaf
    "lastTime of an earlier fix": {"lastTime": FIXES[3].timestamp},
    "lastTime of a padding slot": {"lastTime": 0},
    "lastLeaf of an earlier fix": {"lastLeaf": HONEST["batch.node[10]"]},
    "lastLeaf of a padding slot": {"lastLeaf": 0},
    "last time term of the wrong slot": {"batch.lastTimeTerm[4]": 0, "batch.lastTimeTerm[3]": FIXES[4].timestamp},
    # metres division, same idea: metres + 1 with metresRem - den, or the remainder alone
    "metres + 1": off_by("metres", 1),
    "metres - 1": off_by("metres", -1),
    "metres remainder + 1": off_by("metresRem", 1),
    "metres remainder - 1": off_by("metresRem", -1),
    # range-check bits (circomlib's Num2Bits hint) that sum right but are not bits
    "segment range bit 2": non_boolean_bits("sRange[2]"),
    "metres range bit 2": non_boolean_bits("metresRange"),
    "time gap range bit 2": non_boolean_bits("batch.timeGapRange[2]"),
    # flags: a padding slot counted, a non-boolean flag, the last fix dropped
    "padding slot flagged valid": {"valid[5]": 1},
    "valid flag 2": {"valid[3]": 2},
    "valid flag of the last fix cleared": {"valid[4]": 0},
    # a leaf that is not the hash of its fix
    "leaf of fix 0": off_by("batch.node[7]", 1),
    "leaf of a padding slot": {"batch.node[13]": 1},
}


UNCHAINED_ATTACKS: dict[str, dict[str, int]] = {
    # a device's first task (prevLeaf = 0) claiming an opened previous fix: hasPrev forced to 1 (with any
    # inverse), or an opening that is not all zeros, or a boundary dt without hasPrev
    "hasPrev forced to 1 without prevLeaf": {"batch.hasPrev": 1},
    "hasPrev forced to 1 with an inverse": {"batch.hasPrev": 1, "batch.prevInv": 5},
    "prevFields nonzero without prevLeaf": {"prevFields[0]": FIXES[0].lat - 3_000, "prevFields[1]": FIXES[0].lon},
    "prevNonce nonzero without prevLeaf": {"prevNonce": FIXES[0].nonce - 1},
    "boundary dt without prevLeaf": {"batch.dt[0]": 9},
    # and the first fix not after prevTime, whatever the anchor
    "first fix at prevTime": {"prevTime": FIXES[0].timestamp},
}


def test_every_hint_of_the_circuit_is_attacked() -> None:
    source = SPEC.circuit_path.read_text()
    hinted = set(re.findall(r"^\s*(\w+)(?:\[\w+\])?\s*<--", source, re.MULTILINE))
    assert hinted == set(HINT_SIGNALS)
    attacked = {re.sub(r"\[\d+\]$", "", name) for hints in HINT_ATTACKS.values() for name in hints}
    assert set(HINT_SIGNALS) <= attacked
    assert set(BATCH_HINTS) <= attacked
    assert {f"s[{i}]" for i in range(CAPACITY)} <= {n for hints in HINT_ATTACKS.values() for n in hints}
    library = (LIBRARY_DIR / "batch.circom").read_text()
    batch = library[library.index("template ProofstreamBatch") : library.index("template AbsDiff")]
    assert {f"batch.{name}" for name in re.findall(r"^\s*(\w+)\s*<--", batch, re.MULTILINE)} == set(BATCH_HINTS)


@pytest.mark.parametrize("name", list(UNCHAINED_ATTACKS))
def test_tampered_unchained_witness_breaks_a_constraint(
    artifacts: CircuitArtifacts, symbols: dict[str, int], honest_unchained: Witness, name: str, tmp_path: Path
) -> None:
    """A first task (no anchor leaf) cannot claim a previous fix, nor a boundary interval."""
    changed = apply_signals(honest_unchained, symbols, model_signals(UNCHAINED, UNCHAINED_ATTACKS[name]))
    assert changed != honest_unchained
    write_wtns(tmp_path / "w.wtns", changed)
    with pytest.raises(CircuitError, match="WITNESS IS NOT CORRECT"):
        check_witness(artifacts, tmp_path / "w.wtns")


def test_the_unchained_model_rewrites_its_witness_unchanged(
    artifacts: CircuitArtifacts, symbols: dict[str, int], honest_unchained: Witness, tmp_path: Path
) -> None:
    write_wtns(tmp_path / "w.wtns", apply_signals(honest_unchained, symbols, HONEST_UNCHAINED))
    check_witness(artifacts, tmp_path / "w.wtns")


@pytest.mark.parametrize("name", list(HINT_ATTACKS))
def test_tampered_hint_breaks_a_constraint(
    artifacts: CircuitArtifacts, symbols: dict[str, int], honest: Witness, name: str, tmp_path: Path
) -> None:
    hints = HINT_ATTACKS[name]
    changed = apply_signals(honest, symbols, model_signals(INPUTS, hints))
    assert changed != honest  # the attack really changed wires
    write_wtns(tmp_path / "w.wtns", changed)
    with pytest.raises(CircuitError, match="WITNESS IS NOT CORRECT"):
        check_witness(artifacts, tmp_path / "w.wtns")


def test_attacked_hints_are_wires(symbols: dict[str, int]) -> None:
    # Every tampered hint is a wire of the witness (or, where --O2 folded it, its range-check bits are).
    assert "main.metresRem" in symbols or "main.metresRemRange.bits.out[0]" in symbols
    for hint in ("main.s[2]", "main.cosq", "main.cosRem", "main.metres", "main.valid[5]", "main.batch.node[7]"):
        assert hint in symbols
    for hint in ("main.batch.hasPrev", "main.batch.prevInv", "main.batch.dt[0]", "main.speedCap[2].less.out"):
        assert hint in symbols


@pytest.mark.slow
def test_proof_from_a_tampered_witness_does_not_verify(
    artifacts: CircuitArtifacts, symbols: dict[str, int], honest: Witness, tmp_path: Path
) -> None:
    """snarkjs proves whatever witness it is given; the verifier is what refuses the forged metres."""
    forged = {"metres": HONEST["metres"] + 1000}
    proof = prove_witness(artifacts, tampered(honest, symbols, forged, tmp_path / "w.wtns"))
    assert proof.public_signals[0] == HONEST["metres"] + 1000
    assert verify(artifacts, proof) is False
