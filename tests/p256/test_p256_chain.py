"""P-256 devices on anvil: DeviceRegistry.registerP256Device verifies the binding through the P256VERIFY precompile
(EIP-7951, anvil's default hardfork has it, as `--hardfork osaka` does), refuses bad keys and signatures, and
reverts P256Unavailable on a prague chain, which lacks it; then a running node admits a P-256 device registered
through its gateway, takes its messages over HTTP, and settles its task with a real proof."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import httpx
import pytest
from chain_world import World
from eth_account import Account

from proofstream.chain.accounts import dev_account
from proofstream.chain.client import ChainClient
from proofstream.chain.deploy import attach_core, deploy_core, deploy_project
from proofstream.chain.gateway import ChainRegistrar
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import CompilationResult
from proofstream.demo import demo_project
from proofstream.domain import p256
from proofstream.domain.eip712 import Domain
from proofstream.domain.types import Address, ProjectId
from proofstream.errors import ProofstreamError, TransactionRevertedError
from proofstream.node import Node
from proofstream.ports import DeviceRegistrationRequest
from proofstream.sdk.device import Device, P256DeviceKey
from proofstream.sdk.gateway import GatewayClient
from proofstream.settings import ChainSettings, GatewaySettings, Settings

pytestmark = pytest.mark.chain

KEY = P256DeviceKey(bytes([0x25]) * 32)
REGISTER_GAS_LIMIT = 130_000
"""registerP256Device costs about 110k (measured on anvil): two storage slots for the key, one for the device, the
binding digest and the precompile (6.9k)."""


def _rs(signature: bytes) -> tuple[int, int]:
    return int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")


def _binding(world: World, key: P256DeviceKey = KEY, owner: str | None = None) -> tuple[int, int]:
    domain = Domain(world.client.chain_id, Address(world.core_deployment.device_registry))
    return _rs(key.sign_binding(domain, world.project_id, owner or world.device_owner.address))


def _register(world: World, r: int, s: int, key: P256DeviceKey = KEY, owner: str | None = None) -> int:
    receipt = world.core.devices.register_p256_device(
        world.project_id, *key.public_key, owner or world.device_owner.address, r, s, sender=world.owner
    )
    return receipt.gas_used


def test_a_p256_device_registers_with_its_key_and_id(world: World) -> None:
    devices = world.core.devices
    assert devices.p256_available()
    assert devices.p256_device_id(*KEY.public_key) == KEY.address == p256.device_id(KEY.public_key)
    gas = _register(world, *_binding(world))
    print(f"registerP256Device gas: {gas}")
    assert gas < REGISTER_GAS_LIMIT
    assert devices.p256_key_of(world.project_id, KEY.address) == KEY.public_key
    assert devices.is_active(world.project_id, KEY.address)
    assert devices.bjj_key_of(world.project_id, KEY.address) is None  # the Router treats it as unsigned
    (event,) = devices.p256_key_registered_events(0, "latest")
    assert (event.device, (event.x, event.y)) == (KEY.address, KEY.public_key)
    with pytest.raises(TransactionRevertedError) as again:
        _register(world, *_binding(world))
    assert again.value.error_name == "DeviceAlreadyRegistered"


@pytest.mark.parametrize("case", ["high s", "other owner", "other key", "off curve", "zero r"])
def test_bad_p256_registrations_revert_with_their_error(world: World, case: str) -> None:
    r, s = _binding(world)
    key, expected = KEY, "P256InvalidSignature"
    if case == "high s":
        s = p256.N - s
    elif case == "other owner":
        r, s = _binding(world, owner=world.other.address)
    elif case == "other key":
        key = P256DeviceKey(bytes([0x26]) * 32)
    elif case == "zero r":
        r = 0
    else:
        with pytest.raises(TransactionRevertedError) as refused:
            world.core.devices.register_p256_device(
                world.project_id,
                KEY.public_key[0],
                KEY.public_key[1] + 1,
                world.device_owner.address,
                r,
                s,
                sender=world.owner,
            )
        assert refused.value.error_name == "P256KeyNotOnCurve"
        return
    with pytest.raises(TransactionRevertedError) as refused:
        _register(world, r, s, key=key)
    assert refused.value.error_name == expected
    assert world.core.devices.p256_key_of(world.project_id, key.address) is None


def test_without_the_precompile_registration_reverts_p256_unavailable(compilation: CompilationResult) -> None:
    deployer, owner, device_owner = dev_account(0), dev_account(1), dev_account(5)
    with Localnet(hardfork="prague") as net:
        client = ChainClient(net.rpc_url, deployer)
        core_deployment = deploy_core(client, compilation=compilation)
        project = deploy_project(
            client,
            core_deployment,
            None,
            8,
            1,
            config_hash=b"\x01" * 32,
            uri="ipfs://p256",
            sequencer=owner.address,
            owner=owner,
            verifier=core_deployment.device_registry,  # any contract: nothing is routed here
            compilation=compilation,
        )
        devices = attach_core(client, core_deployment, compilation).devices
        assert not devices.p256_available()
        domain = Domain(client.chain_id, Address(core_deployment.device_registry))
        r, s = _rs(KEY.sign_binding(domain, project.project, device_owner.address))
        with pytest.raises(TransactionRevertedError) as refused:
            devices.register_p256_device(project.project, *KEY.public_key, device_owner.address, r, s, sender=owner)
        assert refused.value.error_name == "P256Unavailable"
        # The gateway's registrar tells the device why, with its own code.
        request = DeviceRegistrationRequest(
            ProjectId(project.project),
            KEY.address,
            Address(device_owner.address),
            r.to_bytes(32, "big") + s.to_bytes(32, "big"),
            KEY.public_key,
        )
        with pytest.raises(ProofstreamError) as told:
            ChainRegistrar(devices, owner).register_device(request)
    assert told.value.code == "key_type_unsupported"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    settings = Settings(
        data_dir=str(tmp_path_factory.mktemp("node")),
        gateway=GatewaySettings(port=0),
        chain=ChainSettings(poll_seconds=0.2),
    )
    with Node(settings, project=demo_project(), env={}) as running:
        yield running


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.slow
def test_a_p256_device_registers_through_the_gateway_sends_and_its_task_settles(node: Node) -> None:
    key = P256DeviceKey.generate()
    owner = Account.create().address
    with GatewayClient(node.gateway_url) as client:
        device = Device(key, client.project(node.deployment.project), client)
        assert device.register(owner).status == "submitted"
        _wait(lambda: device.status().registered, 60, "the indexer to admit the P-256 device")
        capacity = node.project.capacity
        start = int(time.time()) - 1200  # the generator spaces fixes out: all of them in the clock window
        readings = node.project.generator().readings(random.Random(7), 0, capacity, start)
        ids = [device.send(payload, timestamp).id for timestamp, payload in readings]
        did = httpx.get(f"{node.gateway_url}/did/{key.did}").json()
        assert did["proofstream"]["projects"] == [{"project": node.deployment.project, "owner": owner, "active": True}]

        def settled() -> bool:
            return all(httpx.get(f"{node.gateway_url}/messages/{i}").json()["status"] == "settled" for i in ids)

        _wait(settled, 240, "the P-256 device's task to settle")
