"""The test helpers a project's own tests use: the differential check of its circuit against its logic.py.

A scaffolded project's ``tests/test_project.py`` imports :func:`assert_project` from here, so these names are a
public API kept stable for project code. The implementation lives in :mod:`proofstream.circuits.check` (the
check), :mod:`proofstream.circuits.compare` (one batch, the report), :mod:`proofstream.circuits.witness` (the
witness runner) and :mod:`proofstream.circuits.project` (the compile).
"""

from __future__ import annotations

from proofstream.circuits.check import assert_project, run_differential
from proofstream.circuits.compare import BatchOutcome, DifferentialError, DifferentialReport, records_of
from proofstream.circuits.project import compile_project
from proofstream.circuits.witness import WitnessRunner

__all__ = [
    "BatchOutcome",
    "DifferentialError",
    "DifferentialReport",
    "WitnessRunner",
    "assert_project",
    "compile_project",
    "records_of",
    "run_differential",
]
