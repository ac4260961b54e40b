"""One real Groth16 proof end to end, the proof's Solidity shape, and the build cache."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from eth_abi.abi import decode

from circuit.circuit_model import (
    DEVICE,
    PROJECT,
    PROVER,
    SPEC,
    TASK_ID,
    TRACKER,
    Fix,
    anchor_of,
    make_task,
    reference_metres,
    task_root,
    track,
)
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.circuits.build import build_circuit
from proofstream.domain.merkle import leaf_hash
from proofstream.errors import CircuitError, ProverError
from proofstream.projects.circuit import ProjectCircuit
from proofstream.prover.groth16 import CALLDATA_TYPES, Groth16Backend, Groth16Proof, verify
from proofstream.prover.ports import ProverBackend

FIXES = track(6, step=(2_500, -4_000))
PREVIOUS = Fix(FIXES[0].nonce - 1, FIXES[0].timestamp - 20, FIXES[0].lat - 4_000, FIXES[0].lon + 3_000)
"""The device's last verified fix: the proven task is chained to it."""


@pytest.fixture(scope="module")
def backend(artifacts: CircuitArtifacts) -> Groth16Backend:
    return Groth16Backend(TRACKER, artifacts)


@pytest.fixture(scope="module")
def proof(backend: Groth16Backend) -> Groth16Proof:
    return backend.prove(make_task(FIXES, previous=PREVIOUS))


def test_backend_is_a_prover_backend(backend: Groth16Backend) -> None:
    assert isinstance(backend, ProverBackend)
    assert backend.name == "groth16"


@pytest.mark.slow
def test_proof_verifies_and_binds_the_task(backend: Groth16Backend, proof: Groth16Proof) -> None:
    root = task_root(PROJECT, DEVICE, FIXES)
    last = FIXES[-1]
    assert proof.public_signals == (
        reference_metres(FIXES, PREVIOUS),
        PROJECT,
        TASK_ID,
        root,
        DEVICE,
        PROVER,
        FIXES[0].nonce,
        last.nonce,
        PREVIOUS.timestamp,
        anchor_of(PREVIOUS).leaf,
        last.timestamp,
        leaf_hash(PROJECT, DEVICE, last.nonce, last.timestamp, (last.lat, last.lon)),
    )
    assert proof.public_signals[0] > 1000
    assert backend.verify(proof) is True
    assert proof.timings.prove_s > 0 and proof.timings.witness_s > 0
    assert proof.timings.total_s >= proof.timings.prove_s + proof.timings.witness_s


@pytest.mark.slow
@pytest.mark.parametrize("index", range(12))
def test_any_changed_public_signal_fails(artifacts: CircuitArtifacts, proof: Groth16Proof, index: int) -> None:
    signals = list(proof.public_signals)
    signals[index] += 1
    assert verify(artifacts, replace(proof, public_signals=tuple(signals))) is False


@pytest.mark.slow
def test_calldata_is_the_solidity_shape(artifacts: CircuitArtifacts, proof: Groth16Proof) -> None:
    assert len(proof.calldata) == 256
    a, b, c = decode(list(CALLDATA_TYPES), proof.calldata)
    assert (tuple(a), tuple(map(tuple, b)), tuple(c)) == (proof.a, proof.b, proof.c)
    # snarkjs JSON keeps G2 as (c0, c1); the Solidity verifier takes (c1, c0): the round trip swaps and back.
    snark = proof.to_snarkjs()
    assert int(snark["pi_b"][0][0]) == proof.b[0][1] and int(snark["pi_b"][1][1]) == proof.b[1][0]
    assert "uint[2][2] calldata _pB" in artifacts.verifier_sol.read_text()
    # un-swapped G2 coordinates are a different (invalid) proof
    (x1, x0), (y1, y0) = proof.b
    assert verify(artifacts, replace(proof, b=((x0, x1), (y0, y1)))) is False


def test_bad_task_is_refused_before_proving(backend: Groth16Backend) -> None:
    reordered = [FIXES[1], FIXES[0], *FIXES[2:]]
    with pytest.raises(ProverError, match="nonce") as caught:
        backend.prove(make_task(reordered))
    assert caught.value.code == "invalid_task"


def test_wrong_root_fails_in_the_witness(backend: Groth16Backend) -> None:
    with pytest.raises(ProverError, match="Assert Failed") as caught:
        backend.prove(make_task(FIXES, root=12345))
    assert caught.value.code == "witness_failed"


def test_public_signal_count_is_checked(artifacts: CircuitArtifacts) -> None:
    with pytest.raises(CircuitError, match="public signals"):
        # a project that declares no outputs expects 11 public signals; the circuit has 12
        Groth16Backend(ProjectCircuit(replace(SPEC, outputs=()), TRACKER.logic), artifacts)


def test_second_build_is_a_cache_hit(artifacts: CircuitArtifacts) -> None:
    started = time.perf_counter()
    again = build_circuit(SPEC.circuit_path, SPEC.circuit_name)
    assert time.perf_counter() - started < 0.5
    assert again == artifacts


def test_artifacts_fit_the_design(artifacts: CircuitArtifacts) -> None:
    assert artifacts.public_signals == TRACKER.n_public == 12
    assert artifacts.constraints + artifacts.public_signals + 1 <= 2**14  # fits the project's pot14 file
    for path in (artifacts.r1cs, artifacts.wasm, artifacts.zkey, artifacts.vkey, artifacts.verifier_sol):
        assert path.is_file()
    assert artifacts.verification_key()["nPublic"] == 12
    assert "UNSAFE for real funds" in (artifacts.zkey.parent / "SETUP.txt").read_text()
