"""Device messages: the strict JSON body, the EIP-712 digest, the message id and signature recovery.

Everything here follows docs/protocol.md (wire format version 1). Parsing is strict on purpose: a body that
two parsers could read differently (duplicate keys, floats, booleans posing as numbers, NaN) is refused, so
the bytes a device signed and the fields a circuit reads can never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import coincurve
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from proofstream.domain import eddsa
from proofstream.domain.eip712 import Domain, typed_data_digest
from proofstream.domain.merkle import leaf_hash
from proofstream.domain.schema import HEADER, WIRE_VERSION, Field, PayloadValue, Schema
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, ProjectId, Timestamp
from proofstream.errors import MessageError

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""Order of the secp256k1 group; signatures with ``s > N/2`` are refused (EIP-2) so each message has one
signature, as OpenZeppelin's ECDSA and DeviceRegistry require."""

SIGNATURE_LENGTH = 65
"""``r || s || v`` with ``v`` in {27, 28}."""

SIGNATURE_LENGTH_BJJ = eddsa.SIGNATURE_BYTES
"""96: a BabyJubJub device's EdDSA-Poseidon ``R8x || R8y || S``, 32 bytes big-endian each (domain/bjj_messages.py, which
verifies them; :func:`check_signature` refuses them as ``bad_signature``)."""

SIGNATURE_LENGTH_P256 = 64
"""A P-256 device's ECDSA ``r || s``, 32 bytes big-endian each, low ``s``, over the same EIP-712 digest
(domain/p256.py, which verifies them under the registered key; :func:`check_signature` refuses them)."""

SIGNATURE_LENGTHS = (SIGNATURE_LENGTH, SIGNATURE_LENGTH_BJJ, SIGNATURE_LENGTH_P256)
"""Wire signatures by length: secp256k1, BabyJubJub or P-256."""

BODY_KEYS = (*(f.name for f in HEADER), "payload", "signature")
"""Top-level keys of the JSON body, in the canonical order :func:`to_body` writes them."""

SchemaLookup = Callable[[ProjectId, ConfigVersion], Schema | None]
"""Finds the schema a (project, config) signs under; ``None`` when the gateway does not know it. A lookup may
instead raise its own :class:`MessageError` to say more precisely what is unknown."""

MAX_CONTAINERS = 8
"""Most JSON objects/arrays a body may open. A message has two (the body and its payload); refusing more
before parsing keeps a deeply nested body from exhausting the C stack of the JSON decoder."""

_HEADER_FIELDS = {f.name: f for f in HEADER}


@dataclass(frozen=True)
class DeviceMessage:
    """One device message: the header, the payload in schema order, and its signature.

    The constructor validates every value against its type (MessageError ``invalid_field``) and normalises the
    addresses to checksummed form, so two equal messages compare equal.
    """

    schema: Schema
    project: ProjectId
    config: ConfigVersion
    device: Address
    nonce: Nonce
    timestamp: Timestamp
    payload: tuple[PayloadValue, ...]
    signature: bytes = b""
    """65 bytes ``r || s || v`` (or a BabyJubJub device's 96); empty only while a message is being built for
    signing."""
    version: int = WIRE_VERSION

    def __post_init__(self) -> None:
        if self.version != WIRE_VERSION:
            raise MessageError(
                f"wire format version {self.version} is not supported (expected {WIRE_VERSION})",
                code="unsupported_version",
            )
        for f in HEADER[1:]:
            object.__setattr__(self, f.name, f.check(getattr(self, f.name)))
        if len(self.payload) != len(self.schema.payload):
            raise MessageError(
                f"payload has {len(self.payload)} values, the schema has {len(self.schema.payload)} fields",
                code="schema_mismatch",
            )
        payload = tuple(f.check(v) for f, v in zip(self.schema.payload, self.payload, strict=True))
        object.__setattr__(self, "payload", payload)
        if len(self.signature) not in (0, *SIGNATURE_LENGTHS):
            raise MessageError(
                f"a signature is {SIGNATURE_LENGTH} (or BabyJubJub {SIGNATURE_LENGTH_BJJ}, P-256 "
                f"{SIGNATURE_LENGTH_P256}) bytes",
                code="invalid_field",
            )

    @property
    def payload_dict(self) -> dict[str, PayloadValue]:
        return dict(zip(self.schema.payload_names, self.payload, strict=True))

    def values(self) -> tuple[PayloadValue, ...]:
        """Header then payload values, in the order of ``schema.fields`` (the EIP-712 struct)."""
        return (
            self.version,
            self.project,
            self.config,
            self.device,
            self.nonce,
            self.timestamp,
            *self.payload,
        )


