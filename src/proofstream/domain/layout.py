"""The circuit-input layout: which inputs every project circuit takes, in which order, and how a task's records
and anchor become its input JSON. Pure (no Node, no web3): the node, the differential check and the tests all
build inputs here.

The layout is fixed by the project format (docs/projects.md): the eleven public task-record inputs
(:data:`~proofstream.domain.anchor.RECORD_INPUTS`), then the anchor's opening ``prevNonce`` and ``prevFields`` (one
value per schema field, zeros when the anchor leaf is not opened), then ``valid``, ``nonce`` and ``timestamp``
arrays, then one array per schema payload field, each with ``2**depth`` slots. Records fill the first slots; every
value of the remaining (padding) slots is 0, which the shared circuit library enforces.

A circuit that checks the device signatures (``[proof] signatures = "circuit"``, :mod:`proofstream.circuits.signed`)
goes on with the five public :data:`SIGNATURE_INPUTS` the Router appends and the per-slot :data:`SIGNATURE_SLOTS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proofstream.domain.anchor import RECORD_INPUTS, record_inputs
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.merkle import build_tree, leaf_hash

__all__ = [
    "ANCHOR_INPUTS",
    "FRAMEWORK_INPUTS",
    "PADDING_SIGNATURE",
    "PUBLIC_INPUTS",
    "SIGNATURE_INPUTS",
    "SIGNATURE_SLOTS",
    "batch_root",
    "circuit_inputs",
    "record_public_inputs",
    "signature_inputs",
    "signature_public_inputs",
]

PUBLIC_INPUTS = RECORD_INPUTS
"""The public inputs of every project circuit, in public-signal order (after the outputs)."""

ANCHOR_INPUTS = ("prevNonce", "prevFields")
"""Private inputs that open the anchor leaf: the previous message's nonce and its payload fields."""

FRAMEWORK_INPUTS = ("valid", "nonce", "timestamp")
"""Per-slot private inputs every circuit declares before its schema fields."""

SIGNATURE_INPUTS = ("chainId", "registry", "config", "keyAx", "keyAy")
"""Public inputs after the record inputs of a signed circuit, as the Router appends them for a BabyJubJub device."""

SIGNATURE_SLOTS = ("sigR8x", "sigR8y", "sigS")
"""Per-slot private inputs of a signed circuit: each message's signature (R8, S)."""

PADDING_SIGNATURE = (0, 1, 0)
"""R8 = the identity (0, 1) and S = 0: what an unused slot carries (signatures.circom pins it)."""


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
    if task.signing is not None:  # a circuit that checks the device signatures
        inputs |= signature_inputs(task, capacity)
    return inputs


def record_public_inputs(task: CircuitTask, field_names: Sequence[str] | None = None) -> tuple[int, ...]:
    """The record public inputs of a proof of ``task`` (:data:`PUBLIC_INPUTS` order), as the Router builds them:
    what every backend's public signals hold after the outputs. ``field_names`` as in
    :meth:`~proofstream.prover.ports.CircuitTask.last_anchor`; ValueError for a task without records."""
    if not task.records:
        raise ValueError(f"task {task.task_id} has no messages")
    return record_inputs(
        project=task.project,
        task_id=task.task_id,
        root=task.root,
        device=task.device,
        prover=task.prover,
        first_nonce=task.records[0].nonce,
        last_nonce=task.records[-1].nonce,
        prev=task.anchor,
        config=task.config,
        last=task.last_anchor(field_names),
    )


def signature_inputs(task: CircuitTask, capacity: int) -> dict[str, Any]:
    """The signature part of a signed circuit's input for ``task``: the five public inputs, then R8 and S per
    slot (:data:`PADDING_SIGNATURE` in unused slots). ValueError without a signing context or with one signature
    per record missing."""
    signing = task.signing
    if signing is None:
        raise ValueError("a signed circuit needs the task's signing context (chain id, registry, device key)")
    if len(signing.signatures) != len(task.records):
        raise ValueError(f"{len(task.records)} records but {len(signing.signatures)} signatures")
    slots = [*signing.signatures, *[PADDING_SIGNATURE] * (capacity - len(signing.signatures))]
    public = zip(SIGNATURE_INPUTS, signature_public_inputs(task), strict=True)
    per_slot = ((name, [s[i] for s in slots]) for i, name in enumerate(SIGNATURE_SLOTS))
    return {**dict(public), **dict(per_slot)}


def signature_public_inputs(task: CircuitTask) -> tuple[int, ...]:
    """What the Router appends for the task's device: (chainId, registry, config, keyAx, keyAy)."""
    if task.signing is None:
        raise ValueError("a signed circuit needs the task's signing context")
    s = task.signing
    return (s.chain_id, s.registry, task.config, s.key[0], s.key[1])


def batch_root(project: int, device: int, records: Sequence[TaskRecord], field_names: Sequence[str], depth: int) -> int:
    """The Poseidon Merkle root of ``records`` (domain/merkle.py): the commitment a task's proof binds."""
    leaves = [
        leaf_hash(project, device, r.nonce, r.timestamp, _payload_values(r.payload, field_names, i))
        for i, r in enumerate(records)
    ]
    return build_tree(leaves, depth).root
