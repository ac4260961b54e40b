"""Our EIP-712 encoder against eth_account's independent implementation, and the golden binding vectors."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from testbed import DOMAIN, golden

from proofstream.domain import eip712
from proofstream.domain.eip712 import (
    BINDING_MEMBERS,
    BINDING_TYPE,
    DOMAIN_MEMBERS,
    Domain,
    Member,
    binding_digest,
    domain_separator,
    encode_type,
    hash_struct,
    typed_data_digest,
)
from proofstream.domain.types import Address

VECTORS = golden("messages.json")


def reference(domain: Domain, primary: str, members: list[Member], values: list[Any]) -> Any:
    """eth_account's SignableMessage for the same typed data."""
    return encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_MEMBERS],
                primary: [{"name": n, "type": t} for n, t in members],
            },
            "primaryType": primary,
            "domain": domain.as_dict(),
            "message": dict(zip([n for n, _ in members], values, strict=True)),
        }
    )


def reference_digest(domain: Domain, primary: str, members: list[Member], values: list[Any]) -> bytes:
    signable = reference(domain, primary, members, values)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


@st.composite
def member_and_value(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["uint", "int", "address", "bytes32", "string", "bool", "bytes"]))
    bits = draw(st.integers(1, 32)) * 8
    if kind == "uint":
        return f"uint{bits}", draw(st.integers(0, 2**bits - 1))
    if kind == "int":
        return f"int{bits}", draw(st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))
    if kind == "address":
        return "address", to_checksum_address(draw(st.binary(min_size=20, max_size=20)))
    if kind == "bytes32":
        return "bytes32", draw(st.binary(min_size=32, max_size=32))
    if kind == "bool":
        return "bool", draw(st.booleans())
    if kind == "bytes":
        return "bytes", draw(st.binary(max_size=80))
    return "string", draw(st.text(max_size=40))


@st.composite
def struct(draw: st.DrawFn) -> tuple[list[Member], list[Any]]:
    pairs = draw(st.lists(member_and_value(), min_size=1, max_size=8))
    members = [(f"f{i}", type_) for i, (type_, _) in enumerate(pairs)]
    return members, [value for _, value in pairs]


@settings(max_examples=60, deadline=None)
@given(
    struct(),
    st.integers(1, 2**64),
    st.text(min_size=1, max_size=20),
)
def test_digest_matches_eth_account_for_random_flat_structs(
    shape: tuple[list[Member], list[Any]], chain_id: int, name: str
) -> None:
    members, values = shape
    domain = Domain(chain_id=chain_id, verifying_contract=Address("0x" + "ab" * 20), name=name, version="7")
    ref = reference(domain, "Thing", members, values)
    assert domain_separator(domain) == ref.header
    assert hash_struct("Thing", members, values) == ref.body
    assert typed_data_digest(domain, "Thing", members, values) == reference_digest(domain, "Thing", members, values)


def test_type_string_is_the_eip712_encoding() -> None:
    assert encode_type(BINDING_TYPE, BINDING_MEMBERS) == "DeviceBinding(uint64 project,address device,address owner)"


@pytest.mark.parametrize("bad", ["uint7", "uint264", "Inner", "uint32[]", "bytes33", "fixed128x18"])
def test_nested_arrays_and_unknown_types_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        encode_type("Thing", [("x", bad)])


def test_values_must_match_members() -> None:
    with pytest.raises(ValueError, match="members"):
        hash_struct("Thing", [("a", "uint8")], [1, 2])


def test_domain_normalises_the_contract_address() -> None:
    lower = Domain(chain_id=1, verifying_contract=Address(DOMAIN.verifying_contract.lower()))
    assert lower == Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract)
    assert lower.verifying_contract == DOMAIN.verifying_contract


@pytest.mark.parametrize("vector", VECTORS["bindings"], ids=lambda v: str(v["message"]["project"]))
def test_device_binding_matches_golden_vectors(vector: dict[str, Any]) -> None:
    message = vector["message"]
    digest = binding_digest(DOMAIN, message["project"], Address(message["device"]), Address(message["owner"]))
    assert "0x" + digest.hex() == vector["digest"]
    members = list(BINDING_MEMBERS)
    values = [message["project"], message["device"], message["owner"]]
    assert digest == reference_digest(DOMAIN, BINDING_TYPE, members, values)


def test_binding_digest_depends_on_every_input() -> None:
    device, owner = Address("0x" + "11" * 20), Address("0x" + "22" * 20)
    base = binding_digest(DOMAIN, 1, device, owner)
    others = {
        binding_digest(DOMAIN, 2, device, owner),
        binding_digest(DOMAIN, 1, owner, owner),
        binding_digest(DOMAIN, 1, device, device),
        binding_digest(Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract), 1, device, owner),
    }
    assert base not in others
    assert len(others) == 4


@pytest.mark.parametrize("length", [0, 1, 32, 135, 136, 137, 1000])
def test_the_fast_keccak_is_pycryptodomes(length: int) -> None:
    """safe-pysha3 (the node's) and pycryptodome (the device's light install) give the same keccak256, across
    the 136-byte rate; the empty input's is the well-known one."""
    data = bytes(range(256)) * 4
    assert eip712.keccak(data[:length]) == eip712._pycryptodome_keccak(data[:length])
    assert eip712.keccak().hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert eip712._keccak_256 is not eip712._pycryptodome_keccak  # the node install has safe-pysha3
