"""``proofstream demo``: the tracker-distance template, scaffolded at :data:`DEMO_CAPACITY` fixes per task, end to
end on a throwaway local chain, then the same template with device signatures checked in the circuit (BabyJubJub
devices), so the demo shows both kinds of device. The machinery is the same as ``proofstream project run``
(simulation.py)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.simulation import Progress, RunSummary, run_project

__all__ = [
    "DEMO_CAPACITY",
    "DEMO_NAME",
    "DEMO_TEMPLATE",
    "SIGNED_DEMO_NAME",
    "demo_project",
    "run_demo",
    "run_signed_demo",
    "signed_demo_project",
]

DEMO_TEMPLATE = "tracker-distance"
DEMO_NAME = "tracker-demo"
"""The demo project's name: fixed, so its content (and so its circuit build, cached by content) is the same on every
run, wherever it is scaffolded."""
DEMO_CAPACITY = 16
"""Fixes per task in the demo. A task's gas on chain does not grow with its messages, so full tasks of 16 cost about
half as much per message as tasks of 8 (README, Figures); 16 is the most the template takes with the 2^15 powers of
tau that ships in ptau/ (scaffold.LARGEST_CAPACITY)."""
SIGNED_DEMO_NAME = "tracker-signed"
"""The signed variant's project name: fixed, so the folder it is scaffolded in is found again on the next run."""


def demo_project(parent: Path | None = None) -> ProjectSpec:
    """The demo's project (``project new tracker-demo --template tracker-distance --capacity 16``), scaffolded
    under ``parent``, or when None in a folder of this process's that lives until it exits (what ``proofstream
    node`` without ``--project`` runs)."""
    return _scaffolded(parent or Path(_process_folder().name), DEMO_NAME, capacity=DEMO_CAPACITY)


def signed_demo_project(parent: Path) -> ProjectSpec:
    """The demo template's signed variant (``project new --signatures circuit``), scaffolded under ``parent``."""
    return _scaffolded(parent, SIGNED_DEMO_NAME, signatures="circuit")


def _scaffolded(parent: Path, name: str, *, signatures: str | None = None, capacity: int | None = None) -> ProjectSpec:
    """``parent/name`` as the demo scaffolds it, or as an earlier run left it there."""
    folder = parent / name
    if not folder.exists():
        scaffold(name, DEMO_TEMPLATE, parent, signatures=signatures, capacity=capacity)
    return load_project(folder)


@functools.cache
def _process_folder() -> tempfile.TemporaryDirectory[str]:
    # Held by the cache for the life of the process; the object removes the folder at exit.
    return tempfile.TemporaryDirectory(prefix="proofstream-demo-")


def run_demo(
    *, devices: int = 10, messages: int = 32, data_dir: Path | None = None, progress: Progress | None = None
) -> RunSummary:
    """secp256k1 devices: the gateway checks their EIP-712 signatures, the proof the logic over the batch. The
    default 32 fixes a device are two full tasks of :data:`DEMO_CAPACITY`."""
    with tempfile.TemporaryDirectory(prefix="proofstream-demo-") as tmp:
        spec = demo_project(data_dir if data_dir is not None else Path(tmp))
        return run_project(spec, devices=devices, messages=messages, data_dir=data_dir, progress=progress)


def run_signed_demo(
    *, devices: int = 2, messages: int = 8, data_dir: Path | None = None, progress: Progress | None = None
) -> RunSummary:
    """BabyJubJub devices: the proof itself checks every message's signature against the registered key."""
    with tempfile.TemporaryDirectory(prefix="proofstream-signed-demo-") as tmp:
        root = data_dir if data_dir is not None else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        spec = signed_demo_project(root)
        return run_project(spec, devices=devices, messages=messages, data_dir=root / "state", progress=progress, seed=1)
