"""Config versions and lifecycle on a real anvil chain: grace periods, retirement, which verifier a task of an old
version meets, and pause/resume (docs/protocol.md, "Versions and upgrades")."""

from __future__ import annotations

import pytest
from chain_world import LAST, World, addr
from web3.contract import Contract

from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.domain.anchor import Anchor
from proofstream.domain.types import ConfigVersion
from proofstream.errors import TransactionRevertedError

pytestmark = pytest.mark.chain

PROOF = b"\x42" * 256
V1, V2 = ConfigVersion(1), ConfigVersion(2)


def _new_verifier(world: World) -> Contract:
    deployed = world.client.deploy(world.compilation.artifact("MockVerifier"), sender=world.owner)
    assert deployed.contract_address is not None
    return world.client.contract(deployed.contract_address, world.compilation.artifact("MockVerifier").abi)


def _upgrade(world: World, grace_blocks: int, verifier: str | None = None) -> int:
    """Add version 2 with ``grace_blocks`` for version 1; returns the block the upgrade was mined in."""
    version, receipt = world.core.projects.add_version(
        world.project_id,
        b"\x02" * 32,
        "ipfs://v2",
        verifier or world.project.verifier,
        grace_blocks,
        sender=world.owner,
    )
    assert version == V2
    return receipt.block_number


# --- grace and retirement -------------------------------------------------------------------------------------


def test_previous_version_stays_live_for_the_grace_period_then_retires(world: World) -> None:
    projects = world.core.projects
    assert projects.is_live(world.project_id, V1)
    assert projects.retires_at(world.project_id, V1) is None
    upgraded = _upgrade(world, grace_blocks=5)
    assert projects.retires_at(world.project_id, V1) == upgraded + 5
    assert projects.retires_at(world.project_id, V2) is None
    assert projects.current_version(world.project_id) == V2
    (event,) = projects.version_retired_events(upgraded, upgraded)
    assert (event.project, event.version, event.at_block) == (world.project_id, V1, upgraded + 5)
    (added,) = projects.version_added_events(upgraded, upgraded)
    assert (added.version, added.uri, added.config_hash) == (V2, "ipfs://v2", b"\x02" * 32)

    world.net.mine(upgraded + 4 - world.client.block_number())  # head = last block of the grace period
    assert projects.is_live(world.project_id, V1)
    world.net.mine(1)
    assert not projects.is_live(world.project_id, V1)
    assert projects.is_live(world.project_id, V2)


def test_zero_grace_retires_the_previous_version_at_once(world: World) -> None:
    upgraded = _upgrade(world, grace_blocks=0)
    assert world.core.projects.retires_at(world.project_id, V1) == upgraded
    assert not world.core.projects.is_live(world.project_id, V1)


def test_owner_retires_an_old_version_before_its_grace_ends(world: World) -> None:
    projects = world.core.projects
    _upgrade(world, grace_blocks=1000)
    with pytest.raises(TransactionRevertedError) as info:
        projects.retire_version(world.project_id, V1, sender=world.other)
    assert info.value.error_name == "NotProjectOwner"
    assert projects.is_live(world.project_id, V1)

    receipt = projects.retire_version(world.project_id, V1, sender=world.owner)
    assert not projects.is_live(world.project_id, V1)
    assert projects.retires_at(world.project_id, V1) == receipt.block_number
    (event,) = projects.version_retired_events(receipt.block_number, receipt.block_number)
    assert (event.version, event.at_block) == (V1, receipt.block_number)
    with pytest.raises(TransactionRevertedError) as info:
        projects.retire_version(world.project_id, V1, sender=world.owner)
    assert info.value.error_name == "AlreadyRetired"
    assert info.value.error_args == (world.project_id, V1, receipt.block_number)


def test_the_current_version_cannot_be_retired(world: World) -> None:
    with pytest.raises(TransactionRevertedError) as info:
        world.core.projects.retire_version(world.project_id, V1, sender=world.owner)
    assert info.value.error_name == "CannotRetireCurrentVersion"
    _upgrade(world, grace_blocks=10)
    with pytest.raises(TransactionRevertedError, match="CannotRetireCurrentVersion"):
        world.core.projects.retire_version(world.project_id, V2, sender=world.owner)
    with pytest.raises(TransactionRevertedError, match="UnknownVersion"):
        world.core.projects.retire_version(world.project_id, ConfigVersion(3), sender=world.owner)
    assert world.core.projects.is_live(world.project_id, V2)


def test_unknown_versions_and_projects_are_not_live(world: World) -> None:
    projects = world.core.projects
    assert not projects.is_live(world.project_id, ConfigVersion(0))
    assert not projects.is_live(world.project_id, V2)
    assert not projects.is_live(99, V1)


