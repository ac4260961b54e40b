"""BabyJubJub devices in the DeviceRegistry, and the BabyJubJub library, on a real anvil chain.

Signatures and curve points come from circomlibjs (run by ``bjj_tool.cjs``), an implementation independent of
both the Solidity library and proofstream's Python; Poseidon values come from ``proofstream.domain.poseidon``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chain_world import World, addr
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.contract import Contract

from proofstream.chain.client import Receipt
from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.chain.poseidon_contract import POSEIDON_SIGNATURE, poseidon_artifact
from proofstream.domain.poseidon import poseidon
from proofstream.domain.types import FIELD_MODULUS, Address
from proofstream.errors import TransactionRevertedError
from proofstream.toolchain import find_node_modules, run_node_tool

pytestmark = pytest.mark.chain

P = FIELD_MODULUS
L = 2736030358979909402780800718157159386076813972158567259200215660948447373041
BASE8 = (
    5299619240641551281634865583518297030282874472190772894086521144482721001553,
    16950150798460657717958625567821834550301663161624707787222815936182638968203,
)
BIND_TAG = 0x70732E62696E64
KEY = "b1" * 32
"""A device's BabyJubJub private key (32 bytes hex), fixed so the device id is the same in every run."""
OTHER_KEY = "b2" * 32

REGISTER_GAS_LIMIT = 650_000
"""registerBjjDevice costs about 610k (see DeviceRegistry.registerBjjDevice): fail if it grows much."""
VERIFY_GAS_LIMIT = 290_000
"""BabyJubJub.verifyPoseidon costs about 262k, 100k of it the Poseidon contract."""

_TOOL = Path(__file__).parent / "bjj_tool.cjs"


def circomlibjs(request: dict[str, Any]) -> dict[str, Any]:
    """Run bjj_tool.cjs with ``request`` (numbers may be ints) and return its answer."""
    modules = find_node_modules()
    encoded = json.dumps(_strings(request))
    result = run_node_tool(_TOOL, [str(modules)], node_modules=modules, stdin=encoded, timeout_s=60)
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def _strings(value: Any) -> Any:
    """Integers as decimal strings: JSON numbers lose precision in JavaScript past 2^53."""
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strings(v) for v in value]
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


@dataclass(frozen=True)
class BjjSignature:
    ax: int
    ay: int
    r8x: int
    r8y: int
    s: int

    @property
    def key(self) -> tuple[int, int]:
        return self.ax, self.ay


def sign(key: str, message: int) -> BjjSignature:
    (sig,) = circomlibjs({"sign": [[key, str(message)]]})["sign"]
    return BjjSignature(*(int(sig[k]) for k in ("ax", "ay", "r8x", "r8y", "s")))


def device_id(ax: int, ay: int) -> Address:
    return Address(to_checksum_address(keccak(b"ps.bjj" + ax.to_bytes(32, "big") + ay.to_bytes(32, "big"))[-20:]))


def binding_message(chain_id: int, registry: str, project: int, owner: str) -> int:
    return poseidon([BIND_TAG, chain_id, int(registry, 16), project, int(owner, 16)])


def register(
    world: World,
    sig: BjjSignature,
    *,
    project: int | None = None,
    owner: str | None = None,
    sender: LocalAccount | None = None,
) -> Receipt:
    return world.core.devices.register_bjj_device(
        world.project_id if project is None else project,
        sig.ax,
        sig.ay,
        owner or world.device_owner.address,
        sig.r8x,
        sig.r8y,
        sig.s,
        sender=sender or world.owner,
    )


def binding(world: World, key: str = KEY, *, project: int | None = None, owner: str | None = None) -> BjjSignature:
    message = world.core.devices.bjj_binding_message(
        world.project_id if project is None else project, owner or world.device_owner.address
    )
    return sign(key, message)


