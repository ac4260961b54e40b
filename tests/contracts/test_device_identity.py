"""DeviceRegistry's device identity on a real anvil chain: vouchers signed by the project owner or a registered
manufacturer (with the device's permit, or alone), their nonces and expiries, the device NFT every registration
mints, and its transfer, after which the device's rewards go to the new owner (and the indexer's store says so)."""

from __future__ import annotations

import pytest
from chain_world import LAST, RATE, World, addr
from eth_account import Account
from eth_account.signers.local import LocalAccount

from proofstream.chain.accounts import dev_account
from proofstream.chain.book import ChainBook
from proofstream.chain.contracts.registries import sign_device_binding, sign_permit, sign_voucher
from proofstream.domain.eip712 import Domain
from proofstream.domain.types import Address
from proofstream.domain.vouchers import ZERO_ADDRESS, Terms, Voucher, permit_digest, voucher_digest
from proofstream.errors import TransactionRevertedError
from proofstream.indexer.service import Indexer
from proofstream.store.sqlite import SqliteStore

pytestmark = pytest.mark.chain

PROOF = b"\x42" * 256
MANUFACTURER: LocalAccount = Account.from_key("0x" + "a7" * 32)
"""A manufacturer's key; never funded: it only signs vouchers."""


def now(world: World) -> int:
    return int(world.client.web3.eth.get_block("latest")["timestamp"])


def terms(world: World, device: LocalAccount, owner: str = ZERO_ADDRESS, nonce: int = 1, ttl: int = 3600) -> Terms:
    return Terms(world.project_id, Address(device.address), Address(owner), nonce, now(world) + ttl)


def voucher(world: World, issuer: LocalAccount, t: Terms) -> Voucher:
    return sign_voucher(issuer, world.client.chain_id, world.core.devices.address, t)


def with_voucher(
    world: World, device: LocalAccount, v: Voucher, *, owner: str | None = None, permit_ttl: int = 3600
) -> int:
    """Register ``device`` with voucher ``v`` and the device's permit, sent by an account with no role; gas used."""
    owner = owner or world.device_owner.address
    permit_terms = Terms(world.project_id, Address(device.address), Address(owner), 7, now(world) + permit_ttl)
    permit = sign_permit(device, world.client.chain_id, world.core.devices.address, permit_terms)
    receipt = world.core.devices.register_device_with_voucher(
        world.project_id, device.address, owner, v, permit, sender=world.other
    )
    return receipt.gas_used


def reverts(name: str) -> pytest.RaisesExc[TransactionRevertedError]:
    return pytest.raises(TransactionRevertedError, match=name)


@pytest.fixture
def manufactured(world: World) -> World:
    world.core.devices.set_manufacturer(world.project_id, MANUFACTURER.address, sender=world.owner)
    return world


def test_digests_match_the_contract(world: World) -> None:
    t = terms(world, Account.create(), owner=world.device_owner.address, nonce=2**64 - 1)
    domain = Domain(world.client.chain_id, world.core.devices.address)
    assert world.core.devices.voucher_digest(t) == voucher_digest(domain, t)
    assert world.core.devices.permit_digest(t) == permit_digest(domain, t)


def test_a_manufacturer_voucher_and_the_device_permit_register_and_mint(manufactured: World) -> None:
    w = manufactured
    device = Account.create()
    gas = with_voucher(w, device, voucher(w, MANUFACTURER, terms(w, device)))
    assert w.core.devices.is_active(w.project_id, device.address)
    assert w.core.devices.device_owner(w.project_id, device.address) == addr(w.device_owner)
    token = w.core.devices.token_id_of(w.project_id, device.address)
    assert token == (w.project_id << 160) | int(device.address, 16)
    assert w.core.devices.owner_of_token(token) == addr(w.device_owner)
    assert w.core.devices.balance_of(w.device_owner.address) == 2  # the world's device and this one
    assert w.core.devices.voucher_nonce_used(MANUFACTURER.address, 1)
    print(f"registerDeviceWithVoucher gas: {gas}")
    assert gas < 130_000, gas