def test_a_grace_period_past_uint64_is_refused(world: World) -> None:
    with pytest.raises(TransactionRevertedError, match="GraceTooLong"):
        _upgrade(world, grace_blocks=2**64 - 1)
    assert world.core.projects.current_version(world.project_id) == V1


# --- assignment -------------------------------------------------------------------------------------------------


def test_tasks_of_a_retired_or_unknown_version_are_not_assigned(world: World) -> None:
    _upgrade(world, grace_blocks=0)
    for version in (V1, ConfigVersion(0), ConfigVersion(3)):
        with pytest.raises(TransactionRevertedError) as info:
            world.assign(first=0, last=1, config=version)
        assert info.value.error_name == "VersionNotLive"
        assert info.value.error_args == (world.project_id, version)
    assert world.core.tasks.next_nonce_of(world.project_id, world.device.address) == 0
    assert world.assign(first=0, last=1, config=V2).config == V2


def test_one_transaction_may_mix_live_versions_but_not_a_retired_one(world: World) -> None:
    _upgrade(world, grace_blocks=10)
    mixed = [world.assignment(0, 1, config=V1), world.assignment(2, 3, config=V2)]
    result = world.core.tasks.assign_tasks(mixed, 10, sender=world.sequencer)
    assert [world.core.tasks.get_task(t).config for t in result.task_ids] == [V1, V2]

    world.core.projects.retire_version(world.project_id, V1, sender=world.owner)
    late = [world.assignment(4, 5, config=V2), world.assignment(6, 7, config=V1)]
    with pytest.raises(TransactionRevertedError, match="VersionNotLive"):
        world.core.tasks.assign_tasks(late, 10, sender=world.sequencer)
    assert world.core.tasks.next_nonce_of(world.project_id, world.device.address) == 4


# --- routing under the task's own version ---------------------------------------------------------------------


def test_an_old_version_task_is_verified_by_the_old_verifier(world: World) -> None:
    """v2's verifier refuses everything, v1's accepts: which one route() asks is visible in the outcome."""
    new_verifier = _new_verifier(world)
    world.client.send(new_verifier.functions.setResult(False), sender=world.owner)
    _upgrade(world, grace_blocks=10, verifier=new_verifier.address)
    assert world.core.projects.verifier_of(world.project_id, V1) == world.project.verifier

    old = world.assign(first=0, last=1, config=V1)  # during the grace period
    new = world.assign(first=2, last=3, config=V2)
    result = world.core.router.route(old.task_id, [10], LAST, PROOF, sender=world.prover)
    assert result.settled
    later = Anchor(LAST.timestamp + 1, LAST.leaf, LAST.config)
    with pytest.raises(TransactionRevertedError) as info:
        world.core.router.route(new.task_id, [10], later, PROOF, sender=world.prover)
    assert info.value.error_name == "InvalidProof"


def test_a_task_assigned_while_live_is_routed_after_its_version_retires(world: World) -> None:
    _upgrade(world, grace_blocks=10)
    record = world.assign(first=0, last=1, config=V1, deadline_blocks=50)
    world.core.projects.retire_version(world.project_id, V1, sender=world.owner)
    assert not world.core.projects.is_live(world.project_id, V1)
    result = world.core.router.route(record.task_id, [3], LAST, PROOF, sender=world.prover)
    assert result.settled
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.SETTLED
    (settled,) = world.core.router.task_settled_events(result.receipt.block_number, result.receipt.block_number)
    assert settled.prover == addr(world.prover)


# --- pause and resume -------------------------------------------------------------------------------------------


def test_pause_blocks_assignment_and_routing_and_resume_restores_both(world: World) -> None:
    record = world.assign(first=0, last=7)
    world.core.projects.pause(world.project_id, sender=world.owner)
    with pytest.raises(TransactionRevertedError) as info:
        world.assign(first=8, last=9)
    assert (info.value.error_name, info.value.error_args) == ("ProjectNotActive", (world.project_id,))
    with pytest.raises(TransactionRevertedError, match="ProjectNotActive"):
        world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover)
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.ASSIGNED
    assert world.core.projects.is_live(world.project_id, V1)  # pause is not retirement

    world.core.projects.resume(world.project_id, sender=world.owner)
    assert world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover).settled
    assert world.assign(first=8, last=9).status is TaskStatus.ASSIGNED


def test_a_paused_project_still_takes_a_new_version(world: World) -> None:
    world.core.projects.pause(world.project_id, sender=world.owner)
    _upgrade(world, grace_blocks=3)
    assert not world.core.projects.is_active(world.project_id)
    world.core.projects.resume(world.project_id, sender=world.owner)
    assert world.assign(first=0, last=1, config=V2).config == V2
