"""Every hint is pinned: a cheating prover who changes one hint (and keeps everything downstream consistent)
gets a witness the constraints reject, and a proof from it does not verify.

The witness is tampered directly in the .wtns file (wire indexes from the .sym file), with the dependent
signals recomputed by the Python model of the circuit; the untampered model reproduces the real witness
exactly (see test_differential), so the only thing that can object is the constraint that pins the hint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from circuit.circuit_model import apply_signals, inputs_for, model_signals, track
from proofstream.errors import CircuitError
from proofstream.prover.circuits import CircuitArtifacts
from proofstream.prover.groth16 import prove_witness, verify
from proofstream.prover.witness import Witness, calculate_witness, check_witness, read_wtns, write_wtns

FIXES = track(5, step=(4_000, 7_000))
INPUTS: dict[str, Any] = inputs_for(FIXES)


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


def honest_value(name: str) -> int:
    return model_signals(INPUTS)[name]


HINT_ATTACKS: dict[str, dict[str, int]] = {
    # isqrt hint one off either way (the remainder range checks pin it)
    "sqrt s + 1": {"s[2]": honest_value("s[2]") + 1},
    "sqrt s - 1": {"s[2]": honest_value("s[2]") - 1},
    "sqrt of a padding slot": {"s[6]": honest_value("s[6]") + 1},
    # cosine division: another quotient with the remainder that keeps q*den + r == num
    "cos quotient + 1": {"cosq": honest_value("cosq") + 1},
    "cos quotient - 1": {"cosq": honest_value("cosq") - 1},
    "cos remainder only": {"cosRem": honest_value("cosRem") + 1},
    # metres division, same idea: metres + 1 with metresRem - den
    "metres + 1": {"metres": honest_value("metres") + 1},
    "metres - 1": {"metres": honest_value("metres") - 1},
    "metres remainder only": {"metresRem": honest_value("metresRem") + 1},
    # flags: a padding slot counted, a non-boolean flag doubling a segment, the first slot dropped
    "padding slot flagged valid": {"valid[5]": 1},
    "valid flag 2": {"valid[3]": 2},
    "valid flag of the last fix cleared": {"valid[4]": 0},
    # a leaf that is not the hash of its fix
    "leaf of fix 0": {"node[7]": honest_value("node[7]") + 1},
    "leaf of a padding slot": {"node[13]": 1},
    "segment without its flag": {"seg[5]": honest_value("s[5]")},
}


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
    for hint in ("main.s[2]", "main.cosq", "main.cosRem", "main.metres", "main.valid[5]", "main.node[7]"):
        assert hint in symbols


@pytest.mark.slow
def test_proof_from_a_tampered_witness_does_not_verify(
    artifacts: CircuitArtifacts, symbols: dict[str, int], honest: Witness, tmp_path: Path
) -> None:
    """snarkjs proves whatever witness it is given; the verifier is what refuses the forged metres."""
    forged = {"metres": honest_value("metres") + 1000}
    proof = prove_witness(artifacts, tampered(honest, symbols, forged, tmp_path / "w.wtns"))
    assert proof.public_signals[0] == honest_value("metres") + 1000
    assert verify(artifacts, proof) is False