def build_message(
    schema: Schema,
    project: int,
    config: int,
    device: str,
    nonce: int,
    timestamp: int,
    payload: dict[str, Any],
    signature: bytes = b"",
) -> DeviceMessage:
    """Build a message from a payload mapping, checking its keys against the schema (``schema_mismatch``)."""
    names = schema.payload_names
    if set(payload) != set(names):
        missing = sorted(set(names) - set(payload))
        extra = sorted(set(payload) - set(names))
        raise MessageError(
            f"payload keys do not match the schema: missing {missing}, extra {extra}", code="schema_mismatch"
        )
    return DeviceMessage(
        schema=schema,
        project=ProjectId(project),
        config=ConfigVersion(config),
        device=Address(device),
        nonce=Nonce(nonce),
        timestamp=Timestamp(timestamp),
        payload=tuple(payload[name] for name in names),
        signature=signature,
    )


# --- parsing ------------------------------------------------------------------------------------------------


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MessageError(f"duplicate key {key!r}", code="invalid_json")
        result[key] = value
    return result


def no_constants(name: str) -> Any:
    raise MessageError(f"{name} is not a JSON number", code="invalid_json")


def _load_json(raw: bytes) -> Any:
    # Counting brackets also counts any inside strings: harmless, a valid body has none there.
    if raw.count(b"{") + raw.count(b"[") > MAX_CONTAINERS:
        raise MessageError("body nests too many objects or arrays for a message", code="schema_mismatch")
    try:
        text = raw.decode("utf-8")
        return json.loads(text, object_pairs_hook=no_duplicate_keys, parse_constant=no_constants)
    except MessageError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers longer than Python's digit limit.
        raise MessageError(f"body is not valid UTF-8 JSON: {exc}", code="invalid_json") from exc


def _check_keys(obj: dict[str, Any], expected: tuple[str, ...], where: str) -> None:
    if set(obj) != set(expected):
        missing = [k for k in expected if k not in obj]
        extra = sorted(k for k in obj if k not in expected)
        raise MessageError(f"{where} keys do not match: missing {missing}, extra {extra}", code="schema_mismatch")


def _parse_signature(value: object) -> bytes:
    if (
        not isinstance(value, str)
        or not value.startswith("0x")
        or len(value) not in (2 + 2 * n for n in SIGNATURE_LENGTHS)
    ):
        raise MessageError(
            f"signature must be 0x-prefixed hex of {SIGNATURE_LENGTH} bytes (BabyJubJub: {SIGNATURE_LENGTH_BJJ}, "
            f"P-256: {SIGNATURE_LENGTH_P256})",
            code="invalid_field",
        )
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise MessageError("signature is not hex", code="invalid_field") from exc


def parse_body(raw: bytes, schema_for: SchemaLookup) -> DeviceMessage:
    """Parse an HTTP body strictly into a message (its signature is NOT checked here).

    Raises MessageError with code ``invalid_json`` (not UTF-8 JSON, duplicate keys, NaN),
    ``schema_mismatch`` (not an object, missing or extra keys at the top or in the payload),
    ``invalid_field`` (wrong JSON type, out-of-range value, bad hex), ``unsupported_version``, or
    ``unknown_project`` (``schema_for`` returned None).
    """
    obj = _load_json(raw)
    if not isinstance(obj, dict):
        raise MessageError("body must be a JSON object", code="schema_mismatch")
    _check_keys(obj, BODY_KEYS, "body")
    header = {name: f.check(obj[name]) for name, f in _HEADER_FIELDS.items()}
    if header["version"] != WIRE_VERSION:
        raise MessageError(
            f"wire format version {header['version']} is not supported (expected {WIRE_VERSION})",
            code="unsupported_version",
        )
    project, config = ProjectId(int(header["project"])), ConfigVersion(int(header["config"]))
    schema = schema_for(project, config)
    if schema is None:
        raise MessageError(f"project {project} config {config} is unknown here", code="unknown_project")
    payload = obj["payload"]
    if not isinstance(payload, dict):
        raise MessageError("payload must be a JSON object", code="schema_mismatch")
    _check_keys(payload, schema.payload_names, "payload")
    return build_message(
        schema,
        project,
        config,
        str(header["device"]),
        int(header["nonce"]),
        int(header["timestamp"]),
        payload,
        _parse_signature(obj["signature"]),
    )


