"""``proofstream demo``: the embedded default project (the tracker-distance template, run in place) end to end on
a throwaway local chain. The machinery is the same as ``proofstream project run`` (projects/run.py)."""

from __future__ import annotations

from pathlib import Path

from proofstream.projects.run import Progress, RunSummary, run_project
from proofstream.projects.scaffold import template_dir
from proofstream.projects.spec import ProjectSpec, load_project

__all__ = ["DEMO_TEMPLATE", "demo_project", "run_demo"]

DEMO_TEMPLATE = "tracker-distance"


def demo_project() -> ProjectSpec:
    return load_project(template_dir(DEMO_TEMPLATE))


def run_demo(
    *, devices: int = 10, messages: int = 20, data_dir: Path | None = None, progress: Progress | None = None
) -> RunSummary:
    return run_project(demo_project(), devices=devices, messages=messages, data_dir=data_dir, progress=progress)