@functools.cache  # three circomlibjs runs (a Node start and its wasm set-up each): once per module
def small_order_points() -> list[tuple[int, int]]:
    """The 8 points of the torsion subgroup: multiples of a point of order 8 (generator * l)."""
    answer = circomlibjs({})
    gx, gy = (int(v) for v in answer["generator"])
    (t8,) = circomlibjs({"mul": [[gx, gy, L]]})["mul"]
    multiples = circomlibjs({"mul": [[t8[0], t8[1], k] for k in range(8)]})["mul"]
    return [(int(x), int(y)) for x, y in multiples]


@pytest.fixture
def harness(world: World) -> Contract:
    artifact = world.compilation.artifact("BabyJubJubHarness")
    receipt = world.client.deploy(artifact, sender=world.other)
    assert receipt.contract_address is not None
    return world.client.contract(receipt.contract_address, artifact.abi, "BabyJubJubHarness")


@pytest.fixture
def poseidon_contract(world: World) -> Contract:
    return world.client.contract(world.core.devices.poseidon(), poseidon_artifact().abi, "Poseidon5")


# --- Poseidon contract and encodings ------------------------------------------------------------------------


def test_poseidon_contract_matches_python(poseidon_contract: Contract, world: World) -> None:
    function = poseidon_contract.get_function_by_signature(POSEIDON_SIGNATURE)
    for inputs in ([0, 0, 0, 0, 0], [1, 2, 3, 4, 5], [P - 1, P - 2, 7, 2**160 - 1, BIND_TAG]):
        assert world.client.call(function(inputs)) == poseidon(inputs)


def test_poseidon_artifact_is_cached(tmp_path: Path) -> None:
    first = poseidon_artifact(cache_dir=tmp_path)
    (cached,) = tmp_path.glob("poseidon5-*.json")
    again = poseidon_artifact(cache_dir=tmp_path)
    assert again == first
    assert first.bytecode.startswith("0x") and len(first.bytecode) > 10_000
    assert any(item.get("name") == "poseidon" for item in first.abi)
    cached.write_text("not json")
    assert poseidon_artifact(cache_dir=tmp_path) == first  # a broken cache entry is regenerated


def test_binding_message_and_device_id_match_python(world: World) -> None:
    devices = world.core.devices
    owner = world.device_owner.address
    expected = binding_message(world.client.chain_id, devices.address, world.project_id, owner)
    assert devices.bjj_binding_message(world.project_id, owner) == expected
    sig = sign(KEY, expected)
    assert devices.bjj_device_id(sig.ax, sig.ay) == device_id(sig.ax, sig.ay)


# --- The BabyJubJub library ---------------------------------------------------------------------------------


def test_on_curve(harness: Contract, world: World) -> None:
    def on(x: int, y: int) -> bool:
        return bool(world.client.call(harness.functions.isOnCurve(x, y)))

    assert on(*BASE8)
    assert on(0, 1)  # the identity
    assert not on(1, 1)
    assert not on(BASE8[0], BASE8[1] + 1)
    assert not on(BASE8[0] + P, BASE8[1])  # the same point, but not a canonical coordinate
    assert not on(BASE8[0], BASE8[1] + P)


def test_mul_and_add_match_circomlibjs(harness: Contract, world: World) -> None:
    scalars = [0, 1, 2, 7, 8, L - 1, L, L + 1, P - 1, 2**253 + 12345, 2**256 - 1]
    expected = circomlibjs({"mul": [[*BASE8, k] for k in scalars]})["mul"]
    for k, (x, y) in zip(scalars, expected, strict=True):
        assert world.client.call(harness.functions.mul(*BASE8, k)) == [int(x), int(y)], k
    # Addition of distinct points, of a point to itself, to the identity and to its negation.
    points = [(int(x), int(y)) for x, y in expected[2:5]]
    pairs = [
        (points[0], points[1]),
        (points[1], points[1]),
        (points[2], (0, 1)),
        (points[0], (P - points[0][0], points[0][1])),
    ]
    sums = circomlibjs({"add": [[*a, *b] for a, b in pairs]})["add"]
    for (a, b), (x, y) in zip(pairs, sums, strict=True):
        assert world.client.call(harness.functions.add(*a, *b)) == [int(x), int(y)]
    assert sums[-1] == ["0", "1"]


