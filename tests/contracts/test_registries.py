"""ProjectRegistry, DeviceRegistry and ProverRegistry on a real anvil chain."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from chain_world import World, addr
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.domain.eip712 import Domain, binding_digest, binding_typed_data
from proofstream.errors import TransactionRevertedError

pytestmark = pytest.mark.chain

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


# --- ProjectRegistry ----------------------------------------------------------------------------------------


def test_created_project_has_owner_sequencer_dapp_and_version_1(world: World) -> None:
    info = world.core.projects.get_project(world.project_id)
    assert info.owner == addr(world.owner)
    assert info.sequencer == addr(world.sequencer)
    assert info.dapp == world.project.reward_dapp
    assert info.current_version == 1
    assert info.active
    assert world.core.projects.verifier_of(world.project_id, 1) == world.project.verifier
    assert world.core.projects.config_hash_of(world.project_id, 1) == b"\x01" * 32
    assert world.core.projects.uri_of(world.project_id, 1) == "ipfs://tracker-distance-v1"


def test_project_ids_count_up_from_one(world: World) -> None:
    first = world.project_id
    second, _ = world.core.projects.create_project(
        b"\x02" * 32,
        "uri",
        world.project.verifier,
        world.project.reward_dapp,
        world.sequencer.address,
        sender=world.other,
    )
    assert first == 1
    assert second == 2
    assert world.core.projects.owner_of(second) == addr(world.other)


def test_add_version_becomes_current_and_keeps_old_verifier(world: World) -> None:
    new_verifier = world.client.deploy(world.compilation.artifact("MockVerifier"), sender=world.owner)
    assert new_verifier.contract_address is not None
    version, _ = world.core.projects.add_version(
        world.project_id, b"\x03" * 32, "ipfs://v2", new_verifier.contract_address, 10, sender=world.owner
    )
    assert version == 2
    assert world.core.projects.current_version(world.project_id) == 2
    assert world.core.projects.verifier_of(world.project_id, 2) == new_verifier.contract_address
    assert world.core.projects.verifier_of(world.project_id, 1) == world.project.verifier


def test_unknown_version_and_project_revert_by_name(world: World) -> None:
    with pytest.raises(TransactionRevertedError) as info:
        world.core.projects.verifier_of(world.project_id, 2)
    assert info.value.error_name == "UnknownVersion"
    with pytest.raises(TransactionRevertedError) as info:
        world.core.projects.owner_of(99)
    assert info.value.error_name == "UnknownProject"
    assert not world.core.projects.is_active(99)


@pytest.mark.parametrize("write", ["add_version", "pause", "set_sequencer"])
def test_only_the_project_owner_changes_a_project(world: World, write: str) -> None:
    projects = world.core.projects
    calls: dict[str, Callable[[], object]] = {
        "add_version": lambda: projects.add_version(
            world.project_id, b"\x03" * 32, "x", world.project.verifier, 0, sender=world.other
        ),
        "pause": lambda: projects.pause(world.project_id, sender=world.other),
        "set_sequencer": lambda: projects.set_sequencer(world.project_id, world.other.address, sender=world.other),
    }
    with pytest.raises(TransactionRevertedError) as info:
        calls[write]()
    assert info.value.error_name == "NotProjectOwner"
    assert info.value.error_args == (world.project_id, world.other.address)


def test_only_the_project_owner_resumes(world: World) -> None:
    world.core.projects.pause(world.project_id, sender=world.owner)
    with pytest.raises(TransactionRevertedError, match="NotProjectOwner"):
        world.core.projects.resume(world.project_id, sender=world.other)


def test_pause_and_resume(world: World) -> None:
    world.core.projects.pause(world.project_id, sender=world.owner)
    assert not world.core.projects.is_active(world.project_id)
    with pytest.raises(TransactionRevertedError, match="AlreadyPaused"):
        world.core.projects.pause(world.project_id, sender=world.owner)
    world.core.projects.resume(world.project_id, sender=world.owner)
    assert world.core.projects.is_active(world.project_id)


def test_set_sequencer(world: World) -> None:
    world.core.projects.set_sequencer(world.project_id, world.other.address, sender=world.owner)
    assert world.core.projects.sequencer_of(world.project_id) == addr(world.other)


def test_verifier_and_dapp_must_be_contracts(world: World) -> None:
    with pytest.raises(TransactionRevertedError) as info:
        world.core.projects.create_project(
            b"\x02" * 32, "u", world.other.address, world.project.reward_dapp, world.sequencer.address
        )
    assert info.value.error_name == "NotAContract"
    with pytest.raises(TransactionRevertedError, match="NotAContract"):
        world.core.projects.create_project(
            b"\x02" * 32, "u", world.project.verifier, world.other.address, world.sequencer.address
        )


# --- DeviceRegistry -----------------------------------------------------------------------------------------


def test_registered_device_has_its_owner(world: World) -> None:
    assert world.core.devices.device_owner(world.project_id, addr(world.device)) == addr(world.device_owner)
    assert world.core.devices.is_registered(world.project_id, world.device.address)
    events = world.core.devices.device_registered_events(0, "latest")
    assert [(e.project, e.device, e.owner) for e in events] == [
        (world.project_id, addr(world.device), addr(world.device_owner))
    ]


def test_binding_digest_matches_eth_account(world: World) -> None:
    """The contract's EIP-712 digest equals the one eth_account (an independent implementation) computes from
    the domain's typed data, and the domain's own digest."""
    device = Account.create()
    domain = Domain(world.client.chain_id, world.core.devices.address)
    typed = binding_typed_data(domain, 7, device.address, world.device_owner.address)
    signable = encode_typed_data(full_message=typed)  # version 0x01, header = domain separator, body = struct hash
    assert world.core.devices.domain_separator() == signable.header
    expected_digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    on_chain = world.core.devices.binding_digest(7, device.address, world.device_owner.address)
    assert on_chain == expected_digest == binding_digest(domain, 7, device.address, world.device_owner.address)


def _new_device_signature(world: World, **overrides: object) -> tuple[str, bytes]:
    device = Account.create()
    args: dict[str, object] = {
        "device_key": device,
        "chain_id": world.client.chain_id,
        "device_registry": world.core.devices.address,
        "project": world.project_id,
        "owner": world.device_owner.address,
    }
    args.update(overrides)
    return device.address, sign_device_binding(**args)  # type: ignore[arg-type]


def test_register_device_with_good_signature(world: World) -> None:
    device, signature = _new_device_signature(world)
    world.core.devices.register_device(
        world.project_id, device, world.device_owner.address, signature, sender=world.owner
    )
    assert world.core.devices.device_owner(world.project_id, device) == addr(world.device_owner)


def test_signature_by_another_key_is_refused(world: World) -> None:
    device, _ = _new_device_signature(world)
    _, signature_of_other_key = _new_device_signature(world)
    with pytest.raises(TransactionRevertedError) as info:
        world.core.devices.register_device(
            world.project_id, device, world.device_owner.address, signature_of_other_key, sender=world.owner
        )
    assert info.value.error_name == "WrongSigner"
    assert not world.core.devices.is_registered(world.project_id, device)


def test_signature_for_another_project_is_refused(world: World) -> None:
    device, signature = _new_device_signature(world, project=world.project_id + 1)
    with pytest.raises(TransactionRevertedError, match="WrongSigner"):
        world.core.devices.register_device(
            world.project_id, device, world.device_owner.address, signature, sender=world.owner
        )


def test_signature_for_another_owner_chain_or_registry_is_refused(world: World) -> None:
    for override in (
        {"owner": world.other.address},
        {"chain_id": world.client.chain_id + 1},
        {"device_registry": world.core.tasks.address},
    ):
        device, signature = _new_device_signature(world, **override)
        with pytest.raises(TransactionRevertedError, match="WrongSigner"):
            world.core.devices.register_device(
                world.project_id, device, world.device_owner.address, signature, sender=world.owner
            )


def test_malleable_high_s_signature_is_refused(world: World) -> None:
    device, signature = _new_device_signature(world)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    # (r, n - s, flipped v) recovers the same key: the classic second signature that EIP-2 forbids.
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    with pytest.raises(TransactionRevertedError) as info:
        world.core.devices.register_device(
            world.project_id, device, world.device_owner.address, twin, sender=world.owner
        )
    assert info.value.error_name == "InvalidSignature"


@pytest.mark.parametrize("mangle", ["v0", "v29", "short"])
def test_bad_v_or_length_is_refused(world: World, mangle: str) -> None:
    device, signature = _new_device_signature(world)
    bad = {
        "v0": signature[:64] + bytes([signature[64] - 27]),
        "v29": signature[:64] + b"\x1d",
        "short": signature[:64],
    }[mangle]
    with pytest.raises(TransactionRevertedError, match="InvalidSignature"):
        world.core.devices.register_device(
            world.project_id, device, world.device_owner.address, bad, sender=world.owner
        )


def test_only_the_project_owner_registers_devices(world: World) -> None:
    device, signature = _new_device_signature(world)
    with pytest.raises(TransactionRevertedError) as info:
        world.core.devices.register_device(
            world.project_id, device, world.device_owner.address, signature, sender=world.other
        )
    assert info.value.error_name == "NotProjectOwner"


def test_a_device_is_registered_once(world: World) -> None:
    signature = sign_device_binding(
        world.device, world.client.chain_id, world.core.devices.address, world.project_id, world.other.address
    )
    with pytest.raises(TransactionRevertedError, match="DeviceAlreadyRegistered"):
        world.core.devices.register_device(
            world.project_id, world.device.address, world.other.address, signature, sender=world.owner
        )


# --- ProverRegistry -----------------------------------------------------------------------------------------


def test_prover_registers_itself_once(world: World) -> None:
    provers = world.core.provers
    assert not provers.is_prover(world.other.address)
    provers.register_prover(world.device_owner.address, sender=world.other)
    assert provers.is_prover(world.other.address)
    assert provers.beneficiary_of(addr(world.other)) == addr(world.device_owner)
    with pytest.raises(TransactionRevertedError, match="AlreadyRegistered"):
        provers.register_prover(world.other.address, sender=world.other)
    assert provers.beneficiary_of(world.device_owner.address) is None
