"""proofstream/batch.circom rejects every batch that breaks the framework's rules, and only those.

Each case starts from an accepted uptime batch, breaks one rule, then recomputes the Merkle root, firstNonce,
lastNonce, lastTime and lastLeaf the way the circuit does (leaf = valid ? Poseidon(...) : 0), so only the broken
rule can reject it. The anchor cases chain the batch to the device's previous heartbeat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from proofstream.circuits.artifacts import CompiledCircuit
from proofstream.circuits.witness import WitnessRunner
from proofstream.domain.anchor import NO_ANCHOR, Anchor, anchor_after
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.layout import batch_root, circuit_inputs
from proofstream.domain.merkle import build_tree, leaf_hash
from proofstream.domain.types import FIELD_MODULUS
from proofstream.errors import CircuitError

FIELDS = ("quality", "uptime")
DEPTH = 3
PROJECT, DEVICE, PROVER, TASK_ID = 7, 0xD3, 0xB0B, 12345
CONFIG = 1
T = 1_700_000_000
PREVIOUS = TaskRecord(9, T - 45, {"quality": 50, "uptime": 86_400 - 45})
"""The device's last verified heartbeat, 45 s before the batch's first."""


def records(n: int) -> list[TaskRecord]:
    return [TaskRecord(10 + 3 * i, T + 60 * i, {"quality": 50, "uptime": 86_400 + 60 * i}) for i in range(n)]


def anchor_of(previous: TaskRecord, config: int = CONFIG) -> Anchor:
    fields = [previous.payload[f] for f in FIELDS]
    return anchor_after(PROJECT, DEVICE, config, previous.nonce, previous.timestamp, fields)


def honest(n: int = 4, previous: TaskRecord | None = None, anchor: Anchor | None = None) -> dict[str, Any]:
    """Inputs of ``n`` heartbeats after ``previous`` (its anchor, unless another ``anchor`` is given)."""
    batch = records(n)
    if anchor is None:
        anchor = NO_ANCHOR if previous is None else anchor_of(previous)
    root = batch_root(PROJECT, DEVICE, batch, FIELDS, DEPTH)
    task = CircuitTask(PROJECT, TASK_ID, DEVICE, PROVER, root, tuple(batch), CONFIG, anchor, previous)
    return circuit_inputs(task, FIELDS, DEPTH)


def consistent(inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` with the root, firstNonce and lastNonce the circuit computes from the slots."""
    capacity = 1 << DEPTH
    valid = [*inputs["valid"], 0]
    leaves = [
        leaf_hash(PROJECT, DEVICE, inputs["nonce"][i], inputs["timestamp"][i], [inputs[f][i] for f in FIELDS])
        if inputs["valid"][i]
        else 0
        for i in range(1 << DEPTH)
    ]

    def at_last(values: list[int]) -> int:
        return int(sum((valid[i] - valid[i + 1]) * values[i] for i in range(capacity)) % FIELD_MODULUS)

    root = build_tree(leaves, DEPTH).root
    return {
        **inputs,
        "root": root,
        "firstNonce": inputs["nonce"][0],
        "lastNonce": at_last(inputs["nonce"]),
        "lastTime": at_last(inputs["timestamp"]),
        "lastLeaf": at_last(leaves),
    }


@pytest.fixture(scope="module")
def runner(compiled: dict[str, CompiledCircuit]) -> Iterator[WitnessRunner]:
    witnesses = WitnessRunner(compiled["uptime"], 1)
    yield witnesses
    witnesses.close()


def _set(name: str, slot: int, value: int) -> Callable[[dict[str, Any]], None]:
    def change(inputs: dict[str, Any]) -> None:
        inputs[name] = list(inputs[name])
        inputs[name][slot] = value

    return change


def _shift(name: str, by: int) -> Callable[[dict[str, Any]], None]:
    """Move every used slot's value by ``by``, keeping the order (so only a range check can object)."""

    def change(inputs: dict[str, Any]) -> None:
        inputs[name] = [
            value + by if used else value for value, used in zip(inputs[name], inputs["valid"], strict=True)
        ]

    return change


def test_honest_batch_and_its_rerooted_copy_are_accepted(runner: WitnessRunner) -> None:
    inputs = honest()
    assert runner.outputs(inputs) == (180,)
    assert runner.outputs(consistent(inputs)) == (180,)  # the test's helper agrees with domain/merkle.py


