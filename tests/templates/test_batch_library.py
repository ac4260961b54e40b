"""proofstream/batch.circom rejects every batch that breaks the framework's rules, and only those.

Each case starts from an accepted uptime batch, breaks one rule, then recomputes the Merkle root, firstNonce and
lastNonce the way the circuit does (leaf = valid ? Poseidon(...) : 0), so only the broken rule can reject it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from proofstream.domain.merkle import build_tree, leaf_hash
from proofstream.domain.types import FIELD_MODULUS
from proofstream.errors import CircuitError
from proofstream.projects.inputs import batch_root, circuit_inputs
from proofstream.prover.circuits import CompiledCircuit
from proofstream.prover.ports import CircuitTask, TaskRecord
from proofstream.testing import WitnessRunner

FIELDS = ("quality", "uptime")
DEPTH = 3
PROJECT, DEVICE, PROVER, TASK_ID = 7, 0xD3, 0xB0B, 12345
T = 1_700_000_000


def records(n: int) -> list[TaskRecord]:
    return [TaskRecord(10 + 3 * i, T + 60 * i, {"quality": 50, "uptime": 86_400 + 60 * i}) for i in range(n)]


def honest(n: int = 4) -> dict[str, Any]:
    batch = records(n)
    task = CircuitTask(
        PROJECT, TASK_ID, DEVICE, PROVER, batch_root(PROJECT, DEVICE, batch, FIELDS, DEPTH), tuple(batch)
    )
    return circuit_inputs(task, FIELDS, DEPTH)


def consistent(inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` with the root, firstNonce and lastNonce the circuit computes from the slots."""
    capacity = 1 << DEPTH
    valid = [*inputs["valid"], 0]
    last = sum((valid[i] - valid[i + 1]) * inputs["nonce"][i] for i in range(capacity)) % FIELD_MODULUS
    leaves = [
        leaf_hash(PROJECT, DEVICE, inputs["nonce"][i], inputs["timestamp"][i], [inputs[f][i] for f in FIELDS])
        if inputs["valid"][i]
        else 0
        for i in range(1 << DEPTH)
    ]
    root = build_tree(leaves, DEPTH).root
    return {**inputs, "root": root, "firstNonce": inputs["nonce"][0], "lastNonce": last}


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
