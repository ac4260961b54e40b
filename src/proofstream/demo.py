"""``proofstream demo``: the embedded default project (the tracker-distance template, run in place) end to end on
a throwaway local chain, then the same template with device signatures checked in the circuit (BabyJubJub
devices), so the demo shows both kinds of device. The machinery is the same as ``proofstream project run``
(simulation.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from proofstream.projects.scaffold import scaffold, template_dir
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.simulation import Progress, RunSummary, run_project

__all__ = ["DEMO_TEMPLATE", "SIGNED_DEMO_NAME", "demo_project", "run_demo", "run_signed_demo", "signed_demo_project"]

DEMO_TEMPLATE = "tracker-distance"
SIGNED_DEMO_NAME = "tracker-signed"
"""The signed variant's project name: fixed, so the folder it is scaffolded in is found again on the next run."""


def demo_project() -> ProjectSpec:
    return load_project(template_dir(DEMO_TEMPLATE))


def signed_demo_project(parent: Path) -> ProjectSpec:
    """The demo template's signed variant (``project new --signatures circuit``), scaffolded under ``parent``."""
    folder = parent / SIGNED_DEMO_NAME
    if not folder.exists():
        scaffold(SIGNED_DEMO_NAME, DEMO_TEMPLATE, parent, signatures="circuit")
    return load_project(folder)


def run_demo(
    *, devices: int = 10, messages: int = 20, data_dir: Path | None = None, progress: Progress | None = None
) -> RunSummary:
    """secp256k1 devices: the gateway checks their EIP-712 signatures, the proof the logic over the batch."""
    return run_project(demo_project(), devices=devices, messages=messages, data_dir=data_dir, progress=progress)


def run_signed_demo(
    *, devices: int = 2, messages: int = 8, data_dir: Path | None = None, progress: Progress | None = None
) -> RunSummary:
    """BabyJubJub devices: the proof itself checks every message's signature against the registered key."""
    with tempfile.TemporaryDirectory(prefix="proofstream-signed-demo-") as tmp:
        root = data_dir if data_dir is not None else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        spec = signed_demo_project(root)
        return run_project(spec, devices=devices, messages=messages, data_dir=root / "state", progress=progress, seed=1)