# --- canonical encoding -------------------------------------------------------------------------------------


def body_dict(message: DeviceMessage) -> dict[str, Any]:
    """The JSON body as a dict, keys in canonical order."""
    if not message.signature:
        raise MessageError("an unsigned message has no body", code="invalid_field")
    return {
        "version": message.version,
        "project": message.project,
        "config": message.config,
        "device": message.device,
        "nonce": message.nonce,
        "timestamp": message.timestamp,
        "payload": message.payload_dict,
        "signature": "0x" + message.signature.hex(),
    }


def to_body(message: DeviceMessage) -> bytes:
    """Canonical JSON body: protocol key order, no spaces, checksummed addresses, lower-case signature hex.

    stdlib json, not orjson: payload fields may be up to 248 bits and orjson only writes 64-bit integers.
    """
    return json.dumps(body_dict(message), separators=(",", ":")).encode()


def payload_fields(message: DeviceMessage) -> tuple[int, ...]:
    """Payload values as integers in schema order: what the circuit reads after the header."""
    return tuple(f.as_int(v) for f, v in zip(message.schema.payload, message.payload, strict=True))


def message_leaf(project: int, message: DeviceMessage) -> int:
    """The message's leaf in its task's Poseidon Merkle tree (docs/protocol.md), under ``project``."""
    return leaf_hash(project, int(message.device, 16), message.nonce, message.timestamp, payload_fields(message))


# --- digest, id and signatures ------------------------------------------------------------------------------


def digest(message: DeviceMessage, domain: Domain) -> bytes:
    """The EIP-712 digest the device signs (docs/protocol.md)."""
    members = [(f.name, f.type) for f in message.schema.fields]
    return typed_data_digest(domain, message.schema.name, members, message.values())


def message_id(message_digest: bytes) -> MessageId:
    """``keccak256(digest)`` as 0x-hex: the same message always gets the same id, whoever sends it."""
    return MessageId("0x" + keccak(message_digest).hex())


def recover_device(message_digest: bytes, signature: bytes) -> Address:
    """The address whose key signed ``message_digest``; MessageError ``bad_signature`` if none.

    Refuses ``v`` outside {27, 28}, ``r``/``s`` out of range and high ``s`` before asking libsecp256k1.
    """
    if len(signature) != SIGNATURE_LENGTH:
        raise MessageError(f"a signature is {SIGNATURE_LENGTH} bytes", code="bad_signature")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise MessageError(f"signature v must be 27 or 28, got {v}", code="bad_signature")
    if not 0 < r < SECP256K1_N or not 0 < s <= SECP256K1_N // 2:
        raise MessageError("signature r/s out of range (high s is refused)", code="bad_signature")
    try:
        public = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), message_digest, hasher=None
        )
    except ValueError as exc:  # libsecp256k1 found no point for this r
        raise MessageError("signature does not recover a key", code="bad_signature") from exc
    return Address(to_checksum_address(keccak(public.format(compressed=False)[1:])[-20:]))


def check_signature(message: DeviceMessage, domain: Domain) -> bytes:
    """Return the message's digest if its signature recovers ``message.device``.

    MessageError ``bad_signature`` otherwise: a wrong key, a tampered field and a wrong domain all look the
    same (another address)."""
    message_digest = digest(message, domain)
    signer = recover_device(message_digest, message.signature)
    if signer != message.device:
        raise MessageError(f"signature is by {signer}, not by device {message.device}", code="bad_signature")
    return message_digest


__all__ = [
    "BODY_KEYS",
    "SIGNATURE_LENGTHS",
    "SIGNATURE_LENGTH_BJJ",
    "SIGNATURE_LENGTH_P256",
    "DeviceMessage",
    "Field",
    "SchemaLookup",
    "body_dict",
    "build_message",
    "check_signature",
    "digest",
    "message_id",
    "parse_body",
    "payload_fields",
    "recover_device",
    "to_body",
]
