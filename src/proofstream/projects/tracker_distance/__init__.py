"""GPS tracker distance: devices report fixes, the proof yields the metres each device travelled in a task."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofstream.domain.merkle import build_tree, leaf_hash
from proofstream.projects.tracker_distance.logic import Fix, check_track, circuit_inputs, distance_metres
from proofstream.prover.ports import CircuitTask

__all__ = ["TRACKER_DISTANCE", "TrackerDistance", "fixes_of", "task_root"]

CIRCUIT_PATH = Path(__file__).with_name("circuit.circom")


def fixes_of(task: CircuitTask) -> list[Fix]:
    """The task's records as fixes; a record without ``lat``/``lon`` is a ValueError."""
    try:
        return [Fix(r.nonce, r.timestamp, r.payload["lat"], r.payload["lon"]) for r in task.records]
    except KeyError as exc:
        raise ValueError(f"a tracker-distance record lacks payload field {exc}") from exc


def task_root(project: int, device: int, fixes: list[Fix], depth: int) -> int:
    """The batch commitment of these fixes (what the sequencer records on chain at assignment)."""
    leaves = [leaf_hash(project, device, f.nonce, f.timestamp, (f.lat, f.lon)) for f in fixes]
    return build_tree(leaves, depth).root


@dataclass(frozen=True, slots=True)
class TrackerDistance:
    """The tracker-distance project as the prover sees it (a ``CircuitProject``, see prover/ports.py).

    The circuit file fixes the depth (``TrackerDistance(3)`` in its main component); ``depth`` must match it.
    """

    name: str = "tracker-distance"
    schema_fields: tuple[str, ...] = ("lat", "lon")
    depth: int = 3
    n_public: int = 8
    """``[metres, project, taskId, root, device, prover, firstNonce, lastNonce]``."""
    circuit_path: Path = field(default=CIRCUIT_PATH)

    @property
    def capacity(self) -> int:
        return 1 << self.depth

    def circuit_inputs(self, task: CircuitTask) -> dict[str, Any]:
        fixes = fixes_of(task)
        check_track(fixes, self.capacity)
        return circuit_inputs(task.project, task.task_id, task.device, task.prover, fixes, task.root, self.depth)

    def reference_outputs(self, task: CircuitTask) -> tuple[int, ...]:
        fixes = fixes_of(task)
        check_track(fixes, self.capacity)
        return (
            distance_metres(fixes),
            task.project,
            task.task_id,
            task.root,
            task.device,
            task.prover,
            fixes[0].nonce,
            fixes[-1].nonce,
        )


TRACKER_DISTANCE = TrackerDistance()