def test_inverse(harness: Contract, world: World) -> None:
    for v in (1, 2, 168700, P - 1, 2**200 + 3):
        inverse = world.client.call(harness.functions.inverse(v))
        assert inverse * v % P == 1
    assert world.client.call(harness.functions.inverse(0)) == 0


def test_small_order_points_are_recognised(harness: Contract, world: World) -> None:
    torsion = small_order_points()
    assert (0, 1) in torsion and (0, P - 1) in torsion
    assert len(set(torsion)) == 8
    for point in torsion:
        assert world.client.call(harness.functions.isOnCurve(*point))
        assert world.client.call(harness.functions.isSmallOrder(*point)), point
    assert not world.client.call(harness.functions.isSmallOrder(*BASE8))
    # A point of mixed order (Base8 plus a torsion point) is not of small order.
    (mixed,) = circomlibjs({"add": [[*BASE8, *torsion[1]]]})["add"]
    assert not world.client.call(harness.functions.isSmallOrder(int(mixed[0]), int(mixed[1])))


def test_verify_poseidon_matches_circomlibjs(harness: Contract, poseidon_contract: Contract, world: World) -> None:
    message = 0xC0FFEE
    sig = sign(KEY, message)

    def verify(**changes: int) -> bool:
        values = {"message": message, "ax": sig.ax, "ay": sig.ay, "r8x": sig.r8x, "r8y": sig.r8y, "s": sig.s}
        values.update(changes)
        call = harness.functions.verifyPoseidon(poseidon_contract.address, *values.values())
        return bool(world.client.call(call))

    assert verify()
    assert not verify(message=message + 1)
    assert not verify(s=(sig.s + 1) % L)
    assert not verify(s=sig.s + L)  # same point S * Base8, but S must be below L
    assert not verify(r8x=sig.r8x, r8y=(sig.r8y + 1) % P)  # R8 off the curve
    assert not verify(r8x=(P - sig.r8x) % P)  # -R8: on the curve, wrong point
    other = sign(OTHER_KEY, message)
    assert not verify(ax=other.ax, ay=other.ay)
    measured = harness.functions.verifyGas(poseidon_contract.address, message, *sig.key, sig.r8x, sig.r8y, sig.s)
    ok, gas = world.client.call(measured)
    assert ok
    print(f"verifyPoseidon gas={gas}")
    assert gas < VERIFY_GAS_LIMIT, gas


# --- registerBjjDevice --------------------------------------------------------------------------------------


def test_register_bjj_device_with_a_valid_binding(world: World) -> None:
    sig = binding(world)
    device = device_id(*sig.key)
    devices = world.core.devices
    assert not devices.is_active(world.project_id, device)
    assert devices.bjj_key_of(world.project_id, device) is None
    start = world.client.block_number() + 1
    receipt = register(world, sig)
    assert receipt.gas_used < REGISTER_GAS_LIMIT, receipt.gas_used
    print(f"registerBjjDevice gas_used={receipt.gas_used}")
    assert devices.device_owner(world.project_id, device) == addr(world.device_owner)
    assert devices.is_registered(world.project_id, device)
    assert devices.is_active(world.project_id, device)
    assert devices.bjj_key_of(world.project_id, device) == sig.key
    registered = devices.device_registered_events(start, "latest")
    assert [(e.project, e.device, e.owner) for e in registered] == [
        (world.project_id, device, addr(world.device_owner))
    ]
    (key_event,) = devices.bjj_key_registered_events(start, "latest")
    assert (key_event.project, key_event.device, key_event.ax, key_event.ay) == (world.project_id, device, *sig.key)
    assert key_event.position.tx_hash == receipt.tx_hash


