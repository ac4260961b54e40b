"""Router.routeBatch: the rules of route() hold for every task of a batch, all or nothing, with one verifier call
(the MockVerifier here; tests/contracts/test_deploy.py checks the generated batch verifier with real proofs)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chain_world import LAST, RATE, World

from proofstream.chain.contracts.router import RouteCall
from proofstream.chain.contracts.tasks import TaskRecord, TaskStatus
from proofstream.domain.anchor import NO_ANCHOR, Anchor
from proofstream.domain.types import Nonce
from proofstream.errors import TransactionRevertedError

pytestmark = pytest.mark.chain

PROOF = b"\x42" * 256
NEXT = Anchor(LAST.timestamp + 100, 0xBEEF, 1)
"""The anchor a device's second task leaves."""


def _call(record: TaskRecord, outputs: int, last: Anchor = LAST, prev: Anchor = NO_ANCHOR) -> RouteCall:
    return RouteCall(record, prev, (outputs,), last, PROOF)


def _status(world: World, record: TaskRecord) -> TaskStatus:
    return world.core.tasks.status_of(record.task_id)


def test_a_batch_settles_every_task_and_a_reverting_dapp_fails_its_task_alone(world: World) -> None:
    refusing, _ = world.project_with_dapp("RevertingDApp")  # same (mock) verifier, another project
    good = world.assign(0, 7)
    bad = world.assign(0, 7, project=refusing)
    results = world.core.router.route_batch([_call(good, 10), _call(bad, 20)], sender=world.prover)
    assert [r.settled for r in results] == [True, False]
    assert results[1].failure_reason is not None
    assert world.client.decode_error(results[1].failure_reason) == ("Refused", (bad.task_id, 20))
    assert (_status(world, good), _status(world, bad)) == (TaskStatus.SETTLED, TaskStatus.FAILED)
    assert world.dapp.accrued(world.device.address) == 10 * RATE
    # Both anchors moved (both proofs verified), and neither task can be routed again.
    assert world.core.tasks.anchor_of(world.project_id, world.device.address) == LAST
    assert world.core.tasks.anchor_of(refusing, world.device.address) == LAST
    with pytest.raises(TransactionRevertedError, match="TaskNotAssigned"):
        world.core.router.route_batch([_call(good, 10, NEXT, LAST)], sender=world.prover)


def test_a_devices_next_task_in_the_same_batch_meets_the_anchor_its_first_leaves(world: World) -> None:
    first = world.assign(0, 7)
    second = world.assign(8, 15)
    world.set_verifier_echo(True)
    calls = [_call(first, 1), _call(second, 2, NEXT, LAST)]
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route_batch(calls, sender=world.prover)
    assert info.value.error_name == "SeenBatch"
    inputs, proofs = info.value.error_args
    assert proofs == PROOF * 2
    assert list(inputs[1][-4:]) == [LAST.timestamp, LAST.leaf, NEXT.timestamp, NEXT.leaf]
    assert list(inputs[0][-4:]) == [0, 0, LAST.timestamp, LAST.leaf]
    world.set_verifier_echo(False)
    assert all(r.settled for r in world.core.router.route_batch(calls, sender=world.prover))
    assert world.core.tasks.anchor_of(world.project_id, world.device.address) == NEXT
    # Out of order, the second finds its predecessor still assigned.
    third, fourth = world.assign(16, 23), world.assign(24, 31)
    later = Anchor(NEXT.timestamp + 100, 0xF00D, 1)
    last = Anchor(later.timestamp + 100, 0xFEED, 1)
    with pytest.raises(TransactionRevertedError, match="PredecessorPending"):
        world.core.router.route_batch(
            [_call(fourth, 1, last, later), _call(third, 1, later, NEXT)], sender=world.prover
        )


@pytest.mark.parametrize("fault", ["invalid proof", "not the prover", "twice", "stale anchor", "forged record"])
def test_one_bad_task_reverts_the_whole_batch(world: World, fault: str) -> None:
    refusing, _ = world.project_with_dapp("RevertingDApp")
    good = world.assign(0, 7)
    other = world.assign(0, 7, project=refusing)
    calls = [_call(good, 1), _call(other, 1)]
    sender = world.prover
    expected = {
        "invalid proof": "InvalidBatch",
        "not the prover": "NotAssignedProver",
        "twice": "TaskNotAssigned",
        "stale anchor": "AnchorMismatch",
        "forged record": "RecordMismatch",
    }[fault]
    if fault == "invalid proof":
        world.set_verifier_result(False)
    elif fault == "not the prover":
        sender = world.other
    elif fault == "twice":
        calls.append(_call(good, 1, NEXT, LAST))
    elif fault == "stale anchor":
        calls[1] = _call(other, 1, NEXT, LAST)  # the device has no anchor in that project yet
    else:
        calls[1] = _call(replace(other, last_nonce=Nonce(other.last_nonce + 1)), 1)
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route_batch(calls, sender=sender)
    assert info.value.error_name == expected
    assert (_status(world, good), _status(world, other)) == (TaskStatus.ASSIGNED, TaskStatus.ASSIGNED)
    assert world.core.tasks.anchor_of(world.project_id, world.device.address) == NO_ANCHOR


def test_an_empty_batch_is_refused(world: World) -> None:
    with pytest.raises(TransactionRevertedError, match="EmptyBatch"):
        world.core.router.route_batch([], sender=world.prover)