def test_the_project_owner_issues_vouchers_without_registering_itself(world: World) -> None:
    device = Account.create()
    with_voucher(world, device, voucher(world, world.owner, terms(world, device)))
    assert world.core.devices.is_registered(world.project_id, device.address)


def test_a_voucher_naming_the_owner_registers_alone(manufactured: World) -> None:
    w = manufactured
    device = Account.create()
    v = voucher(w, MANUFACTURER, terms(w, device, owner=w.device_owner.address))
    gas = w.core.devices.register_device_by_voucher(
        w.project_id, device.address, w.device_owner.address, v, sender=w.other
    ).gas_used
    assert w.core.devices.device_owner(w.project_id, device.address) == addr(w.device_owner)
    print(f"registerDeviceByVoucher gas: {gas}")
    assert gas < 110_000, gas
    with reverts("VoucherOwnerMismatch"):
        other = Account.create()
        named = voucher(w, MANUFACTURER, terms(w, other, owner=w.device_owner.address, nonce=2))
        w.core.devices.register_device_by_voucher(w.project_id, other.address, w.other.address, named, sender=w.other)


def test_a_voucher_alone_must_name_the_owner(manufactured: World) -> None:
    device = Account.create()
    v = voucher(manufactured, MANUFACTURER, terms(manufactured, device))
    with reverts("VoucherNamesNoOwner"):
        manufactured.core.devices.register_device_by_voucher(
            manufactured.project_id, device.address, manufactured.other.address, v, sender=manufactured.other
        )


def test_expired_vouchers_and_permits_are_refused(manufactured: World) -> None:
    w = manufactured
    device = Account.create()
    with reverts("VoucherExpired"):
        with_voucher(w, device, voucher(w, MANUFACTURER, terms(w, device, ttl=-1)))
    with reverts("PermitExpired"):
        with_voucher(w, device, voucher(w, MANUFACTURER, terms(w, device)), permit_ttl=-1)


def test_a_voucher_nonce_serves_once_and_can_be_cancelled(manufactured: World) -> None:
    w = manufactured
    first, second = Account.create(), Account.create()
    with_voucher(w, first, voucher(w, MANUFACTURER, terms(w, first, nonce=5)))
    with reverts("DeviceAlreadyRegistered"):  # the very same voucher again
        with_voucher(w, first, voucher(w, MANUFACTURER, terms(w, first, nonce=5)))
    with reverts("VoucherNonceUsed"):
        with_voucher(w, second, voucher(w, MANUFACTURER, terms(w, second, nonce=5)))
    w.core.devices.cancel_voucher(6, sender=w.owner)
    with reverts("VoucherNonceUsed"):
        with_voucher(w, second, voucher(w, w.owner, terms(w, second, nonce=6)))


def test_who_may_issue_and_what_a_voucher_binds(manufactured: World) -> None:
    w = manufactured
    device = Account.create()
    with reverts("NotAVoucherIssuer"):
        with_voucher(w, device, voucher(w, w.other, terms(w, device)))
    other_project = Terms(w.project_id + 1, Address(device.address), ZERO_ADDRESS, 1, now(w) + 60)
    with reverts("WrongVoucherSigner"):  # signed for another project: it recovers to another key
        with_voucher(w, device, voucher(w, MANUFACTURER, other_project))
    with reverts("WrongSigner"):  # the permit signed by another key
        impostor = voucher(w, MANUFACTURER, terms(w, device))
        permit = sign_permit(
            Account.create(),
            w.client.chain_id,
            w.core.devices.address,
            Terms(w.project_id, Address(device.address), Address(w.device_owner.address), 1, now(w) + 60),
        )
        w.core.devices.register_device_with_voucher(
            w.project_id, device.address, w.device_owner.address, impostor, permit, sender=w.other
        )
    w.core.devices.set_manufacturer(w.project_id, MANUFACTURER.address, False, sender=w.owner)
    with reverts("NotAVoucherIssuer"):
        with_voucher(w, device, voucher(w, MANUFACTURER, terms(w, device)))
    with reverts("NotProjectOwner"):
        w.core.devices.set_manufacturer(w.project_id, w.other.address, sender=w.other)


