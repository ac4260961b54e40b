"""Attacks on device identity through the public API, on a real anvil chain: the gateway's HTTP endpoint
(POST /v1/projects/{p}/devices) with its chain registrar, run by a gateway that holds no key of the project
owner (any funded account pays), and the DeviceRegistry's own functions.

Nobody farms rewards with made-up keys: a key registers only with a voucher of the project owner or of a
manufacturer it registered; a voucher serves one device once, before its expiry, in its project; only the
owner (or whom it approved) moves a device."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chain_world import World, addr
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from testbed import TRACKER_SCHEMA

from proofstream.chain.accounts import dev_account
from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.chain.gateway import ChainRegistrar
from proofstream.domain.eip712 import Domain
from proofstream.domain.types import Address, ConfigVersion
from proofstream.domain.vouchers import ZERO_ADDRESS, Terms, Voucher
from proofstream.errors import TransactionRevertedError
from proofstream.ingest.http import create_app
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig
from proofstream.store.sqlite import SqliteStore

pytestmark = pytest.mark.chain

MANUFACTURER = DeviceKey.from_hex("0x" + "a7" * 32)
GATEWAY_PAYER = 7
"""The dev account the gateway sends registrations with: funded, and neither the project's owner nor anything else."""


class Gateway:
    """A gateway on the world's chain, reached only through its HTTP API."""

    def __init__(self, world: World, http: TestClient) -> None:
        self.world = world
        self.http = http
        self.domain = Domain(world.client.chain_id, world.core.devices.address)

    def now(self) -> int:
        return int(self.world.client.web3.eth.get_block("latest")["timestamp"])

    def voucher(
        self, device: DeviceKey, *, issuer: DeviceKey = MANUFACTURER, project: int | None = None, nonce: int = 1,
        ttl: int = 3600, owner: str = ZERO_ADDRESS,
    ) -> Voucher:  # fmt: skip
        terms = Terms(project or self.world.project_id, device.address, Address(owner), nonce, self.now() + ttl)
        return issuer.sign_voucher(self.domain, terms)

    def register(self, device: DeviceKey, voucher: Voucher | None, *, ttl: int = 3600) -> tuple[int, dict[str, str]]:
        owner = self.world.device_owner.address
        if voucher is None:
            signature = device.sign_binding(self.domain, self.world.project_id, owner)
            body: dict[str, object] = {"device": device.address, "owner": owner, "signature": "0x" + signature.hex()}
        else:
            terms = Terms(self.world.project_id, device.address, Address(owner), 3, self.now() + ttl)
            permit = device.sign_permit(self.domain, terms)
            body = {
                "device": device.address, "owner": owner, "signature": "0x" + permit.signature.hex(),
                "nonce": permit.nonce, "expiry": permit.expiry, "voucher": voucher.as_json(),
            }  # fmt: skip
        response = self.http.post(f"/v1/projects/{self.world.project_id}/devices", json=body)
        data = response.json()
        return response.status_code, data.get("error", data)

    def registered(self, device: DeviceKey) -> bool:
        return self.world.core.devices.is_registered(self.world.project_id, device.address)


def gateway_app(world: World, store: SqliteStore) -> TestClient:
    domain = Domain(world.client.chain_id, world.core.devices.address)
    store.upsert_project(ProjectConfig(world.project_id, ConfigVersion(1), TRACKER_SCHEMA, domain))
    registrar = ChainRegistrar(world.core.devices, dev_account(GATEWAY_PAYER))
    return TestClient(create_app(store, registrar=registrar, owner_registration=False))


@pytest.fixture
def gateway(world: World, empty_store: SqliteStore) -> Iterator[Gateway]:
    world.core.devices.set_manufacturer(world.project_id, MANUFACTURER.address, sender=world.owner)
    with gateway_app(world, empty_store) as http:
        yield Gateway(world, http)


def test_a_vouched_device_registers_through_a_gateway_without_the_owner_key(gateway: Gateway) -> None:
    device = DeviceKey.generate()
    status, body = gateway.register(device, gateway.voucher(device))
    assert (status, body["status"]) == (202, "submitted"), body
    assert gateway.registered(device)
    devices = gateway.world.core.devices
    token = devices.token_id_of(gateway.world.project_id, device.address)
    assert devices.owner_of_token(token) == addr(gateway.world.device_owner)


