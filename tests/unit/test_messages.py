"""Device messages: schema rules, strict parsing, canonical body, digest/id/recovery against golden vectors
made by eth_account (scripts/vectors/messages.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from testbed import DOMAIN, TRACKER_SCHEMA, golden

from proofstream.domain.eip712 import DOMAIN_MEMBERS, Domain
from proofstream.domain.messages import (
    SECP256K1_N,
    DeviceMessage,
    build_message,
    check_signature,
    digest,
    message_id,
    parse_body,
    payload_fields,
    recover_device,
    to_body,
)
from proofstream.domain.schema import HEADER, Field, Schema
from proofstream.domain.types import Address, ConfigVersion, Nonce, ProjectId
from proofstream.errors import MessageError
from proofstream.projects.scaffold import template_dir
from proofstream.projects.spec import load_project
from proofstream.sdk.device import DeviceKey

VECTORS = golden("messages.json")
TEMPLATE_SCHEMA = load_project(template_dir("tracker-distance")).schema
"""The schema of the tracker-distance template (the embedded demo project)."""


def tracker(_project: ProjectId, _config: ConfigVersion) -> Schema:
    return TRACKER_SCHEMA


def raw_body(vector: dict[str, Any]) -> bytes:
    return bytes.fromhex(vector["body_hex"]) if "body_hex" in vector else str(vector["body"]).encode()


def code_of(vector: dict[str, Any]) -> str:
    """Run the pure checks on a bad vector and return the error code."""
    with pytest.raises(MessageError) as caught:
        check_signature(parse_body(raw_body(vector), tracker), DOMAIN)
    return caught.value.code


# --- schemas ------------------------------------------------------------------------------------------------


def test_vector_schema_is_the_tracker_schema() -> None:
    assert Schema.from_json(VECTORS["payload"]) == TRACKER_SCHEMA == TEMPLATE_SCHEMA
    assert [[f.name, f.type] for f in TEMPLATE_SCHEMA.fields] == VECTORS["fields"]


def test_the_shared_domain_is_the_vectors() -> None:
    """testbed.DOMAIN, which the gateway and store tests sign in, is the domain the vectors are signed in."""
    vector = VECTORS["domain"]
    assert Domain(chain_id=vector["chainId"], verifying_contract=Address(vector["verifyingContract"])) == DOMAIN
    assert (DOMAIN.name, DOMAIN.version) == (vector["name"], vector["version"])


@pytest.mark.parametrize("type_", ["uint8", "uint64", "uint248", "address"])
def test_circuit_safe_types_are_allowed(type_: str) -> None:
    assert Field("x", type_).type == type_


@pytest.mark.parametrize(
    "type_",
    ["uint256", "uint7", "uint0", "uint", "int32", "bytes32", "string", "bool", "uint08", "address[]"],
)
def test_types_a_circuit_cannot_read_are_refused(type_: str) -> None:
    with pytest.raises(ValueError, match="only uint8"):
        Field("x", type_)


@pytest.mark.parametrize("name", ["nonce", "payload", "signature", "device"])
def test_payload_cannot_shadow_header_or_body_keys(name: str) -> None:
    with pytest.raises(ValueError, match="reserved"):
        Schema(payload=(Field(name, "uint8"),))


def test_duplicate_payload_names_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Schema(payload=(Field("a", "uint8"), Field("a", "uint16")))


@pytest.mark.parametrize("name", ["", "Lat", "1a", "a-b", "a" * 33])
def test_field_names_are_identifiers(name: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        Field(name, "uint8")


def test_schema_json_round_trip_and_refusals() -> None:
    schema = Schema(payload=(Field("a", "uint8"), Field("who", "address"), Field("big", "uint248")))
    assert Schema.from_json(json.loads(json.dumps(schema.to_json()))) == schema
    for bad in ({"a": "uint8"}, [["a"]], [["a", 8]]):
        with pytest.raises(ValueError):
            Schema.from_json(bad)


@settings(max_examples=50)
@given(st.integers(1, 31), st.integers(-(2**250), 2**250))
def test_uint_range_check_is_exact(width: int, value: int) -> None:
    field = Field("x", f"uint{width * 8}")
    if 0 <= value < 2 ** (width * 8):
        assert field.check(value) == value
    else:
        with pytest.raises(MessageError) as caught:
            field.check(value)
        assert caught.value.code == "invalid_field"


@pytest.mark.parametrize("value", [True, 1.0, "1", None, [1]])
def test_only_real_integers_pass_a_uint(value: object) -> None:
    with pytest.raises(MessageError, match="integer"):
        Field("x", "uint8").check(value)


def test_address_fields_are_checksummed_and_read_as_160_bit_integers() -> None:
    field = Field("who", "address")
    lower = VECTORS["valid"][0]["address"].lower()
    assert field.check(lower) == VECTORS["valid"][0]["address"]
    assert field.as_int(field.check(lower)) == int(lower, 16)


# --- golden vectors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: str(v["name"]))
def test_valid_vectors(vector: dict[str, Any]) -> None:
    message = parse_body(vector["body"].encode(), tracker)
    flat = vector["message"]
    assert message.values() == tuple(flat[f.name] for f in TEMPLATE_SCHEMA.fields)
    assert payload_fields(message) == (flat["lat"], flat["lon"])
    message_digest = digest(message, DOMAIN)
    assert "0x" + message_digest.hex() == vector["digest"]
    assert message_id(message_digest) == vector["id"]
    assert recover_device(message_digest, message.signature) == vector["address"]
    assert check_signature(message, DOMAIN) == message_digest
    assert to_body(message).decode() == vector["body"]  # canonical form is byte-exact


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: str(v["name"]))
def test_sdk_signature_equals_eth_account_signature(vector: dict[str, Any]) -> None:
    """Both sign deterministically (RFC 6979), so the SDK reproduces the reference body byte for byte."""
    flat = vector["message"]
    body = DeviceKey.from_hex(vector["key"]).sign_message(
        TEMPLATE_SCHEMA,
        DOMAIN,
        flat["project"],
        flat["config"],
        flat["nonce"],
        flat["timestamp"],
        {"lat": flat["lat"], "lon": flat["lon"]},
    )
    assert json.dumps(body, separators=(",", ":")) == vector["body"]


@pytest.mark.parametrize("vector", VECTORS["bad"], ids=lambda v: str(v["name"]))
def test_bad_vectors_give_their_error_code(vector: dict[str, Any]) -> None:
    assert code_of(vector) == vector["error"]


def test_bad_vectors_cover_every_signature_failure() -> None:
    names = {v["name"] for v in VECTORS["bad"] if v["error"] == "bad_signature"}
    assert {"garbage_signature", "wrong_signer", "high_s", "tampered_field", "wrong_chain_id"} <= names


def test_high_s_twin_is_a_valid_ecdsa_signature_that_we_still_refuse() -> None:
    """The high-s twin recovers the right key in a lax verifier: refusing it is a decision, not luck."""
    valid = VECTORS["valid"][0]
    high = next(v for v in VECTORS["bad"] if v["name"] == "high_s")
    signature = bytes.fromhex(json.loads(high["body"])["signature"][2:])
    assert Account._recover_hash(bytes.fromhex(valid["digest"][2:]), signature=signature) == valid["address"]
    with pytest.raises(MessageError, match="high s"):
        recover_device(bytes.fromhex(valid["digest"][2:]), signature)


@pytest.mark.parametrize("v", [0, 1, 26, 29, 35])
def test_v_must_be_27_or_28(v: int) -> None:
    valid = VECTORS["valid"][0]
    signature = bytes.fromhex(valid["signature"][2:])
    with pytest.raises(MessageError, match="27 or 28"):
        recover_device(bytes.fromhex(valid["digest"][2:]), signature[:64] + bytes([v]))


@pytest.mark.parametrize("r", [0, SECP256K1_N])
def test_r_out_of_range_is_refused(r: int) -> None:
    valid = VECTORS["valid"][0]
    signature = bytes.fromhex(valid["signature"][2:])
    with pytest.raises(MessageError) as caught:
        recover_device(bytes.fromhex(valid["digest"][2:]), r.to_bytes(32, "big") + signature[32:])
    assert caught.value.code == "bad_signature"


# --- strict parsing -----------------------------------------------------------------------------------------


def test_unknown_project_when_the_lookup_has_no_schema() -> None:
    with pytest.raises(MessageError) as caught:
        parse_body(VECTORS["valid"][0]["body"].encode(), lambda _p, _c: None)
    assert caught.value.code == "unknown_project"


def test_lookup_gets_the_project_and_config_of_the_body() -> None:
    seen: list[tuple[int, int]] = []

    def lookup(project: ProjectId, config: ConfigVersion) -> Schema:
        seen.append((project, config))
        return TRACKER_SCHEMA

    vector = VECTORS["valid"][2]
    parse_body(vector["body"].encode(), lookup)
    assert seen == [(vector["message"]["project"], vector["message"]["config"])]


def test_lower_case_device_is_accepted_and_canonicalised() -> None:
    vector = VECTORS["valid"][0]
    body = json.loads(vector["body"])
    body["device"] = body["device"].lower()
    message = parse_body(json.dumps(body, indent=1).encode(), tracker)
    assert message.device == vector["address"]
    assert to_body(message).decode() == vector["body"]


def test_upper_case_signature_hex_is_accepted() -> None:
    vector = VECTORS["valid"][0]
    body = json.loads(vector["body"])
    body["signature"] = "0x" + body["signature"][2:].upper()
    assert to_body(parse_body(json.dumps(body).encode(), tracker)).decode() == vector["body"]


def test_deeply_nested_json_is_invalid_not_a_crash() -> None:
    with pytest.raises(MessageError) as caught:
        parse_body(b"[" * 100_000 + b"]" * 100_000, tracker)
    assert caught.value.code in {"invalid_json", "schema_mismatch"}


def test_unsigned_message_has_no_body() -> None:
    message = build_message(TRACKER_SCHEMA, 1, 1, "0x" + "11" * 20, 0, 0, {"lat": 1, "lon": 2})
    with pytest.raises(MessageError, match="unsigned"):
        to_body(message)


def test_message_constructor_validates_every_field() -> None:
    message = build_message(TRACKER_SCHEMA, 1, 1, "0x" + "11" * 20, 0, 0, {"lat": 1, "lon": 2})
    with pytest.raises(MessageError):
        replace(message, nonce=Nonce(2**64))
    with pytest.raises(MessageError):
        replace(message, payload=(1,))
    with pytest.raises(MessageError):
        replace(message, signature=b"\x00" * 63)
    with pytest.raises(MessageError) as caught:
        replace(message, version=2)
    assert caught.value.code == "unsupported_version"
    with pytest.raises(MessageError) as caught:
        build_message(TRACKER_SCHEMA, 1, 1, "0x" + "11" * 20, 0, 0, {"lat": 1})
    assert caught.value.code == "schema_mismatch"


# --- properties against eth_account -------------------------------------------------------------------------

WIDE = Schema(payload=(Field("a", "uint8"), Field("b", "uint248"), Field("owner", "address"), Field("c", "uint64")))
KEY = DeviceKey.from_hex(VECTORS["valid"][0]["key"])


@settings(max_examples=40, deadline=None)
@given(
    project=st.integers(0, 2**64 - 1),
    config=st.integers(0, 2**32 - 1),
    nonce=st.integers(0, 2**64 - 1),
    timestamp=st.integers(0, 2**64 - 1),
    a=st.integers(0, 255),
    b=st.integers(0, 2**248 - 1),
    owner=st.binary(min_size=20, max_size=20),
    c=st.integers(0, 2**64 - 1),
    chain_id=st.integers(1, 2**64),
)
def test_any_message_round_trips_and_hashes_like_eth_account(
    project: int, config: int, nonce: int, timestamp: int, a: int, b: int, owner: bytes, c: int, chain_id: int
) -> None:
    domain = Domain(chain_id=chain_id, verifying_contract=DOMAIN.verifying_contract)
    payload = {"a": a, "b": b, "owner": "0x" + owner.hex(), "c": c}
    body = KEY.sign_message(WIDE, domain, project, config, nonce, timestamp, payload)
    raw = json.dumps(body).encode()
    message = parse_body(raw, lambda _p, _c: WIDE)
    assert parse_body(to_body(message), lambda _p, _c: WIDE) == message
    assert payload_fields(message) == (a, b, int.from_bytes(owner, "big"), c)
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_MEMBERS],
                "Message": [{"name": f.name, "type": f.type} for f in WIDE.fields],
            },
            "primaryType": "Message",
            "domain": domain.as_dict(),
            "message": dict(zip([f.name for f in WIDE.fields], message.values(), strict=True)),
        }
    )
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert check_signature(message, domain) == expected
    assert Account.recover_message(signable, signature=message.signature) == KEY.address


def test_header_is_the_protocol_header() -> None:
    assert [(f.name, f.type) for f in HEADER] == [
        ("version", "uint8"),
        ("project", "uint64"),
        ("config", "uint32"),
        ("device", "address"),
        ("nonce", "uint64"),
        ("timestamp", "uint64"),
    ]


def test_equal_messages_compare_equal_whatever_the_address_case() -> None:
    upper = build_message(TRACKER_SCHEMA, 1, 1, "0x" + "AB" * 20, 0, 0, {"lat": 1, "lon": 2})
    lower = build_message(TRACKER_SCHEMA, 1, 1, "0x" + "ab" * 20, 0, 0, {"lat": 1, "lon": 2})
    assert upper == lower
    assert isinstance(upper, DeviceMessage)


def test_integers_beyond_the_digit_limit_are_invalid_json_not_a_crash() -> None:
    body = VECTORS["valid"][0]["body"].replace('"nonce":0', '"nonce":' + "9" * 5000)
    with pytest.raises(MessageError) as caught:
        parse_body(body.encode(), tracker)
    assert caught.value.code == "invalid_json"
