"""The task record a proof is checked against, and the anchor that chains one device's tasks (protocol v2). Pure.

A proof shows that a project's logic ran over one committed batch. On its own it says nothing about the batch
before it: a device could rewind its clock between tasks and be paid for the same wall-clock span again, or a
distance could restart at every task boundary. So the chain keeps, per (project, device), an **anchor**: the
timestamp and the Merkle leaf of the last message of the device's last *verified* task, and the config version
it was proven under. The next task's proof takes the anchor as public inputs (the Router reads it from
TaskManager, never from the caller): its first message must come strictly after ``prevTime``, and, when the
anchor leaf is usable, the circuit opens the leaf to read the previous message (the last fix, reading or
heartbeat) so a rule never restarts at a boundary. The proof also pins ``lastTime`` and ``lastLeaf``, the
device's next anchor, which TaskManager stores when the proof verifies (even if the DApp then reverts).

No predecessor (a device's first task, or the first under another config version, whose leaf layout may differ)
is ``prevLeaf = 0``: the boundary then earns nothing, because an all-zero anchor is not a real fix at (-90°,
-180°) or a heartbeat at t = 0. Timestamps still chain across config versions (``prevTime`` is kept).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from proofstream.domain.merkle import leaf_hash

__all__ = ["NO_ANCHOR", "RECORD_INPUTS", "Anchor", "anchor_after", "record_inputs"]

RECORD_INPUTS = (
    "project",
    "taskId",
    "root",
    "device",
    "prover",
    "firstNonce",
    "lastNonce",
    "prevTime",
    "prevLeaf",
    "lastTime",
    "lastLeaf",
)
"""The public inputs after the outputs of every proof, in order (docs/protocol.md, "Public inputs"). The Router
builds all but ``lastTime`` and ``lastLeaf`` from chain state; those two are the claimed next anchor, which the
proof pins to the batch's last message."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """What TaskManager keeps per (project, device): the last verified message's timestamp and leaf."""

    timestamp: int = 0
    """Unix seconds of the last message of the last verified task; 0 before the first."""
    leaf: int = 0
    """Poseidon leaf of that message (domain/merkle.py); 0 before the first."""
    config: int = 0
    """The config version that task was proven under: its leaf is only opened by a task of the same version."""

    def prev_leaf(self, config: int) -> int:
        """The ``prevLeaf`` public input for a task under ``config``: the leaf, or 0 across a version change."""
        return self.leaf if self.config == config else 0


NO_ANCHOR = Anchor()
"""A device with no verified task yet."""


def anchor_after(project: int, device: int, config: int, nonce: int, timestamp: int, fields: Sequence[int]) -> Anchor:
    """The anchor a task leaves behind when its last message is (nonce, timestamp, fields)."""
    return Anchor(timestamp, leaf_hash(project, device, nonce, timestamp, fields), config)


def record_inputs(
    *,
    project: int,
    task_id: int,
    root: int,
    device: int,
    prover: int,
    first_nonce: int,
    last_nonce: int,
    prev: Anchor,
    config: int,
    last: Anchor,
) -> tuple[int, ...]:
    """The record public inputs in :data:`RECORD_INPUTS` order, as the Router builds them."""
    values: Mapping[str, int] = {
        "project": project,
        "taskId": task_id,
        "root": root,
        "device": device,
        "prover": prover,
        "firstNonce": first_nonce,
        "lastNonce": last_nonce,
        "prevTime": prev.timestamp,
        "prevLeaf": prev.prev_leaf(config),
        "lastTime": last.timestamp,
        "lastLeaf": last.leaf,
    }
    return tuple(values[name] for name in RECORD_INPUTS)
