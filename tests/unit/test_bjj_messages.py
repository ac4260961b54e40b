"""BabyJubJub device messages (docs/protocol.md): device ids, m, m_bind, wire signatures and their checks, against
tests/vectors/babyjub.json (computed there by circomlibjs, js-sha3 and ethers, not by this code)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from testbed import by_name, golden

from proofstream.domain import bjj_messages as bjj
from proofstream.domain import eddsa
from proofstream.domain.babyjub import Point
from proofstream.domain.eip712 import Domain
from proofstream.domain.messages import DeviceMessage, build_message, message_leaf
from proofstream.domain.schema import Schema
from proofstream.domain.types import Address, ConfigVersion, Nonce
from proofstream.errors import MessageError

VECTORS = golden("babyjub.json")
KEYS = by_name(VECTORS["keys"])
MESSAGES = by_name(VECTORS["messages"])


def point(values: list[str]) -> Point:
    return (int(values[0]), int(values[1]))


def key(name: str) -> eddsa.EddsaKey:
    return eddsa.EddsaKey(bytes.fromhex(KEYS[name]["private_key"][2:]))


def message_of(vector: dict[str, Any]) -> tuple[DeviceMessage, Domain]:
    schema = Schema.from_json(vector["schema"])
    payload = {name: int(value) for (name, _), value in zip(vector["schema"], vector["payload"], strict=True)}
    message = build_message(
        schema,
        int(vector["project"]),
        int(vector["config"]),
        vector["device"],
        int(vector["nonce"]),
        int(vector["timestamp"]),
        payload,
    )
    return message, Domain(chain_id=int(vector["chain_id"]), verifying_contract=Address(vector["device_registry"]))


def wire(vector: dict[str, Any]) -> bytes:
    return bytes.fromhex(vector["signature"]["wire"][2:])


def test_tags_are_the_documented_ascii() -> None:
    c = VECTORS["constants"]
    assert bjj.SIG_TAG == 0x70732E736967 == int(c["sig_tag"])
    assert bjj.BIND_TAG == 0x70732E62696E64 == int(c["bind_tag"])
    assert bjj.DEVICE_ID_PREFIX == b"ps.bjj" == bytes.fromhex(c["device_id_prefix"][2:])


@pytest.mark.parametrize("vector", VECTORS["keys"], ids=lambda v: v["name"])
def test_device_id_and_public_key_encoding(vector: dict[str, Any]) -> None:
    public = point(vector["public_key"])
    assert bjj.device_id(public) == vector["device_id"]
    digest = keccak(bjj.DEVICE_ID_PREFIX + bjj.encode_public_key(public))
    assert "0x" + digest.hex() == vector["device_id_hash"]
    assert vector["device_id"].lower() == "0x" + digest[-20:].hex()
    encoded = bjj.encode_public_key(public)
    assert "0x" + encoded.hex() == vector["public_key_hex"]
    assert bjj.decode_public_key(encoded) == public


@pytest.mark.parametrize("vector", VECTORS["messages"], ids=lambda v: v["name"])
def test_message_hash_signature_and_body(vector: dict[str, Any]) -> None:
    message, domain = message_of(vector)
    assert message_leaf(message.project, message) == int(vector["leaf"])
    m = bjj.signed_hash(message, domain)
    assert m == int(vector["m"])
    assert bjj.message_hash(domain.chain_id, domain.verifying_contract, message.config, int(vector["leaf"])) == m
    assert bjj.message_id(m) == vector["message_id"]
    k = key(vector["key"])
    signature = bjj.sign_message(k, message, domain)
    assert signature == wire(vector)
    assert bjj.signature_key_type(signature) == "bjj"
    assert bjj.verify_message_signature(message, domain, k.public, signature) == m
    body = bjj.bjj_body_dict(message, signature)
    assert json.dumps(body, separators=(",", ":")) == vector["body"]


@pytest.mark.parametrize("vector", VECTORS["bindings"], ids=lambda v: v["name"])
def test_binding_hash_and_signature(vector: dict[str, Any]) -> None:
    domain = Domain(chain_id=int(vector["chain_id"]), verifying_contract=Address(vector["device_registry"]))
    project, owner = int(vector["project"]), vector["owner"]
    m = bjj.binding_hash(domain.chain_id, domain.verifying_contract, project, owner)
    assert m == int(vector["m_bind"])
    k = key(vector["key"])
    assert bjj.device_id(k.public) == vector["device"]
    signature = bjj.sign_binding(k, domain, project, owner)
    assert signature == wire(vector)
    assert bjj.verify_binding_signature(domain, project, owner, k.public, signature) == m
    with pytest.raises(MessageError) as caught:
        bjj.verify_binding_signature(domain, project + 1, owner, k.public, signature)
    assert caught.value.code == "bad_signature"


def refused(message: DeviceMessage, domain: Domain, public: Point, signature: bytes) -> str:
    with pytest.raises(MessageError) as caught:
        bjj.verify_message_signature(message, domain, public, signature)
    return caught.value.code


def test_the_gateway_check_refuses_every_forgery() -> None:
    vector = MESSAGES["tracker_first"]
    message, domain = message_of(vector)
    k, signature = key(vector["key"]), wire(vector)
    other = key("label_station")
    # A tampered field, another chain, another deployment, another config: m changes.
    assert refused(dataclasses.replace(message, nonce=Nonce(message.nonce + 1)), domain, k.public, signature) == (
        "bad_signature"
    )
    assert refused(message, Domain(1, domain.verifying_contract), k.public, signature) == "bad_signature"
    registry = Address("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")
    assert refused(message, Domain(domain.chain_id, registry), k.public, signature) == "bad_signature"
    assert (
        refused(dataclasses.replace(message, config=ConfigVersion(2)), domain, k.public, signature) == "bad_signature"
    )
    # Another key: its device id is not the message's.
    assert refused(message, domain, other.public, signature) == "bad_signature"
    # Every bad vector is refused, including the small-order keys circomlibjs accepts.
    for bad in VECTORS["bad"]:
        public = point(bad["public_key"])
        forged = dataclasses.replace(message, device=bjj.device_id(public))
        sig = bytes.fromhex(bad["signature"]["wire"][2:])
        if int(bad["m"]) == int(vector["m"]):
            assert refused(forged, domain, public, sig) == "bad_signature", bad["name"]
    # Lengths: a secp256k1 signature is not a BabyJubJub one.
    assert refused(message, domain, k.public, signature[:65]) == "bad_signature"
    assert bjj.signature_key_type(signature[:65]) == "secp256k1"
    with pytest.raises(MessageError, match=r"65 .*, 96 .* or 64"):
        bjj.signature_key_type(signature[:63])


def test_signing_needs_the_keys_own_device_id() -> None:
    message, domain = message_of(MESSAGES["tracker_first"])
    with pytest.raises(MessageError, match="not this key"):
        bjj.sign_message(key("ones"), message, domain)


def test_invalid_public_keys_do_not_decode() -> None:
    for bad in VECTORS["bad"]:
        if not bad["key_valid"]:
            public = point(bad["public_key"])
            with pytest.raises(MessageError) as caught:
                bjj.decode_public_key(public[0].to_bytes(32, "big") + public[1].to_bytes(32, "big"))
            assert caught.value.code == "invalid_field"
    with pytest.raises(MessageError):
        bjj.decode_public_key(b"\x00" * 63)


def test_hash_inputs_must_be_field_elements() -> None:
    registry = MESSAGES["tracker_first"]["device_registry"]
    with pytest.raises(MessageError):
        bjj.message_hash(2**254, registry, 1, 1)
    with pytest.raises(MessageError):
        bjj.binding_hash(1, "0x1234", 1, registry)


@settings(max_examples=5, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1))
def test_any_key_signs_what_the_gateway_accepts(private: bytes, nonce: int, lat: int) -> None:
    k = eddsa.EddsaKey(private)
    vector = dict(MESSAGES["tracker_first"], device=bjj.device_id(k.public), nonce=str(nonce), payload=[str(lat), "7"])
    message, domain = message_of(vector)
    signature = bjj.sign_message(k, message, domain)
    assert bjj.verify_message_signature(message, domain, k.public, signature) == bjj.signed_hash(message, domain)