def test_one_key_in_two_projects(world: World) -> None:
    register(world, binding(world))
    second, _ = world.core.projects.create_project(
        b"\x02" * 32,
        "u",
        world.project.verifier,
        world.project.reward_dapp,
        world.sequencer.address,
        sender=world.other,
    )
    sig = binding(world, project=second, owner=world.other.address)
    device = device_id(*sig.key)
    assert world.core.devices.bjj_key_of(second, device) is None
    receipt = register(world, sig, project=second, owner=world.other.address, sender=world.other)
    print(f"registerBjjDevice (key known) gas_used={receipt.gas_used}")
    assert world.core.devices.bjj_key_of(second, device) == sig.key
    assert world.core.devices.device_owner(second, device) == addr(world.other)
    assert world.core.devices.device_owner(world.project_id, device) == addr(world.device_owner)


def test_off_curve_key_is_refused(world: World) -> None:
    sig = binding(world)
    for ax, ay in ((sig.ax, (sig.ay + 1) % P), (sig.ax + P, sig.ay), (sig.ax, sig.ay + P), (1, 1)):
        bad = BjjSignature(ax, ay, sig.r8x, sig.r8y, sig.s)
        with pytest.raises(TransactionRevertedError) as info:
            register(world, bad)
        assert info.value.error_name == "BjjKeyNotOnCurve"
        assert info.value.error_args == (ax, ay)


def test_small_order_key_is_refused(world: World) -> None:
    sig = binding(world)
    for point in small_order_points():
        with pytest.raises(TransactionRevertedError) as info:
            register(world, BjjSignature(*point, sig.r8x, sig.r8y, sig.s))
        assert info.value.error_name == "BjjKeySmallOrder"
        assert info.value.error_args == point


def test_a_key_with_a_small_order_part_is_refused(world: World) -> None:
    """A + T with T of order 2 is on the curve and not of small order, but not in the subgroup: one secret would
    name two device ids, and the gateway refuses such a key's messages."""
    sig = binding(world)
    mixed = ((P - sig.ax) % P, (P - sig.ay) % P)  # (x, y) + (0, -1) = (-x, -y)
    with pytest.raises(TransactionRevertedError) as info:
        register(world, BjjSignature(*mixed, sig.r8x, sig.r8y, sig.s))
    assert info.value.error_name == "BjjKeyNotInSubgroup"
    assert info.value.error_args == mixed


def test_bad_signature_is_refused(world: World) -> None:
    sig = binding(world)
    other = binding(world, OTHER_KEY)
    bad = [
        BjjSignature(*sig.key, sig.r8x, sig.r8y, (sig.s + 1) % L),
        BjjSignature(*sig.key, sig.r8x, sig.r8y, sig.s + L),
        BjjSignature(*sig.key, sig.r8x, (sig.r8y + 1) % P, sig.s),
        BjjSignature(*sig.key, other.r8x, other.r8y, other.s),  # another key's signature of the same binding
    ]
    for signature in bad:
        with pytest.raises(TransactionRevertedError) as info:
            register(world, signature)
        assert info.value.error_name == "BjjInvalidSignature"
    assert not world.core.devices.is_registered(world.project_id, device_id(*sig.key))


def test_binding_for_another_project_owner_registry_or_chain_is_refused(world: World) -> None:
    chain_id, registry = world.client.chain_id, world.core.devices.address
    owner = world.device_owner.address
    messages = [
        binding_message(chain_id, registry, world.project_id + 1, owner),
        binding_message(chain_id, registry, world.project_id, world.other.address),
        binding_message(chain_id, world.core.tasks.address, world.project_id, owner),
        binding_message(chain_id + 1, registry, world.project_id, owner),
    ]
    for message in messages:
        with pytest.raises(TransactionRevertedError, match="BjjInvalidSignature"):
            register(world, sign(KEY, message))
    register(world, sign(KEY, binding_message(chain_id, registry, world.project_id, owner)))


def test_only_the_project_owner_registers_bjj_devices(world: World) -> None:
    with pytest.raises(TransactionRevertedError) as info:
        register(world, binding(world), sender=world.other)
    assert info.value.error_name == "NotProjectOwner"
    assert info.value.error_args == (world.project_id, world.other.address)


