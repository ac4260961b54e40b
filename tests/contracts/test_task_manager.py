"""TaskManager: who may assign, what an assignment must satisfy, and what it records."""

from __future__ import annotations

import pytest
from chain_world import ROOT, World, addr
from eth_account import Account

from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.domain.tasks import task_id as compute_task_id
from proofstream.domain.types import FIELD_MODULUS, Address, FieldElement, Nonce
from proofstream.errors import TransactionRevertedError

pytestmark = pytest.mark.chain


def test_assignment_records_the_commitment(world: World) -> None:
    start = world.client.block_number()
    record = world.assign(first=3, last=9, deadline_blocks=50)
    assert record.status is TaskStatus.ASSIGNED
    assert (record.project, record.device, record.prover) == (
        world.project_id,
        addr(world.device),
        addr(world.prover),
    )
    assert (record.first_nonce, record.last_nonce, record.root) == (3, 9, ROOT)
    assert record.config == 1
    assert record.deadline == start + 1 + 50  # mined in the next block, deadline counted from it


def test_task_id_equals_the_python_computation(world: World) -> None:
    record = world.assign(first=5, last=6)
    expected = compute_task_id(
        world.client.chain_id, world.core.tasks.address, world.project_id, world.device.address, 5
    )
    assert record.task_id == expected
    assert world.core.tasks.task_id_of(world.project_id, world.device.address, 5) == expected
    assert expected < FIELD_MODULUS


def test_task_records_the_version_it_was_assigned_under(world: World) -> None:
    first = world.assign(first=0, last=1)
    world.core.projects.add_version(
        world.project_id, b"\x09" * 32, "v2", world.project.verifier, 10, sender=world.owner
    )
    old = world.assign(first=2, last=3)  # v1 is in its grace period
    new = world.assign(first=4, last=5, config=2)
    assert (first.config, old.config, new.config) == (1, 1, 2)
    events = world.core.tasks.task_assigned_events(0, "latest")
    assert [e.config for e in events] == [1, 1, 2]


def test_many_tasks_in_one_transaction_keep_their_order(world: World) -> None:
    devices = [Account.create().address for _ in range(3)]
    batch = [world.assignment(0, 4, device=Address(d)) for d in devices]
    result = world.core.tasks.assign_tasks(batch, 10, sender=world.sequencer)
    assert result.task_ids == tuple(
        compute_task_id(world.client.chain_id, world.core.tasks.address, world.project_id, d, 0) for d in devices
    )
    events = world.core.tasks.task_assigned_events(result.receipt.block_number, result.receipt.block_number)
    assert [e.task_id for e in events] == list(result.task_ids)
    assert [e.device for e in events] == devices
    assert all(e.position.tx_hash == result.receipt.tx_hash for e in events)


@pytest.mark.parametrize(("first", "last"), [(0, 7), (7, 9), (5, 6), (7, 7)])
def test_a_message_cannot_be_in_two_tasks(world: World, first: int, last: int) -> None:
    """After nonces 0..7 are assigned, any range that starts at or below 7 would count a message twice."""
    world.assign(first=0, last=7)
    with pytest.raises(TransactionRevertedError) as info:
        world.assign(first=first, last=last)
    assert info.value.error_name == "NonceAlreadyAssigned"
    assert world.core.tasks.next_nonce_of(world.project_id, world.device.address) == 8


def test_the_next_range_may_start_right_after_with_gaps_allowed(world: World) -> None:
    world.assign(first=0, last=7)
    world.assign(first=8, last=8)
    world.assign(first=20, last=30)
    assert world.core.tasks.next_nonce_of(world.project_id, world.device.address) == 31


def test_overlap_inside_one_batch_is_refused(world: World) -> None:
    batch = [world.assignment(0, 7), world.assignment(7, 9)]
    with pytest.raises(TransactionRevertedError, match="NonceAlreadyAssigned"):
        world.core.tasks.assign_tasks(batch, 10, sender=world.sequencer)
    assert world.core.tasks.next_nonce_of(world.project_id, world.device.address) == 0


def test_only_the_sequencer_assigns(world: World) -> None:
    with pytest.raises(TransactionRevertedError) as info:
        world.core.tasks.assign_tasks([world.assignment(0, 1)], 10, sender=world.other)
    assert info.value.error_name == "NotSequencer"
    assert info.value.error_args == (world.project_id, world.other.address)


