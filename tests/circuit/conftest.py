"""Builds the tracker-distance circuit once per session (compile + Groth16 setup: ~40 s cold, a cache hit
after).

The powers of tau come from ``../shared/ptau`` through proofstream.prover.ptau; without node_modules or a ptau
file the circuit tests are skipped with the reason, never silently passed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from proofstream.errors import ConfigError, ToolchainError
from proofstream.projects.tracker_distance import TRACKER_DISTANCE
from proofstream.prover.circuits import CircuitArtifacts, build_circuit
from proofstream.prover.witness import read_symbols


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> CircuitArtifacts:
    try:
        return build_circuit(TRACKER_DISTANCE.circuit_path, "tracker_distance")
    except (ToolchainError, ConfigError) as exc:
        pytest.skip(f"circuit toolchain unavailable: {exc}")


@pytest.fixture(scope="session")
def symbols(artifacts: CircuitArtifacts) -> dict[str, int]:
    return read_symbols(artifacts.sym)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path
