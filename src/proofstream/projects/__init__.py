"""The DePIN projects that ship with proofstream, each a :class:`~proofstream.prover.ports.CircuitProject`."""

from __future__ import annotations

from proofstream.errors import ConfigError
from proofstream.projects.tracker_distance import TRACKER_DISTANCE
from proofstream.prover.ports import CircuitProject

__all__ = ["BUILTIN_PROJECTS", "get_project"]

BUILTIN_PROJECTS: dict[str, CircuitProject] = {TRACKER_DISTANCE.name: TRACKER_DISTANCE}
"""Projects by name; third-party projects are to come through the same shape (entry points, later)."""


def get_project(name: str) -> CircuitProject:
    try:
        return BUILTIN_PROJECTS[name]
    except KeyError:
        raise ConfigError(f"unknown project {name!r}; known: {', '.join(sorted(BUILTIN_PROJECTS))}") from None