def test_transfer_moves_the_device_and_its_future_rewards(world: World) -> None:
    new_owner = dev_account(6)
    devices = world.core.devices
    with reverts("NotOwnerNorApproved"):
        devices.transfer_device(
            world.project_id, world.device.address, world.other.address, sender=world.other,
            owner=world.device_owner.address,
        )  # fmt: skip
    receipt = devices.transfer_device(
        world.project_id, world.device.address, new_owner.address, sender=world.device_owner
    )
    assert devices.device_owner(world.project_id, world.device.address) == addr(new_owner)
    assert (devices.balance_of(new_owner.address), devices.balance_of(world.device_owner.address)) == (1, 0)
    (moved,) = devices.device_transferred_events(receipt.block_number, receipt.block_number)
    assert (moved.project, moved.device, moved.owner) == (world.project_id, addr(world.device), addr(new_owner))
    print(f"safeTransferFrom gas: {receipt.gas_used}")
    before = world.token.balance_of(world.device_owner.address)
    record = world.assign()
    world.core.router.route(record.task_id, [100], LAST, PROOF, sender=world.prover)
    world.dapp.claim([world.device.address], sender=world.other)  # to the owner at claim time, whoever sends
    assert world.token.balance_of(new_owner.address) == 100 * RATE
    assert world.token.balance_of(world.device_owner.address) == before
    with reverts("NotTokenOwner"):  # the old owner no longer holds it
        devices.transfer_device(world.project_id, world.device.address, world.other.address, sender=world.device_owner)


def test_the_indexer_follows_each_transfer_into_the_store(world: World, empty_store: SqliteStore) -> None:
    book = ChainBook(world.client, world.core, sequencer=world.sequencer, prover=world.prover)
    indexer = Indexer(empty_store, book, start_block=world.core_deployment.start_block)
    project, device, devices = world.project_id, Address(world.device.address), world.core.devices
    indexer.tick()
    assert empty_store.device_owner(project, device) == addr(world.device_owner)
    new_owner = dev_account(6)
    devices.transfer_device(project, device, new_owner.address, sender=world.device_owner)
    devices.transfer_device(project, device, world.other.address, sender=new_owner)
    indexer.tick()  # both transfers in one range: the later one wins
    assert empty_store.device_owner(project, device) == addr(world.other)
    assert empty_store.device_owner(project, device) == devices.device_owner(project, device)


def test_the_token_is_erc721(world: World) -> None:
    devices = world.core.devices
    nft = world.client.contract(devices.address, world.compilation.artifact("DeviceRegistry").abi)
    assert nft.functions.supportsInterface(bytes.fromhex("80ac58cd")).call()
    assert nft.functions.supportsInterface(bytes.fromhex("01ffc9a7")).call()
    assert not nft.functions.supportsInterface(bytes.fromhex("ffffffff")).call()
    token = devices.token_id_of(world.project_id, world.device.address)
    with reverts("NonexistentToken"):  # one device has one token id: high bits set do not alias it
        devices.owner_of_token(token | (1 << 230))
    world.client.send(nft.functions.approve(world.other.address, token), sender=world.device_owner)
    devices.transfer_device(
        world.project_id,
        world.device.address,
        world.other.address,
        sender=world.other,
        owner=world.device_owner.address,
    )
    assert devices.owner_of_token(token) == addr(world.other)
    assert nft.functions.getApproved(token).call() == "0x" + "00" * 20


def test_the_existing_register_path_gas(world: World) -> None:
    """registerDevice now also mints the token: a new owner's first device pays its balance slot."""
    device, owner = Account.create(), Account.create()
    for who in (owner, owner):
        device = Account.create()
        signature = sign_device_binding(
            device, world.client.chain_id, world.core.devices.address, world.project_id, who.address
        )
        gas = world.core.devices.register_device(
            world.project_id, device.address, who.address, signature, sender=world.owner
        ).gas_used
        print(f"registerDevice gas: {gas}")
    assert gas < 110_000