def test_the_sequencer_of_one_project_cannot_assign_for_another(world: World) -> None:
    other_project, _ = world.core.projects.create_project(
        b"\x02" * 32,
        "u",
        world.project.verifier,
        world.project.reward_dapp,
        world.other.address,
        sender=world.other,
    )
    batch = [world.assignment(0, 1), world.assignment(0, 1, project=other_project)]
    with pytest.raises(TransactionRevertedError, match="NotSequencer"):
        world.core.tasks.assign_tasks(batch, 10, sender=world.sequencer)


def test_project_zero_is_not_a_loophole(world: World) -> None:
    with pytest.raises(TransactionRevertedError, match="UnknownProject"):
        world.core.tasks.assign_tasks([world.assignment(0, 1, project=0)], 10, sender=world.sequencer)


def test_unknown_prover_is_refused(world: World) -> None:
    with pytest.raises(TransactionRevertedError) as info:
        world.core.tasks.assign_tasks(
            [world.assignment(0, 1, prover=Address(world.other.address))], 10, sender=world.sequencer
        )
    assert info.value.error_name == "UnknownProver"


def test_every_prover_of_a_batch_is_checked(world: World) -> None:
    device = Address(Account.create().address)
    batch = [world.assignment(0, 1), world.assignment(0, 1, device=device, prover=addr(world.other))]
    with pytest.raises(TransactionRevertedError) as info:
        world.core.tasks.assign_tasks(batch, 10, sender=world.sequencer)
    assert info.value.error_args == (world.other.address,)


def test_paused_project_gets_no_tasks(world: World) -> None:
    world.core.projects.pause(world.project_id, sender=world.owner)
    with pytest.raises(TransactionRevertedError, match="ProjectNotActive"):
        world.assign()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"first_nonce": Nonce(5), "last_nonce": Nonce(4)}, "BadNonceRange"),
        ({"root": FieldElement(FIELD_MODULUS)}, "RootOutOfField"),
        ({"device": Address("0x" + "00" * 20)}, "ZeroAddress"),
    ],
)
def test_malformed_task_is_refused(world: World, changes: dict[str, object], error: str) -> None:
    with pytest.raises(TransactionRevertedError) as info:
        world.core.tasks.assign_tasks([world.assignment(0, 7, **changes)], 10, sender=world.sequencer)
    assert info.value.error_name == error


def test_zero_deadline_is_refused(world: World) -> None:
    with pytest.raises(TransactionRevertedError, match="ZeroDeadline"):
        world.core.tasks.assign_tasks([world.assignment(0, 1)], 0, sender=world.sequencer)


def test_only_the_router_marks_tasks(world: World) -> None:
    record = world.assign()
    contract = world.client.contract(world.core.tasks.address, world.compilation.artifact("TaskManager").abi)
    for call in (
        contract.functions.settle(record.as_tuple(), (0, 0, 0), 1, 1),
        contract.functions.markFailed(record.task_id, b""),
    ):
        with pytest.raises(TransactionRevertedError) as info:
            world.client.send(call, sender=world.owner)
        assert info.value.error_name == "NotRouter"
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.ASSIGNED


def test_router_is_set_once_by_the_deployer(world: World) -> None:
    assert world.core.tasks.router() == world.core.router.address
    with pytest.raises(TransactionRevertedError, match="RouterAlreadySet"):
        world.core.tasks.set_router(world.other.address, sender=world.deployer)
    with pytest.raises(TransactionRevertedError, match="NotDeployer"):
        world.core.tasks.set_router(world.other.address, sender=world.other)


def test_assignment_gas_per_task_falls_with_batch_size(world: World) -> None:
    """Guards the storage layout: a task is four fresh slots plus its device's nonce slot (~115k gas)."""
    one = world.core.tasks.assign_tasks([world.assignment(0, 7)], 10, sender=world.sequencer)
    devices = [Address(Account.create().address) for _ in range(8)]
    eight = world.core.tasks.assign_tasks(
        [world.assignment(0, 7, device=d) for d in devices], 10, sender=world.sequencer
    )
    per_task_of_eight = eight.receipt.gas_used / 8
    assert per_task_of_eight < one.receipt.gas_used
    assert per_task_of_eight < 130_000
