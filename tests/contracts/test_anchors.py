"""Protocol v2 on chain: each device's anchor, tasks routed in order, expiry and reassignment."""

from __future__ import annotations

import pytest
from chain_world import LAST, World

from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.domain.anchor import NO_ANCHOR, Anchor
from proofstream.domain.types import FIELD_MODULUS, ConfigVersion
from proofstream.errors import TransactionRevertedError

pytestmark = pytest.mark.chain

PROOF = b"\x42" * 256


def _later(anchor: Anchor, seconds: int = 60, leaf: int = 0x77) -> Anchor:
    return Anchor(anchor.timestamp + seconds, leaf, anchor.config)


def test_a_verified_route_moves_the_anchor_and_the_next_proof_reads_it(world: World) -> None:
    assert world.core.tasks.anchor_of(world.project_id, world.device.address) == NO_ANCHOR
    first = world.assign(0, 7)
    world.core.router.route(first.task_id, [5], LAST, PROOF, sender=world.prover)
    assert world.core.tasks.anchor_of(world.project_id, world.device.address) == LAST
    second = world.assign(8, 15)
    inputs = world.core.router.public_inputs_of(second.task_id, [9], _later(LAST))
    # [outputs, project, taskId, root, device, prover, first, last, prevTime, prevLeaf, lastTime, lastLeaf]
    assert inputs[8:10] == (LAST.timestamp, LAST.leaf)
    assert inputs[10:] == (LAST.timestamp + 60, 0x77)


def test_the_caller_cannot_hand_in_another_anchor(world: World) -> None:
    """prevTime/prevLeaf come from TaskManager: the echo verifier sees the chain's, whatever the caller knows."""
    first = world.assign(0, 3)
    world.core.router.route(first.task_id, [1], LAST, PROOF, sender=world.prover)
    second = world.assign(4, 7)
    world.set_verifier_echo(True)
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(second.task_id, [1], _later(LAST), PROOF, sender=world.prover)
    inputs, _ = info.value.error_args
    assert list(inputs)[8:10] == [LAST.timestamp, LAST.leaf]


def test_the_anchor_never_moves_back(world: World) -> None:
    first = world.assign(0, 3)
    world.core.router.route(first.task_id, [1], LAST, PROOF, sender=world.prover)
    second = world.assign(4, 7)
    for stale in (LAST, Anchor(LAST.timestamp - 1, 1, 1)):
        with pytest.raises(TransactionRevertedError) as info:
            world.core.router.route(second.task_id, [1], stale, PROOF, sender=world.prover)
        assert info.value.error_name == "AnchorNotAdvanced"
    with pytest.raises(TransactionRevertedError, match="OutputOutOfField"):
        world.core.router.route(
            second.task_id, [1], Anchor(LAST.timestamp + 1, FIELD_MODULUS, 1), PROOF, sender=world.prover
        )
    assert world.core.tasks.get_task(second.task_id).status is TaskStatus.ASSIGNED


def test_a_device_s_tasks_are_routed_in_order(world: World) -> None:
    first = world.assign(0, 3)
    second = world.assign(4, 7)
    assert second.previous_first_nonce == 0 and first.previous_first_nonce is None
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(second.task_id, [1], _later(LAST), PROOF, sender=world.prover)
    assert info.value.error_name == "PredecessorPending"
    assert info.value.error_args == (second.task_id, first.task_id)
    world.core.router.route(first.task_id, [1], LAST, PROOF, sender=world.prover)
    assert world.core.router.route(second.task_id, [1], _later(LAST), PROOF, sender=world.prover).settled


def test_a_reverting_dapp_still_spends_the_messages(world: World) -> None:
    """The proof verified, so the anchor moves: the same span cannot be proven again in another task."""
    project, _ = world.project_with_dapp("RevertingDApp")
    record = world.assign(project=project)
    result = world.core.router.route(record.task_id, [3], LAST, PROOF, sender=world.prover)
    assert not result.settled
    assert world.core.tasks.anchor_of(project, world.device.address) == LAST


