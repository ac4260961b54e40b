"""P-256 device keys against tests/vectors/p256.json, which npm elliptic and ethers made (scripts/vectors/p256.js),
independently of proofstream's Python and of the OpenSSL it signs with: keys, device ids, did:key, EIP-712
digests, RFC 6979 signatures bit for bit, and every bad signature refused."""

from __future__ import annotations

from typing import Any

import pytest
from testbed import DOMAIN, TRACKER_SCHEMA, by_name, golden

from proofstream.domain import did, p256
from proofstream.domain.eip712 import binding_digest
from proofstream.domain.messages import digest, message_id, parse_body
from proofstream.domain.schema import Field, Schema
from proofstream.domain.types import Address
from proofstream.errors import MessageError

VECTORS = golden("p256.json")
KEYS = by_name([dict(k, name=k["label"]) for k in VECTORS["keys"]])


def _key(label: str) -> p256.P256Key:
    return p256.P256Key(bytes.fromhex(KEYS[label]["private_key"][2:]))


def _point(vector: dict[str, Any]) -> p256.Point:
    return int(vector["x"], 16), int(vector["y"], 16)


def test_the_vectors_are_in_the_gateways_domain_and_curve() -> None:
    assert VECTORS["domain"] == DOMAIN.as_dict()
    assert int(VECTORS["constants"]["n"], 16) == p256.N and int(VECTORS["constants"]["p"], 16) == p256.P
    assert int(VECTORS["constants"]["half_n"], 16) == p256.HALF_N


@pytest.mark.parametrize("label", list(KEYS))
def test_keys_device_ids_and_did_keys(label: str) -> None:
    vector = KEYS[label]
    key = _key(label)
    assert key.public == _point(vector)
    assert p256.encode_public_key(key.public).hex() == vector["public_key"][2:]
    assert p256.decode_public_key(bytes.fromhex(vector["public_key"][2:])) == key.public
    assert p256.compress(key.public).hex() == vector["compressed"][2:]
    assert p256.decompress(bytes.fromhex(vector["compressed"][2:])) == key.public
    assert p256.device_id(key.public) == vector["device"]
    assert did.did_key_p256(key.public) == vector["did_key"]
    parsed = did.parse_did(vector["did_key"])
    assert (parsed.device, parsed.public_key, parsed.key_type) == (vector["device"], key.public, "p256")


@pytest.mark.parametrize("vector", VECTORS["messages"], ids=lambda v: v["name"])
def test_messages_digest_and_sign_exactly_as_elliptic(vector: dict[str, Any]) -> None:
    schema = Schema(payload=tuple(Field(name, kind) for name, kind in vector["schema"]))
    message = parse_body(vector["http_body"].encode(), lambda _p, _c: schema)
    assert digest(message, DOMAIN).hex() == vector["digest"][2:]
    assert message_id(digest(message, DOMAIN)) == vector["id"]
    key = _key(vector["key"])
    assert key.sign_digest(digest(message, DOMAIN)).hex() == vector["signature"][2:]  # RFC 6979 on both sides
    assert p256.verify_message_signature(message, DOMAIN, key.public, message.signature) == digest(message, DOMAIN)


def test_the_binding_digest_and_signature() -> None:
    (vector,) = VECTORS["bindings"]
    key = _key(vector["key"])
    owner = Address(vector["owner"])
    assert binding_digest(DOMAIN, vector["project"], p256.device_id(key.public), owner).hex() == vector["digest"][2:]
    signature = bytes.fromhex(vector["signature"][2:])
    assert key.sign_digest(bytes.fromhex(vector["digest"][2:])) == signature
    p256.verify_binding_signature(DOMAIN, vector["project"], owner, key.public, signature)
    with pytest.raises(MessageError, match="binding") as refused:
        p256.verify_binding_signature(DOMAIN, vector["project"] + 1, owner, key.public, signature)
    assert refused.value.code == "bad_signature"


@pytest.mark.parametrize("vector", VECTORS["bad"], ids=lambda v: v["name"])
def test_every_bad_signature_is_refused(vector: dict[str, Any]) -> None:
    raw_key = bytes.fromhex(vector["public_key"][2:])
    key = (int.from_bytes(raw_key[:32], "big"), int.from_bytes(raw_key[32:], "big"))
    signature = bytes.fromhex(vector["signature"][2:])
    assert vector["expect"] is False
    assert not p256.verify_digest(bytes.fromhex(vector["digest"][2:]), key, signature)


def test_a_high_s_is_what_elliptic_accepts_and_the_protocol_refuses() -> None:
    lenient = {v["name"] for v in VECTORS["bad"] if v["elliptic_verify"]}
    assert lenient == {"high_s"}


def test_malformed_keys_and_did_keys_are_refused() -> None:
    vector = KEYS["tracker"]
    with pytest.raises(MessageError, match="off the curve"):
        p256.decode_public_key(bytes.fromhex(vector["public_key"][2:-2] + "00"))
    with pytest.raises(MessageError, match="starting 0x02"):
        p256.decompress(b"\x04" + bytes(32))
    with pytest.raises(MessageError):
        p256.P256Key(p256.N.to_bytes(32, "big"))
    for bad in (
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",  # an Ed25519 did:key
        "did:key:" + vector["did_key_multibase"][1:],  # no multibase prefix
        "did:key:zDn0",  # 0 is not base58
        "did:web:example.com",
        "did:pkh:eip155:0:0x" + "11" * 20,
    ):
        with pytest.raises(MessageError) as refused:
            did.parse_did(bad)
        assert refused.value.code == "invalid_did", bad


def test_did_pkh_is_canonical_and_base58_round_trips() -> None:
    address = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    parsed = did.parse_did(f"did:pkh:eip155:31337:{address}")
    assert parsed.did == "did:pkh:eip155:31337:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert (parsed.chain_id, parsed.key_type, parsed.public_key) == (31337, "secp256k1", None)
    for data in (b"", b"\0\0\x01", bytes(range(40))):
        assert did.base58_decode(did.base58_encode(data)) == data


def test_a_generated_key_signs_what_it_verifies() -> None:
    key = p256.P256Key.generate()
    signature = key.sign_digest(bytes(32))
    assert int.from_bytes(signature[32:], "big") <= p256.HALF_N
    assert p256.verify_digest(bytes(32), key.public, signature)
    assert TRACKER_SCHEMA.payload  # the tracker schema the vectors use
