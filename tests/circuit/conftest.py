"""Builds the tracker-distance template's circuit once per session (compile + Groth16 setup: ~40 s cold, a cache
hit after; every project scaffolded from the template without `--capacity` shares the cache entry).

The powers of tau come from the repository's ``ptau/`` or ``../shared/ptau`` through proofstream.circuits.ptau;
without node_modules or a ptau file the circuit tests are skipped with the reason, never silently passed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from circuit.circuit_model import SPEC
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.circuits.build import build_circuit
from proofstream.circuits.witness import read_symbols
from proofstream.errors import ConfigError, ToolchainError


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> CircuitArtifacts:
    try:
        return build_circuit(SPEC.circuit_path, SPEC.circuit_name)
    except (ToolchainError, ConfigError) as exc:
        pytest.skip(f"circuit toolchain unavailable: {exc}")


@pytest.fixture(scope="session")
def symbols(artifacts: CircuitArtifacts) -> dict[str, int]:
    return read_symbols(artifacts.sym)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path
