"""The input JSON of every project circuit, and the batch commitment it must reproduce.

The layout is fixed by the project format (docs/projects.md): the eleven public task-record inputs
(``domain.anchor.RECORD_INPUTS``), then the anchor's opening ``prevNonce`` and ``prevFields`` (one value per
schema field, zeros when the anchor leaf is not opened), then ``valid``, ``nonce`` and ``timestamp`` arrays, then
one array per schema payload field, each with ``2**depth`` slots. Records fill the first slots; every value of
the remaining (padding) slots is 0, which the shared circuit library enforces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proofstream.domain.anchor import RECORD_INPUTS
from proofstream.domain.merkle import build_tree, leaf_hash
from proofstream.projects.signed import signature_inputs
from proofstream.prover.ports import CircuitTask, TaskRecord

__all__ = ["ANCHOR_INPUTS", "FRAMEWORK_INPUTS", "PUBLIC_INPUTS", "batch_root", "circuit_inputs"]

PUBLIC_INPUTS = RECORD_INPUTS
"""The public inputs of every project circuit, in public-signal order (after the outputs)."""

ANCHOR_INPUTS = ("prevNonce", "prevFields")
"""Private inputs that open the anchor leaf: the previous message's nonce and its payload fields."""

FRAMEWORK_INPUTS = ("valid", "nonce", "timestamp")
"""Per-slot private inputs every circuit declares before its schema fields."""


def _payload_values(payload: Mapping[str, int], field_names: Sequence[str], index: int) -> list[int]:
    try:
        return [payload[name] for name in field_names]
    except KeyError as exc:
        raise ValueError(f"record {index} lacks payload field {exc}; the schema has {list(field_names)}") from None


def circuit_inputs(task: CircuitTask, field_names: Sequence[str], depth: int) -> dict[str, Any]:
    """The circuit's full input for ``task``; padding slots are all zeros.

    It does not validate the records beyond their number and fields (tests feed circuits bad batches, and an
    empty task gives the all-padding input the circuit must reject); the project's logic does.
    """
    capacity = 1 << depth
    records = task.records
    if len(records) > capacity:
        raise ValueError(f"{len(records)} records do not fit a circuit of capacity {capacity}")
    pad = [0] * (capacity - len(records))
    values = [_payload_values(r.payload, field_names, i) for i, r in enumerate(records)]
    previous = task.opened_previous
    if task.prev_leaf != 0 and previous is None:
        raise ValueError("the anchor leaf is set but the task carries no previous message to open it")
    # Every record's fields were read above (a missing one is named there): the last one's leaf is the next anchor.
    last = task.last_anchor(field_names)
    inputs: dict[str, Any] = {
        "project": task.project,
        "taskId": task.task_id,
        "root": task.root,
        "device": task.device,
        "prover": task.prover,
        "firstNonce": records[0].nonce if records else 0,
        "lastNonce": records[-1].nonce if records else 0,
        "prevTime": task.anchor.timestamp,
        "prevLeaf": task.prev_leaf,
        "lastTime": last.timestamp,
        "lastLeaf": last.leaf,
        "prevNonce": previous.nonce if previous is not None else 0,
        "prevFields": _payload_values(previous.payload, field_names, -1)
        if previous is not None
        else [0] * len(field_names),
        "valid": [1] * len(records) + pad,
        "nonce": [r.nonce for r in records] + pad,
        "timestamp": [r.timestamp for r in records] + pad,
    }
    for column, name in enumerate(field_names):
        inputs[name] = [v[column] for v in values] + pad
    if task.signing is not None:  # a circuit that checks the device signatures (projects/signed.py)
        inputs |= signature_inputs(task, capacity)
    return inputs


def batch_root(project: int, device: int, records: Sequence[TaskRecord], field_names: Sequence[str], depth: int) -> int:
    """The Poseidon Merkle root of ``records`` (domain/merkle.py): the commitment a task's proof binds."""
    leaves = [
        leaf_hash(project, device, r.nonce, r.timestamp, _payload_values(r.payload, field_names, i))
        for i, r in enumerate(records)
    ]
    return build_tree(leaves, depth).root
