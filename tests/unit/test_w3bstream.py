"""W3bStream v0.25 digests and signers (domain/w3bstream.py) against the golden vectors that
scripts/vectors/w3bstream.py makes with go-ethereum's rules on eth_keys, and the decoder under fuzzing: any bytes
are either a request or a MessageError with a code, never another exception."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testbed import golden

from proofstream.domain import w3bstream
from proofstream.domain.messages import SECP256K1_N, DeviceMessage, message_id
from proofstream.domain.schema import Field, Schema
from proofstream.domain.types import ConfigVersion, Nonce, ProjectId, Timestamp
from proofstream.errors import MessageError

VECTORS = golden("w3bstream.json")["vectors"]
SCHEMA = Schema(payload=(Field("lat", "uint32"), Field("lon", "uint32")))
CONFIG = w3bstream.W3bConfig(keys=(("lat", "lat"), ("lon", "lon")), timestamp="timestamp")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_vectors(vector: dict[str, str]) -> None:
    request = w3bstream.parse_request(vector["body"].encode())
    assert w3bstream.signed_bytes(request).decode() == vector["signed"]
    digest = w3bstream.digest(request, tuple(vector["signed_keys"]))
    assert ("0x" + digest.hex(), message_id(digest)) == (vector["digest"], vector["id"])
    signers = w3bstream.signers(digest, request.signature)
    assert vector["address"] in {s.address for s in signers}
    # Every candidate's signature is low s, so a twin and its original store the very same bytes.
    assert all(int.from_bytes(s.signature[32:64], "big") <= SECP256K1_N // 2 for s in signers)


def first_vector() -> tuple[w3bstream.W3bRequest, bytes, w3bstream.Signer, str]:
    """The first vector's request, digest, its device's signer and the envelope the gateway keeps."""
    request = w3bstream.parse_request(VECTORS[0]["body"].encode())
    digest = w3bstream.digest(request)
    signer = next(s for s in w3bstream.signers(digest, request.signature) if s.address == VECTORS[0]["address"])
    return request, digest, signer, w3bstream.envelope(request, (), signer)


def test_the_envelope_checks_out_and_a_tampered_one_does_not() -> None:
    vector = VECTORS[0]
    _, digest, _, envelope = first_vector()
    assert w3bstream.open_envelope(envelope) == (digest, vector["address"])
    tampered = json.loads(envelope)
    tampered["signed"] = tampered["signed"].replace("123456789", "123456788")
    assert w3bstream.open_envelope(json.dumps(tampered))[1] != vector["address"]
    with pytest.raises(MessageError):
        w3bstream.open_envelope('{"format": "other"}')


def test_go_compact_keeps_strings_and_escapes_html() -> None:
    assert w3bstream.go_compact('{ "a" : "x y<&>\\"z" ,\n "b": [1, 2.50] }') == (
        '{"a":"x y\\u003c\\u0026\\u003e\\"z","b":[1,2.50]}'
    )


def test_a_hex_payload_whose_bytes_are_json_is_refused() -> None:
    body = '{"nonce": 1, "projectID": "1", "payload": "31323334", "signature": "0x' + "11" * 64 + '"}'
    with pytest.raises(MessageError, match="themselves JSON"):
        w3bstream.parse_request(body.encode())


def test_a_hex_payload_of_the_wrong_length_is_a_schema_mismatch() -> None:
    body = '{"nonce": 1, "projectID": "1", "payload": "00ff", "signature": "0x' + "11" * 64 + '"}'
    request = w3bstream.parse_request(body.encode())
    with pytest.raises(MessageError) as refused:
        w3bstream.payload_values(request, SCHEMA, CONFIG, 0)
    assert refused.value.code == "schema_mismatch"


def test_deep_nesting_is_refused_before_decoding() -> None:
    body = '{"payload": ' + "[" * 10_000 + "]" * 10_000 + "}"
    with pytest.raises(MessageError) as refused:
        w3bstream.parse_request(body.encode())
    assert refused.value.code == "invalid_json"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _checked(raw: bytes) -> None:
    try:
        request = w3bstream.parse_request(raw)
    except MessageError as exc:
        assert exc.code in {"invalid_json", "invalid_field"}
        return
    # What parses can be signed over and read as the schema, or is refused with a code.
    w3bstream.signed_bytes(request)
    try:
        w3bstream.payload_values(request, SCHEMA, CONFIG, 0)
        w3bstream.signers(w3bstream.digest(request, ("timestamp",)), request.signature)
    except MessageError as exc:
        assert exc.code in {"invalid_field", "schema_mismatch", "bad_signature"}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_garbage_bytes(raw: bytes) -> None:
    _checked(raw)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["nonce", "projectID", "projectVersion", "payload", "signature", "other"]),
        JSON_VALUES | st.just("0x" + "ab" * 64) | st.just("1") | st.just({"lat": 1, "lon": 2, "timestamp": 3}),
        max_size=6,
    )
)
def test_fuzz_request_shaped_objects(body: dict[str, object]) -> None:
    _checked(json.dumps(body).encode())


def test_an_attester_refuses_a_message_its_envelope_did_not_sign() -> None:
    request, _, signer, envelope = first_vector()
    payload, timestamp = w3bstream.payload_values(request, SCHEMA, CONFIG, 0)
    honest = DeviceMessage(
        SCHEMA,
        ProjectId(1),
        ConfigVersion(1),
        signer.address,
        Nonce(request.nonce),
        Timestamp(timestamp),
        payload,
        signer.signature,
    )
    w3bstream.check_envelope(envelope, honest, CONFIG)
    swapped = replace(honest, payload=(payload[1], payload[0]))  # what a gateway might have "mapped"
    with pytest.raises(MessageError, match="not what its W3bStream envelope signed"):
        w3bstream.check_envelope(envelope, swapped, CONFIG)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.integers() | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3), max_leaves=6))
def test_go_compact_of_compact_json_is_the_character_scan(value: object) -> None:
    """The shortcut for text with nothing to drop or escape gives what the character-by-character rewrite does."""
    for text in (json.dumps(value, separators=(",", ":"), ensure_ascii=False), json.dumps(value)):
        scanned = "".join(
            w3bstream._GO_ESCAPES.get(ch, ch) if inside else ch
            for ch, inside in w3bstream._chars(text)
            if inside or ch not in " \t\n\r"
        )
        assert w3bstream.go_compact(text) == scanned
