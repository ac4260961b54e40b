"""The test helpers a project's own tests use: the differential check of its circuit against its logic.py.

A scaffolded project's ``tests/test_project.py`` imports :func:`assert_project` from here, so these names are a
public API kept stable for project code. The implementation lives in :mod:`proofstream.projects.differential` (the
check), :mod:`proofstream.projects.comparison` (one batch, the report), :mod:`proofstream.circuits.witness` (the
witness runner) and :mod:`proofstream.projects.circuit` (the compile).
"""

from __future__ import annotations

from proofstream.circuits.witness import WitnessRunner
from proofstream.projects.circuit import compile_project
from proofstream.projects.comparison import BatchOutcome, DifferentialError, DifferentialReport, records_of
from proofstream.projects.differential import assert_project, run_differential

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