def test_a_made_up_key_without_a_voucher_is_refused(gateway: Gateway) -> None:
    device = DeviceKey.generate()
    assert gateway.register(device, None)[1]["code"] == "voucher_required"
    assert not gateway.registered(device)


def test_a_made_up_key_vouching_for_itself_is_refused(gateway: Gateway) -> None:
    device = DeviceKey.generate()
    status, error = gateway.register(device, gateway.voucher(device, issuer=device))
    assert (status, error["code"]) == (403, "unauthorized_issuer"), error
    assert not gateway.registered(device)


def test_a_replayed_voucher_is_refused(gateway: Gateway, world: World, empty_store: SqliteStore) -> None:
    first, second = DeviceKey.generate(), DeviceKey.generate()
    voucher = gateway.voucher(first, nonce=42)
    assert gateway.register(first, voucher)[0] == 202
    # The same voucher at another gateway (this one would answer with its pending transaction).
    with TestClient(create_app(empty_store, registrar=ChainRegistrar(world.core.devices, dev_account(8)))) as other:
        again = Gateway(world, other).register(first, voucher)
    assert (again[0], again[1]["code"]) == (409, "already_registered")
    # Its nonce for another device, signed again by the manufacturer: the nonce serves once.
    status, error = gateway.register(second, gateway.voucher(second, nonce=42))
    assert (status, error["code"]) == (409, "voucher_used"), error
    assert not gateway.registered(second)


def test_an_expired_voucher_or_permit_is_refused(gateway: Gateway) -> None:
    device = DeviceKey.generate()
    status, error = gateway.register(device, gateway.voucher(device, ttl=-1))
    assert (status, error["code"]) == (422, "voucher_expired"), error
    status, error = gateway.register(device, gateway.voucher(device), ttl=-1)
    assert (status, error["code"]) == (422, "binding_expired"), error
    assert not gateway.registered(device)


def test_a_voucher_of_another_project_is_refused(gateway: Gateway, world: World) -> None:
    other_project, _ = world.core.projects.create_project(
        b"\x09" * 32, "u", world.project.verifier, world.project.reward_dapp, world.sequencer.address,
        sender=world.owner,
    )  # fmt: skip
    world.core.devices.set_manufacturer(other_project, MANUFACTURER.address, sender=world.owner)
    device = DeviceKey.generate()
    status, error = gateway.register(device, gateway.voucher(device, project=other_project))
    assert (status, error["code"]) == (401, "bad_voucher"), error
    assert not gateway.registered(device)


def test_a_voucher_alone_registers_a_device_that_cannot_sign(gateway: Gateway) -> None:
    device = DeviceKey.generate()
    owner = gateway.world.device_owner.address
    voucher = gateway.voucher(device, owner=owner)
    body = {"device": device.address, "owner": owner, "voucher": voucher.as_json()}
    response = gateway.http.post(f"/v1/projects/{gateway.world.project_id}/devices", json=body)
    assert response.status_code == 202, response.text
    assert gateway.registered(device)


def test_only_the_owner_or_its_approved_account_transfers(world: World) -> None:
    devices, attacker = world.core.devices, dev_account(GATEWAY_PAYER)
    for sender in (attacker, world.owner):  # the gateway's payer, the project owner
        with pytest.raises(TransactionRevertedError, match="NotOwnerNorApproved"):
            devices.transfer_device(
                world.project_id, world.device.address, attacker.address, sender=sender,
                owner=world.device_owner.address,
            )  # fmt: skip
    with pytest.raises(TransactionRevertedError, match="NotTokenOwner"):  # claiming to be the owner
        devices.transfer_device(world.project_id, world.device.address, attacker.address, sender=attacker)
    assert devices.device_owner(world.project_id, world.device.address) == addr(world.device_owner)


def test_a_binding_cannot_be_replayed_into_an_owner_change(world: World) -> None:
    """The device's old binding (no nonce) cannot re-register it to the attacker: a device is bound once."""
    attacker: LocalAccount = Account.create()
    signature = sign_device_binding(
        world.device, world.client.chain_id, world.core.devices.address, world.project_id, attacker.address
    )
    with pytest.raises(TransactionRevertedError, match="DeviceAlreadyRegistered"):
        world.core.devices.register_device(
            world.project_id, world.device.address, attacker.address, signature, sender=world.owner
        )