def test_across_a_version_change_time_chains_but_the_leaf_is_not_opened(world: World) -> None:
    first = world.assign(0, 3)
    world.core.router.route(first.task_id, [1], LAST, PROOF, sender=world.prover)
    world.core.projects.add_version(
        world.project_id, b"\x02" * 32, "v2", world.project.verifier, 10, sender=world.owner
    )
    second = world.assign(4, 7, config=ConfigVersion(2))
    inputs = world.core.router.public_inputs_of(second.task_id, [1], _later(LAST))
    assert inputs[8:10] == (LAST.timestamp, 0)
    world.core.router.route(second.task_id, [1], _later(LAST), PROOF, sender=world.prover)
    assert world.core.tasks.anchor_of(world.project_id, world.device.address).config == 2


def test_expire_only_past_the_deadline_then_later_tasks_route_on_the_old_anchor(world: World) -> None:
    first = world.assign(0, 3, deadline_blocks=3)
    second = world.assign(4, 7, deadline_blocks=100)
    with pytest.raises(TransactionRevertedError, match="DeadlineNotPassed"):
        world.core.tasks.expire(first.task_id, sender=world.other)
    world.net.mine(first.deadline - world.client.block_number() + 1)
    world.core.tasks.expire(first.task_id, sender=world.other)  # anyone
    assert world.core.tasks.get_task(first.task_id).status is TaskStatus.EXPIRED
    assert world.core.router.route(second.task_id, [1], LAST, PROOF, sender=world.prover).settled
    # The expired task can be reassigned, but its messages are now before the anchor: it can never settle.
    with pytest.raises(TransactionRevertedError, match="NotSequencer"):
        world.core.tasks.reassign(first.task_id, world.prover.address, 50, sender=world.other)
    world.core.tasks.reassign(first.task_id, world.prover.address, 50, sender=world.sequencer)
    again = world.core.tasks.get_task(first.task_id)
    assert again.status is TaskStatus.ASSIGNED and again.deadline > first.deadline
    with pytest.raises(TransactionRevertedError, match="AnchorNotAdvanced"):
        world.core.router.route(first.task_id, [1], Anchor(LAST.timestamp - 30, 5, 1), PROOF, sender=world.prover)


def test_a_reassigned_task_routes_with_its_fresh_deadline(world: World) -> None:
    record = world.assign(0, 3, deadline_blocks=2)
    world.net.mine(record.deadline - world.client.block_number() + 1)
    with pytest.raises(TransactionRevertedError, match="BadStatus"):
        world.core.tasks.reassign(record.task_id, world.prover.address, 50, sender=world.sequencer)
    world.core.tasks.expire(record.task_id)
    with pytest.raises(TransactionRevertedError, match="BadStatus"):
        world.core.tasks.expire(record.task_id)
    world.core.tasks.reassign(record.task_id, world.prover.address, 50, sender=world.sequencer)
    assert world.core.router.route(record.task_id, [2], LAST, PROOF, sender=world.prover).settled


def test_the_prover_can_release_a_task_it_cannot_prove(world: World) -> None:
    """A batch that breaks the project's rules has no proof: its prover ends it at once instead of making the
    device's later tasks wait for its deadline."""
    first = world.assign(0, 3)
    second = world.assign(4, 7)
    with pytest.raises(TransactionRevertedError, match="NotTaskProver"):
        world.core.tasks.release(first.task_id, sender=world.other)
    world.core.tasks.release(first.task_id, sender=world.prover)
    assert world.core.tasks.get_task(first.task_id).status is TaskStatus.EXPIRED
    with pytest.raises(TransactionRevertedError, match="BadStatus"):
        world.core.tasks.release(first.task_id, sender=world.prover)
    assert world.core.router.route(second.task_id, [1], LAST, PROOF, sender=world.prover).settled
