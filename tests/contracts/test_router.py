"""Router: only the assigned prover, once, before the deadline, with inputs taken from the task record."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chain_world import LAST, RATE, World, addr
from eth_account import Account

from proofstream.chain.contracts.router import ROUTE_GAS, RouteCall
from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.domain.anchor import NO_ANCHOR
from proofstream.domain.types import FIELD_MODULUS, Address, FieldElement, Nonce
from proofstream.errors import TransactionRevertedError

pytestmark = pytest.mark.chain

PROOF = b"\x42" * 256
"""What the MockVerifier is handed as a proof; it only echoes it back."""


def test_route_settles_and_rewards_the_device_owner(world: World) -> None:
    record = world.assign()
    before = world.dapp.accrued(world.device.address)
    result = world.core.router.route(record.task_id, [1234], LAST, PROOF, sender=world.prover)
    assert result.settled
    assert result.failure_reason is None
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.SETTLED
    assert world.dapp.accrued(world.device.address) - before == 1234 * RATE
    (settled,) = world.core.router.task_settled_events(result.receipt.block_number, result.receipt.block_number)
    assert (settled.task_id, settled.prover) == (record.task_id, addr(world.prover))
    (rewarded,) = world.dapp.rewarded_events(result.receipt.block_number, result.receipt.block_number)
    assert (rewarded.task_id, rewarded.device) == (record.task_id, addr(world.device))
    assert (rewarded.units, rewarded.amount) == (1234, 1234 * RATE)
    # Accrued to the device; a claim (anyone may send it) mints it to the device's owner, once.
    owner_before = world.token.balance_of(world.device_owner.address)
    world.dapp.claim([world.device.address], sender=world.other)
    world.dapp.claim([world.device.address], sender=world.other)
    assert world.token.balance_of(world.device_owner.address) - owner_before == 1234 * RATE
    assert world.dapp.accrued(world.device.address) == 0


def test_reward_follows_the_rate_set_by_the_dapp_owner(world: World) -> None:
    world.dapp.set_rate(7, sender=world.owner)
    record = world.assign()
    world.core.router.route(record.task_id, [1000], LAST, PROOF, sender=world.prover)
    assert world.dapp.accrued(world.device.address) == 7000
    with pytest.raises(TransactionRevertedError, match="NotOwner"):
        world.dapp.set_rate(1, sender=world.other)


def test_verifier_gets_inputs_from_the_record_not_the_caller(world: World) -> None:
    record = world.assign(first=11, last=18)
    world.set_verifier_echo(True)
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(record.task_id, [555], LAST, PROOF, sender=world.prover)
    assert info.value.error_name == "Seen"
    inputs, proof = info.value.error_args
    assert list(inputs) == [
        555,
        world.project_id,
        record.task_id,
        record.root,
        int(world.device.address, 16),
        int(world.prover.address, 16),
        11,
        18,
        0,  # prevTime: the device has no verified task yet
        0,  # prevLeaf
        LAST.timestamp,
        LAST.leaf,
    ]
    assert proof == PROOF
    assert world.core.router.public_inputs_of(record.task_id, [555], LAST) == tuple(inputs)


def test_invalid_proof_is_refused_and_the_task_stays_open(world: World) -> None:
    record = world.assign()
    world.set_verifier_result(False)
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover)
    assert info.value.error_name == "InvalidProof"
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.ASSIGNED
    assert world.dapp.accrued(world.device.address) == 0


def test_front_running_prover_is_refused(world: World) -> None:
    """A valid proof copied from the mempool and sent by someone else pays nobody."""
    record = world.assign()
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.other)
    assert info.value.error_name == "NotAssignedProver"
    assert info.value.error_args == (record.task_id, world.other.address)


def test_second_route_is_refused(world: World) -> None:
    record = world.assign()
    world.core.router.route(record.task_id, [10], LAST, PROOF, sender=world.prover)
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(record.task_id, [10], LAST, PROOF, sender=world.prover)
    assert info.value.error_name == "TaskNotAssigned"
    assert info.value.error_args == (record.task_id, TaskStatus.SETTLED)
    assert world.dapp.accrued(world.device.address) == 10 * RATE


def test_unknown_task_is_refused(world: World) -> None:
    record = world.assign()
    unknown = replace(record, first_nonce=Nonce(100), last_nonce=Nonce(101))
    with pytest.raises(TransactionRevertedError, match="TaskNotAssigned"):
        world.core.router.route_call(RouteCall(unknown, NO_ANCHOR, (1,), LAST, PROOF), sender=world.prover)
    forged = replace(record, root=FieldElement(record.root + 1))  # a record the stored hash does not match
    with pytest.raises(TransactionRevertedError, match="RecordMismatch"):
        world.core.router.route_call(RouteCall(forged, NO_ANCHOR, (1,), LAST, PROOF), sender=world.prover)


def test_route_after_the_deadline_is_refused(world: World) -> None:
    record = world.assign(deadline_blocks=5)
    world.net.mine(record.deadline - world.client.block_number())
    # The next block is deadline + 1.
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover)
    assert info.value.error_name == "DeadlinePassed"


def test_route_in_the_deadline_block_is_accepted(world: World) -> None:
    record = world.assign(deadline_blocks=5)
    world.net.mine(record.deadline - world.client.block_number() - 1)
    result = world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover)
    assert result.receipt.block_number == record.deadline


def test_paused_project_is_not_settled(world: World) -> None:
    record = world.assign()
    world.core.projects.pause(world.project_id, sender=world.owner)
    with pytest.raises(TransactionRevertedError, match="ProjectNotActive"):
        world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover)


def test_output_outside_the_field_is_refused(world: World) -> None:
    record = world.assign()
    with pytest.raises(TransactionRevertedError, match="OutputOutOfField"):
        world.core.router.route(record.task_id, [FIELD_MODULUS], LAST, PROOF, sender=world.prover)


def test_reverting_dapp_leaves_the_task_failed_with_its_reason(world: World) -> None:
    project, _ = world.project_with_dapp("RevertingDApp")
    record = world.assign(project=project)
    result = world.core.router.route(record.task_id, [77], LAST, PROOF, sender=world.prover)
    assert not result.settled
    assert result.failure_reason is not None
    assert world.client.decode_error(result.failure_reason) == ("Refused", (record.task_id, 77))
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.FAILED
    (failed,) = world.core.router.task_failed_events(result.receipt.block_number, result.receipt.block_number)
    assert (failed.task_id, failed.reason) == (record.task_id, result.failure_reason)
    with pytest.raises(TransactionRevertedError, match="TaskNotAssigned"):
        world.core.router.route(record.task_id, [77], LAST, PROOF, sender=world.prover)


def test_a_route_short_of_the_dapps_gas_budget_reverts_instead_of_failing_the_task(world: World) -> None:
    """Else a prover could send too little gas on purpose and cancel the devices' rewards."""
    record = world.assign()
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover, gas=650_000)
    assert info.value.error_name == "DappGasTooLow"
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.ASSIGNED
    assert world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover).settled


