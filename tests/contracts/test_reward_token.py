"""RewardToken: a plain ERC-20 whose only minter is named once by its deployer."""

from __future__ import annotations

import pytest
from chain_world import World

from proofstream.chain.contracts.rewards import RewardToken
from proofstream.errors import TransactionRevertedError

pytestmark = pytest.mark.chain

MAX_UINT = 2**256 - 1


@pytest.fixture
def token(world: World) -> RewardToken:
    """A fresh token deployed by ``owner`` whose minter is ``owner`` too, so tests can mint."""
    receipt = world.client.deploy(world.compilation.artifact("RewardToken"), "Test", "TST", sender=world.owner)
    assert receipt.contract_address is not None
    token = RewardToken.at(world.client, receipt.contract_address, world.compilation)
    token.set_minter(world.owner.address, sender=world.owner)
    mint = world.client.contract(token.address, world.compilation.artifact("RewardToken").abi)
    world.client.send(mint.functions.mint(world.device_owner.address, 1000), sender=world.owner)
    return token


def test_metadata_and_minter(world: World) -> None:
    assert (world.token.name(), world.token.symbol(), world.token.decimals()) == (
        "proofstream reward",
        "PSR",
        18,
    )
    assert world.token.minter() == world.dapp.address
    assert world.dapp.token() == world.token.address
    assert world.dapp.project() == world.project_id


def test_only_the_minter_mints(world: World) -> None:
    contract = world.client.contract(world.token.address, world.compilation.artifact("RewardToken").abi)
    with pytest.raises(TransactionRevertedError) as info:
        world.client.send(contract.functions.mint(world.other.address, 1), sender=world.owner)
    assert info.value.error_name == "NotMinter"


def test_minter_is_named_once_by_the_admin(world: World, token: RewardToken) -> None:
    with pytest.raises(TransactionRevertedError, match="MinterAlreadySet"):
        token.set_minter(world.other.address, sender=world.owner)
    receipt = world.client.deploy(world.compilation.artifact("RewardToken"), "T", "T", sender=world.owner)
    assert receipt.contract_address is not None
    fresh = RewardToken.at(world.client, receipt.contract_address, world.compilation)
    with pytest.raises(TransactionRevertedError, match="NotAdmin"):
        fresh.set_minter(world.other.address, sender=world.other)


def test_transfer(world: World, token: RewardToken) -> None:
    token.transfer(world.other.address, 300, sender=world.device_owner)
    assert token.balance_of(world.device_owner.address) == 700
    assert token.balance_of(world.other.address) == 300
    assert token.total_supply() == 1000
    with pytest.raises(TransactionRevertedError) as info:
        token.transfer(world.other.address, 701, sender=world.device_owner)
    assert info.value.error_name == "InsufficientBalance"
    assert info.value.error_args == (world.device_owner.address, 700, 701)


def test_approve_and_transfer_from(world: World, token: RewardToken) -> None:
    token.approve(world.other.address, 400, sender=world.device_owner)
    token.transfer_from(world.device_owner.address, world.prover.address, 150, sender=world.other)
    assert token.allowance(world.device_owner.address, world.other.address) == 250
    assert token.balance_of(world.prover.address) == 150
    with pytest.raises(TransactionRevertedError, match="InsufficientAllowance"):
        token.transfer_from(world.device_owner.address, world.prover.address, 251, sender=world.other)


def test_unlimited_allowance_is_not_spent(world: World, token: RewardToken) -> None:
    token.approve(world.other.address, MAX_UINT, sender=world.device_owner)
    token.transfer_from(world.device_owner.address, world.prover.address, 100, sender=world.other)
    assert token.allowance(world.device_owner.address, world.other.address) == MAX_UINT


def test_no_transfer_to_the_zero_address(world: World, token: RewardToken) -> None:
    with pytest.raises(TransactionRevertedError, match="ZeroAddress"):
        token.transfer("0x" + "00" * 20, 1, sender=world.device_owner)
