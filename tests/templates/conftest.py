"""Templates' circuits compiled once per session (circom only, no trusted setup; cached by content hash).

Without node_modules the tests are skipped with the reason, never silently passed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from proofstream.circuits.artifacts import CompiledCircuit
from proofstream.errors import ToolchainError
from proofstream.projects.circuit import compile_project
from proofstream.projects.scaffold import TEMPLATES, template_dir
from proofstream.projects.spec import ProjectSpec, load_project


@pytest.fixture(scope="session")
def specs() -> dict[str, ProjectSpec]:
    return {name: load_project(template_dir(name)) for name in TEMPLATES}


@pytest.fixture(scope="session")
def compiled(specs: dict[str, ProjectSpec]) -> dict[str, CompiledCircuit]:
    try:
        return {name: compile_project(spec) for name, spec in specs.items()}
    except ToolchainError as exc:
        pytest.skip(f"circuit toolchain unavailable: {exc}")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path
