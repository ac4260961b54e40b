"""Proving: compile circuits and set up keys (cached), find powers of tau, prove and verify with Groth16.

Ports (what other packages build against) live in :mod:`proofstream.prover.ports`; the Groth16 backend in
:mod:`proofstream.prover.groth16`.
"""

from __future__ import annotations

from proofstream.prover.circuits import CircuitArtifacts, build_circuit
from proofstream.prover.groth16 import Groth16Backend, Groth16Proof, prove, verify
from proofstream.prover.ports import CircuitProject, CircuitTask, Proof, ProverBackend, TaskRecord

__all__ = [
    "CircuitArtifacts",
    "CircuitProject",
    "CircuitTask",
    "Groth16Backend",
    "Groth16Proof",
    "Proof",
    "ProverBackend",
    "TaskRecord",
    "build_circuit",
    "prove",
    "verify",
]