def test_a_dapp_that_needs_more_than_its_budget_fails_its_task(world: World) -> None:
    """DAPP_GAS is what every process() call gets, whatever the route was sent with: a DApp that needs more is
    refusing the task, deterministically, and the task fails (its messages are spent: the proof verified)."""
    project, dapp = world.project_with_dapp("RevertingDApp")
    world.client.send(dapp.functions.setBurnGas(True), sender=world.owner)
    record = world.assign(project=project)
    result = world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover, gas=ROUTE_GAS * 2)
    assert not result.settled
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.FAILED
    assert world.core.tasks.anchor_of(project, world.device.address) == LAST


def test_dapp_accepts_only_the_router_and_its_own_project(world: World) -> None:
    dapp = world.client.contract(world.dapp.address, world.compilation.artifact("RewardDApp").abi)
    call = dapp.functions.process(world.project_id, 1, world.device.address, [10**6])
    with pytest.raises(TransactionRevertedError, match="NotRouter"):
        world.client.send(call, sender=world.other)
    # A project that names someone else's reward DApp as its own cannot make it mint.
    project, _ = world.core.projects.create_project(
        b"\x06" * 32,
        "u",
        world.project.verifier,
        world.dapp.address,
        world.sequencer.address,
        sender=world.other,
    )
    world.register_device(project, sender=world.other)
    record = world.assign(project=project)
    result = world.core.router.route(record.task_id, [10**6], LAST, PROOF, sender=world.prover)
    assert not result.settled
    assert result.failure_reason is not None
    assert world.client.decode_error(result.failure_reason)[0] == "WrongProject"
    assert world.token.total_supply() == 0


def test_unregistered_device_gets_no_reward(world: World) -> None:
    """The Router checks the registry at route time: a task for a device that is not (or no longer) active does
    not settle, and the anchor does not move."""
    stranger = Address(Account.create().address)
    record = world.assign(device=stranger)
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(record.task_id, [5], LAST, PROOF, sender=world.prover)
    assert info.value.error_name == "DeviceNotActive"
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.ASSIGNED


def test_a_device_deactivated_after_assignment_is_not_paid(world: World) -> None:
    record = world.assign()
    world.core.devices.deactivate_device(world.project_id, world.device.address, sender=world.owner)
    with pytest.raises(TransactionRevertedError, match="DeviceNotActive"):
        world.core.router.route(record.task_id, [5], LAST, PROOF, sender=world.prover)
    assert world.dapp.accrued(world.device.address) == 0