BROKEN: dict[str, list[Callable[[dict[str, Any]], None]]] = {
    "repeated timestamp": [_set("timestamp", 2, T + 60)],
    "timestamp going back": [_set("timestamp", 3, T + 30)],
    "repeated nonce": [_set("nonce", 1, 10)],
    "nonce going back": [_set("nonce", 3, 11)],
    "nonces beyond uint64": [_shift("nonce", 2**64)],
    "timestamps beyond uint64": [_shift("timestamp", 2**64)],
    "gap beyond uint64": [_set("timestamp", 3, T + 120 + 2**64 + 1)],
    "field beyond its width": [_set("quality", 1, 256)],
    "a gap in the used slots": [_set("valid", 2, 0)],
    "a used slot after padding": [_set("valid", 5, 1), _set("nonce", 5, 99), _set("timestamp", 5, T + 999)],
    "non-boolean valid flag": [_set("valid", 3, 2)],
    "padding slot with a field": [_set("uptime", 6, 5)],
    "padding slot with a nonce": [_set("nonce", 7, 1)],
    "first slot unused": [_set("valid", 0, 0)],
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_rule_is_rejected(runner: WitnessRunner, case: str) -> None:
    inputs = honest()
    for change in BROKEN[case]:
        change(inputs)
    with pytest.raises(CircuitError, match="Assert Failed") as caught:
        runner.outputs(consistent(inputs))
    assert caught.value.code == "witness_failed"


@pytest.mark.parametrize(
    ("name", "value"),
    [("root", 12345), ("firstNonce", 11), ("lastNonce", 18), ("device", DEVICE + 1), ("project", PROJECT + 1)],
)
def test_wrong_public_input_is_rejected(runner: WitnessRunner, name: str, value: int) -> None:
    inputs = {**honest(), name: value}  # root not recomputed: device and project enter the leaves
    with pytest.raises(CircuitError, match="Assert Failed"):
        runner.outputs(inputs)


def test_a_later_nonce_past_uint64_needs_a_last_nonce_no_task_record_holds(runner: WitnessRunner) -> None:
    """Later slots are bounded by their gaps, not checked on their own: the last nonce is then pinned to the
    public lastNonce, which the Router reads from the task's uint64 record."""
    inputs = honest()
    _set("nonce", 3, 2**64)(inputs)
    with pytest.raises(CircuitError, match="Assert Failed"):
        runner.outputs({**consistent(inputs), "lastNonce": 2**64 - 1})


def test_every_count_of_records_is_accepted(runner: WitnessRunner) -> None:
    for n in range(1, 9):
        assert runner.outputs(honest(n)) == (60 * (n - 1),)


def test_the_previous_heartbeat_credits_the_boundary(runner: WitnessRunner) -> None:
    assert runner.outputs(honest(4, PREVIOUS)) == (45 + 180,)
    assert runner.outputs(consistent(honest(4, PREVIOUS))) == (225,)
    # an anchor left under another config version is not opened: its time still chains, the boundary earns 0
    other = honest(4, anchor=anchor_of(PREVIOUS, config=CONFIG + 1))
    assert (other["prevTime"], other["prevLeaf"], other["prevFields"]) == (PREVIOUS.timestamp, 0, [0, 0])
    assert runner.outputs(other) == (180,)
    assert runner.outputs({**other, "prevTime": T - 1}) == (180,)


ANCHOR_BROKEN: dict[str, tuple[TaskRecord | None, dict[str, Any]]] = {
    # (the previous heartbeat the anchor commits to, input changes): the root and last* stay consistent
    "first heartbeat at the anchor's time": (TaskRecord(9, T, PREVIOUS.payload), {}),
    "first heartbeat before the anchor's time": (TaskRecord(9, T + 1, PREVIOUS.payload), {}),
    "first heartbeat at prevTime without a leaf": (None, {"prevTime": T}),
    "opening with another quality": (PREVIOUS, {"prevFields": [51, PREVIOUS.payload["uptime"]]}),
    "opening with another nonce": (PREVIOUS, {"prevNonce": 8}),
    "opening with another time": (PREVIOUS, {"prevTime": PREVIOUS.timestamp + 1}),
    "opening of another leaf": (PREVIOUS, {"prevLeaf": 12345}),
    "opening without a leaf": (PREVIOUS, {"prevLeaf": 0}),
    "opening nonce without a leaf": (None, {"prevNonce": 9}),
    "opened field beyond its width": (TaskRecord(9, T - 45, {"quality": 256, "uptime": 1}), {}),
}


@pytest.mark.parametrize("case", list(ANCHOR_BROKEN))
def test_broken_anchor_is_rejected(runner: WitnessRunner, case: str) -> None:
    previous, changes = ANCHOR_BROKEN[case]
    inputs = consistent({**honest(4, previous), **changes})
    with pytest.raises(CircuitError, match="Assert Failed") as caught:
        runner.outputs(inputs)
    assert caught.value.code == "witness_failed"


@pytest.mark.parametrize(
    ("name", "value"),
    [("lastTime", T + 120), ("lastTime", T + 181), ("lastTime", 0), ("lastLeaf", 0), ("lastLeaf", 1)],
)
def test_next_anchor_must_be_the_last_heartbeat(runner: WitnessRunner, name: str, value: int) -> None:
    inputs = consistent(honest(4, PREVIOUS))
    runner.outputs(inputs)
    with pytest.raises(CircuitError, match="Assert Failed"):
        runner.outputs({**inputs, name: value})


def test_next_anchor_follows_the_last_used_slot(runner: WitnessRunner) -> None:
    for n in (1, 5, 8):
        inputs = honest(n, PREVIOUS)
        last = records(n)[-1]
        assert inputs["lastTime"] == last.timestamp
        assert inputs["lastLeaf"] == leaf_hash(
            PROJECT, DEVICE, last.nonce, last.timestamp, [50, last.payload["uptime"]]
        )
        assert runner.outputs(inputs) == (45 + 60 * (n - 1),)
