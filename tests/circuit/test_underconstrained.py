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

from circuit.circuit_model import CAPACITY, SPEC, apply_signals, inputs_for, model_signals, track
from proofstream.errors import CircuitError
from proofstream.prover.circuits import CircuitArtifacts
from proofstream.prover.groth16 import prove_witness, verify
from proofstream.prover.witness import Witness, calculate_witness, check_witness, read_wtns, write_wtns

FIXES = track(5, step=(4_000, 7_000))
INPUTS: dict[str, Any] = inputs_for(FIXES)
HONEST = model_signals(INPUTS)


@pytest.fixture(scope="module")
def honest(artifacts: CircuitArtifacts, tmp_path_factory: pytest.TempPathFactory) -> Witness:
    path = tmp_path_factory.mktemp("honest") / "honest.wtns"
    calculate_witness(artifacts, INPUTS, path)
    return read_wtns(path)


def tampered(honest: Witness, symbols: dict[str, int], hints: dict[str, int], path: Path) -> Path:
    write_wtns(path, apply_signals(honest, symbols, model_signals(INPUTS, hints)))
    return path


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

HINT_ATTACKS: dict[str, dict[str, int]] = {
    # cosine division: another quotient (the remainder follows so q*den + r == num), or another remainder
    "cos quotient + 1": off_by("cosq", 1),
    "cos quotient - 1": off_by("cosq", -1),
    "cos remainder + 1": off_by("cosRem", 1),
    "cos remainder - 1": off_by("cosRem", -1),
    # isqrt hint one off either way in every slot, used or padding (the remainder range checks pin it)
    **{f"sqrt s[{i}] + 1": off_by(f"s[{i}]", 1) for i in range(1, CAPACITY)},
    **{f"sqrt s[{i}] - 1": off_by(f"s[{i}]", -1) for i in range(1, CAPACITY)},
    # metres division, same idea: metres + 1 with metresRem - den, or the remainder alone
    "metres + 1": off_by("metres", 1),
    "metres - 1": off_by("metres", -1),
    "metres remainder + 1": off_by("metresRem", 1),
    "metres remainder - 1": off_by("metresRem", -1),
    # range-check bits (circomlib's Num2Bits hint) that sum right but are not bits
    "segment range bit 2": non_boolean_bits("sRange[2]"),
    "metres range bit 2": non_boolean_bits("metresRange"),
    "time gap range bit 2": non_boolean_bits("batch.timeGapRange[2]"),
    # flags: a padding slot counted, a non-boolean flag doubling a segment, the last fix dropped
    "padding slot flagged valid": {"valid[5]": 1},
    "valid flag 2": {"valid[3]": 2},
    "valid flag of the last fix cleared": {"valid[4]": 0},
    # a leaf that is not the hash of its fix
    "leaf of fix 0": off_by("batch.node[7]", 1),
    "leaf of a padding slot": {"batch.node[13]": 1},
    "segment without its flag": {"seg[5]": HONEST["s[5]"]},
}


def test_every_hint_of_the_circuit_is_attacked() -> None:
    source = SPEC.circuit_path.read_text()
    hinted = set(re.findall(r"^\s*(\w+)(?:\[\w+\])?\s*<--", source, re.MULTILINE))
    assert hinted == set(HINT_SIGNALS)
    attacked = {re.sub(r"\[\d+\]$", "", name) for hints in HINT_ATTACKS.values() for name in hints}
    assert set(HINT_SIGNALS) <= attacked
    assert {f"s[{i}]" for i in range(1, CAPACITY)} <= {n for hints in HINT_ATTACKS.values() for n in hints}


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


def test_eliminated_remainder_is_still_pinned(symbols: dict[str, int]) -> None:
    # --O2 replaced metresRem by its range-check bits: tampering it above went through those bits.
    assert "main.metresRem" not in symbols
    assert "main.metresRemRange.bits.out[0]" in symbols
    for hint in ("main.s[2]", "main.cosq", "main.cosRem", "main.metres", "main.valid[5]", "main.batch.node[7]"):
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
