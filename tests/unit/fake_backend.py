"""The fake ProverBackend the pipeline tests use: no circuit, no snarkjs, but a proof shaped as every real one.

It passes the backend conformance suite (tests/unit/test_backend_conformance.py), so a test that runs the prover
worker on it sees what a real backend would hand over: the outputs, then the record inputs the Router builds
(:func:`proofstream.domain.layout.record_public_inputs`), and a proof that stops verifying when a signal
changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import pairwise

from proofstream.domain.circuit_task import CircuitTask
from proofstream.domain.layout import record_public_inputs
from proofstream.errors import ProverError
from proofstream.prover.ports import Proof


@dataclass(frozen=True, slots=True)
class FakeProof:
    public_signals: tuple[int, ...]
    calldata: bytes
    backend: str = "fake"


def _seal(signals: tuple[int, ...]) -> bytes:
    """What stands for the proof: a digest of the signals, so a changed signal no longer verifies."""
    return hashlib.sha256(b"fake proof" + b"".join(s.to_bytes(32, "big") for s in signals)).digest()


class FakeBackend:
    """Proves any task whose nonces strictly increase; its one output is the number of records."""

    name = "fake"

    def prove(self, task_inputs: CircuitTask) -> Proof:
        records = task_inputs.records
        if not records or any(b.nonce <= a.nonce for a, b in pairwise(records)):
            raise ProverError(f"task {task_inputs.task_id} cannot be proven: nonces must increase", code="invalid_task")
        signals = (len(records), *record_public_inputs(task_inputs))
        return FakeProof(signals, _seal(signals))

    def verify(self, proof: Proof) -> bool:
        return isinstance(proof, FakeProof) and proof.calldata == _seal(proof.public_signals)