def test_a_bjj_device_is_registered_once(world: World) -> None:
    register(world, binding(world))
    again = binding(world, owner=world.other.address)
    with pytest.raises(TransactionRevertedError) as info:
        register(world, again, owner=world.other.address)
    assert info.value.error_name == "DeviceAlreadyRegistered"
    assert info.value.error_args == (world.project_id, device_id(*again.key))
    assert world.core.devices.device_owner(world.project_id, device_id(*again.key)) == addr(world.device_owner)


def test_zero_owner_is_refused(world: World) -> None:
    zero = "0x" + "00" * 20
    with pytest.raises(TransactionRevertedError, match="ZeroAddress"):
        register(world, binding(world, owner=zero), owner=zero)


def test_secp256k1_device_has_no_bjj_key(world: World) -> None:
    assert world.core.devices.bjj_key_of(world.project_id, world.device.address) is None
    assert world.core.devices.is_active(world.project_id, world.device.address)
    assert world.core.devices.bjj_key_of(world.project_id, Account.create().address) is None


# --- deactivateDevice / isActive ----------------------------------------------------------------------------


def test_deactivate_bjj_and_secp256k1_devices(world: World) -> None:
    sig = binding(world)
    register(world, sig)
    devices = world.core.devices
    start = world.client.block_number() + 1
    for device in (device_id(*sig.key), world.device.address):
        assert devices.is_active(world.project_id, device)
        devices.deactivate_device(world.project_id, device, sender=world.owner)
        assert not devices.is_active(world.project_id, device)
        assert devices.is_registered(world.project_id, device)
        assert devices.device_owner(world.project_id, device) == addr(world.device_owner)
        with pytest.raises(TransactionRevertedError) as info:
            devices.deactivate_device(world.project_id, device, sender=world.owner)
        assert info.value.error_name == "DeviceAlreadyDeactivated"
    events = devices.device_deactivated_events(start, "latest")
    assert [(e.project, e.device) for e in events] == [
        (world.project_id, device_id(*sig.key)),
        (world.project_id, addr(world.device)),
    ]
    # The key stays readable; registering again is refused.
    assert devices.bjj_key_of(world.project_id, device_id(*sig.key)) == sig.key
    with pytest.raises(TransactionRevertedError, match="DeviceAlreadyRegistered"):
        register(world, sig)
    signature = sign_device_binding(
        world.device, world.client.chain_id, devices.address, world.project_id, world.device_owner.address
    )
    with pytest.raises(TransactionRevertedError, match="DeviceAlreadyRegistered"):
        devices.register_device(
            world.project_id, world.device.address, world.device_owner.address, signature, sender=world.owner
        )


def test_deactivation_is_for_the_project_owner_and_known_devices(world: World) -> None:
    devices = world.core.devices
    with pytest.raises(TransactionRevertedError) as info:
        devices.deactivate_device(world.project_id, world.device.address, sender=world.other)
    assert info.value.error_name == "NotProjectOwner"
    unknown = Account.create().address
    with pytest.raises(TransactionRevertedError) as info:
        devices.deactivate_device(world.project_id, unknown, sender=world.owner)
    assert info.value.error_name == "UnknownDevice"
    assert info.value.error_args == (world.project_id, unknown)
    assert not devices.is_active(world.project_id, unknown)
    assert devices.is_active(world.project_id, world.device.address)


# --- Constructor --------------------------------------------------------------------------------------------


def test_registry_refuses_a_wrong_poseidon(world: World) -> None:
    artifact = world.compilation.artifact("DeviceRegistry")
    four = world.client.deploy(poseidon_artifact(4), sender=world.other).contract_address
    with pytest.raises(TransactionRevertedError):
        world.client.deploy(artifact, world.core.projects.address, four, sender=world.other)
    with pytest.raises(TransactionRevertedError, match="NotAContract"):
        world.client.deploy(artifact, world.core.projects.address, world.other.address, sender=world.other)
