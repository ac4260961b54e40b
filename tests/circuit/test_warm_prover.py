"""The fast Groth16 path (prover/warm.py) beside the snarkjs CLI on the same key: the same task proven both ways,
both proofs accepted by snarkjs, the calldata in the one shape the Router takes; and the lanes' life (a witness the
circuit rejects, a prover child that dies, two lanes at once).

Needs the fastprove extra (groth16py), which ``./dev.sh setup`` installs; skipped with the reason without it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from circuit.circuit_model import TRACKER, Fix, inputs_for, make_task, track
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.errors import ProverError, ToolchainError
from proofstream.prover.groth16 import Groth16Backend, Groth16Proof, verify
from proofstream.prover.warm import WarmProver, fast_prover_installed

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not fast_prover_installed(), reason="the fastprove extra (groth16py) is not installed"),
]

FIXES = track(7, step=(1_800, -2_500))
PREVIOUS = Fix(FIXES[0].nonce - 2, FIXES[0].timestamp - 40, FIXES[0].lat - 3_000, FIXES[0].lon + 1_000)


@pytest.fixture(scope="module")
def warm(artifacts: CircuitArtifacts) -> Iterator[WarmProver]:
    prover = WarmProver(artifacts)
    yield prover
    prover.close()


def test_both_paths_prove_one_task_against_one_key_and_snarkjs_accepts_both(
    artifacts: CircuitArtifacts, warm: WarmProver
) -> None:
    task = make_task(FIXES, previous=PREVIOUS)
    cli = Groth16Backend(TRACKER, artifacts).prove(task)
    fast = Groth16Backend(TRACKER, artifacts, warm).prove(task)
    assert fast.public_signals == cli.public_signals
    assert fast.timings.prove_s > 0 and fast.timings.total_s >= fast.timings.prove_s + fast.timings.witness_s
    for proof in (cli, fast):
        # What the submitter hands the Router is proof.calldata: decoded as the Router decodes it, snarkjs accepts it.
        assert len(proof.calldata) == 256  # abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c): 8 words
        routed = Groth16Proof.from_calldata(proof.public_signals, proof.calldata, proof.timings)
        assert (routed.a, routed.b, routed.c) == (proof.a, proof.b, proof.c)
        assert verify(artifacts, routed) is True
    # Groth16 proofs are randomised: two honest provers never send the same bytes.
    assert fast.calldata != cli.calldata
    assert "groth16py" not in sys.modules, "the GPL-3.0 prover must stay in its child process"


def test_a_proof_with_a_moved_point_is_refused(artifacts: CircuitArtifacts, warm: WarmProver) -> None:
    fast = warm.prove(inputs_for(FIXES, previous=PREVIOUS))
    swapped = Groth16Proof(fast.public_signals, fast.c, fast.b, fast.a, fast.timings)  # a and c exchanged
    assert verify(artifacts, swapped) is False
    assert verify(artifacts, fast) is True


def test_a_witness_the_circuit_rejects_fails_the_call_and_keeps_the_lane(warm: WarmProver) -> None:
    good = inputs_for(FIXES, previous=PREVIOUS)
    warm.prove(good)
    before = warm.processes
    with pytest.raises(ProverError) as refused:
        warm.prove({**good, "root": good["root"] + 1})  # commits to other fixes: the Merkle check fails
    assert refused.value.code == "witness_failed"
    assert "Assert Failed" in str(refused.value)
    assert warm.prove(good).public_signals[0] > 0
    assert warm.processes == before


def test_a_lane_whose_prover_died_is_replaced_by_a_new_one(artifacts: CircuitArtifacts) -> None:
    good = inputs_for(FIXES, previous=PREVIOUS)
    prover = WarmProver(artifacts)
    try:
        first = prover.prove(good)
        witness_pid, ark_pid = prover.processes
        os.kill(ark_pid, signal.SIGKILL)  # a child this test's prover started
        with pytest.raises(ToolchainError, match=r"groth16py prover (exited|died)"):
            prover.prove(good)
        assert prover.processes == []
        again = prover.prove(good)
        assert again.public_signals == first.public_signals
        assert witness_pid not in prover.processes and ark_pid not in prover.processes
        assert verify(artifacts, again) is True
    finally:
        prover.close()


def test_two_lanes_prove_two_tasks_at_once(artifacts: CircuitArtifacts) -> None:
    tasks = [inputs_for(FIXES, previous=PREVIOUS), inputs_for(track(4, lat=90_000_000), previous=None)]
    prover = WarmProver(artifacts, lanes=2)
    try:
        with ThreadPoolExecutor(2) as pool:
            proofs = list(pool.map(prover.prove, tasks))
        assert len(set(prover.processes)) == 4  # two lanes, each a witness and a prover process
        assert proofs[0].public_signals != proofs[1].public_signals
        assert all(verify(artifacts, proof) for proof in proofs)
    finally:
        prover.close()
