"""The .wtns reader/writer and the .sym index the tamper tests rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from circuit.circuit_model import P, inputs_for, track
from proofstream.circuits.artifacts import CircuitArtifacts, read_r1cs_info
from proofstream.circuits.witness import Witness, calculate_witness, read_wtns, write_wtns
from proofstream.errors import CircuitError

PUBLIC_ORDER = [
    *("metres", "project", "taskId", "root", "device", "prover", "firstNonce", "lastNonce"),
    *("prevTime", "prevLeaf", "lastTime", "lastLeaf"),
]


def test_wtns_round_trips_byte_for_byte(artifacts: CircuitArtifacts, tmp_path: Path) -> None:
    calculate_witness(artifacts, inputs_for(track(4)), tmp_path / "w.wtns")
    witness = read_wtns(tmp_path / "w.wtns")
    assert witness.prime == P
    assert witness.values[0] == 1
    assert len(witness.values) == artifacts.wires
    write_wtns(tmp_path / "again.wtns", witness)
    assert (tmp_path / "again.wtns").read_bytes() == (tmp_path / "w.wtns").read_bytes()


def test_replace_reduces_into_the_field() -> None:
    witness = Witness(P, (1, 2, 3))
    assert witness.replace(1, -1).values == (1, P - 1, 3)


def test_truncated_wtns_is_an_error(artifacts: CircuitArtifacts, tmp_path: Path) -> None:
    calculate_witness(artifacts, inputs_for(track(2)), tmp_path / "w.wtns")
    (tmp_path / "cut.wtns").write_bytes((tmp_path / "w.wtns").read_bytes()[:40])
    with pytest.raises(CircuitError):
        read_wtns(tmp_path / "cut.wtns")


def test_public_signals_are_in_protocol_order(symbols: dict[str, int]) -> None:
    # docs/protocol.md: [metres, project, ..., lastNonce, prevTime, prevLeaf, lastTime, lastLeaf] = wires 1..12.
    assert [symbols[f"main.{name}"] for name in PUBLIC_ORDER] == list(range(1, 13))


def test_r1cs_header_matches_the_design(artifacts: CircuitArtifacts) -> None:
    info = read_r1cs_info(artifacts.r1cs)
    assert (info.public_outputs, info.public_inputs) == (1, 11)
    assert info.private_inputs == 1 + 2 + 5 * 8  # prevNonce, prevFields[2], then 5 inputs a slot
    assert info.constraints == artifacts.constraints < 2**14 - 13
