"""W3bStream v0.25 device messages: the API node's ``POST /v1/task`` body, its sha256 digest, the signer.

A fleet running W3bStream firmware signs ``sha256`` of its request as Go's ``json.Marshal`` writes it without the
signature (``{"nonce":N,"projectID":"P","projectVersion":"V","payload":...}``, ``projectVersion`` left out when
empty), and, when the project lists ``signedKeys``, ``sha256`` of that hash followed by each key's payload value as
a little-endian uint64. The signature is 64 bytes ``r || s`` without a recovery id: the signer is whichever of the
two keys recovered with ids 0 and 1 is a device of the project (docs/protocol.md, "W3bStream endpoint").

Unlike proofstream's own messages the digest binds no chain and no contract: the gateway's check is all there is
(README, "Trust model"). What the device signed is kept as an *envelope* beside the message, so anyone holding the
stored message can check the signature again (:func:`open_envelope`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import coincurve
from eth_utils.address import to_checksum_address

from proofstream.domain.eip712 import checksum_address, keccak
from proofstream.domain.messages import SECP256K1_N, DeviceMessage, no_constants, no_duplicate_keys
from proofstream.domain.schema import PayloadValue, Schema
from proofstream.domain.types import Address
from proofstream.errors import MessageError

FORMAT = "w3bstream-0.25"
"""The ``format`` of an envelope: which rules its digest follows."""

RECEIVED = "received"
"""``[w3bstream] timestamp = "received"``: the message's timestamp is the gateway's clock when it arrives."""

BODY_KEYS = frozenset({"nonce", "projectID", "projectVersion", "payload", "signature"})
MAX_SIGNED_KEYS = 16
MAX_DEPTH = 8
"""Most objects/arrays a request may nest: a deeper one is refused before it reaches the JSON decoder's stack."""

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_VERSION = re.compile(r"[0-9A-Za-z._-]{0,64}")
"""projectVersion: only characters that Go's json.Marshal writes as themselves, so the signed bytes are certain."""
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{128}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_CHANGES = re.compile("[ \t\n\r<>&\u2028\u2029]")
"""Any character :func:`go_compact` might drop or escape: without one, the text is already what Go writes."""


@dataclass(frozen=True)
class W3bConfig:
    """A project version's ``[w3bstream]`` section: how a W3bStream payload becomes a message of its schema."""

    keys: tuple[tuple[str, str], ...]
    """(schema field, payload key) for every payload field of the schema; a key is a dotted path into nested
    objects, as W3bStream's gjson paths are."""
    timestamp: str = RECEIVED
    """The payload key holding the unix-seconds timestamp, or :data:`RECEIVED` for the gateway's clock."""
    signed_keys: tuple[str, ...] = ()
    """W3bStream's ``signedKeys`` (type uint64), in the order their values follow the hash."""

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": [list(pair) for pair in self.keys],
            "timestamp": self.timestamp,
            "signedKeys": list(self.signed_keys),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> W3bConfig:
        return cls(
            keys=tuple((str(f), str(k)) for f, k in data["keys"]),
            timestamp=str(data["timestamp"]),
            signed_keys=tuple(str(k) for k in data["signedKeys"]),
        )


@dataclass(frozen=True)
class W3bRequest:
    """A parsed ``POST /v1/task`` body."""

    nonce: int
    project_id: str
    """As sent (decimal digits): the digest signs the text, not the number."""
    project_version: str
    payload: bytes
    """The payload's JSON text as sent, or the bytes its hex string decodes to."""
    payload_is_json: bool
    signature: bytes
    """64 bytes ``r || s``."""

    @property
    def project(self) -> int:
        return int(self.project_id)

    def payload_object(self) -> Any:
        return json.loads(self.payload) if self.payload_is_json else None


@dataclass(frozen=True)
class Signer:
    """One candidate signer of a digest: the address and the 65-byte ``r || s || v`` (low s) that recovers it."""

    address: Address
    signature: bytes


_DECODER = json.JSONDecoder(object_pairs_hook=no_duplicate_keys, parse_constant=no_constants)


def _chars(text: str) -> Iterator[tuple[str, bool]]:
    """Each character of JSON text, and whether it lies inside a string (a closing quote does, an opening not)."""
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            yield ch, True
        else:
            in_string = ch == '"'
            yield ch, False


def _depth(text: str) -> int:
    """Deepest nesting of objects and arrays outside strings (a cheap scan before decoding)."""
    depth = top = 0
    for ch, inside in _chars(text):
        if inside:
            continue
        if ch in "{[":
            depth += 1
            top = max(top, depth)
        elif ch in "}]":
            depth -= 1
    return top


def _members(text: str) -> dict[str, tuple[Any, str]]:
    """The top-level object's members: key -> (value, the value's JSON text exactly as sent)."""
    i = _skip(text, 0)
    if i >= len(text) or text[i] != "{":
        raise MessageError("the request must be a JSON object", code="invalid_json")
    members: dict[str, tuple[Any, str]] = {}
    i = _skip(text, i + 1)
    if i < len(text) and text[i] == "}":
        return members
    while True:
        if i >= len(text) or text[i] != '"':
            raise MessageError("expected a key in the request object", code="invalid_json")
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if i >= len(text) or text[i] != ":":
            raise MessageError(f"expected ':' after key {key!r}", code="invalid_json")
        start = _skip(text, i + 1)
        value, i = _DECODER.raw_decode(text, start)
        if key in members:
            raise MessageError(f"duplicate key {key!r} in the request", code="invalid_json")
        members[key] = (value, text[start:i])
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if i < len(text) and text[i] == "}" and _skip(text, i + 1) == len(text):
            return members
        raise MessageError("the request is not one JSON object", code="invalid_json")


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n\r":
        i += 1
    return i


def parse_request(raw: bytes) -> W3bRequest:
    """Parse a ``POST /v1/task`` body strictly; MessageError ``invalid_json`` or ``invalid_field`` says why."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError("the request is not UTF-8", code="invalid_json") from exc
    # Fewer brackets in all than the limit cannot nest deeper: the character scan is for the rest.
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth(text) > MAX_DEPTH:
        raise MessageError(f"the request nests more than {MAX_DEPTH} objects or arrays", code="invalid_json")
    try:
        members = _members(text)
    except json.JSONDecodeError as exc:
        raise MessageError(f"the request is not valid JSON: {exc.msg} at {exc.pos}", code="invalid_json") from exc
    unknown = set(members) - BODY_KEYS
    if unknown:
        raise MessageError(
            f"unknown keys {sorted(unknown)}: a task has nonce, projectID, projectVersion, payload and signature "
            "(none other is signed)",
            code="invalid_json",
        )
    for required in ("nonce", "projectID", "payload", "signature"):
        if required not in members:
            raise MessageError(f"the request has no {required}", code="invalid_field")
    nonce = members["nonce"][0]
    if isinstance(nonce, bool) or not isinstance(nonce, int) or not 0 <= nonce < 2**64:
        raise MessageError("nonce must be an integer from 0 to 2^64-1", code="invalid_field")
    project_id = members["projectID"][0]
    if not isinstance(project_id, str) or not _DECIMAL.fullmatch(project_id) or int(project_id) >= 2**64:
        raise MessageError("projectID must be the project id as a decimal string", code="invalid_field")
    version = members.get("projectVersion", ("", ""))[0]
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise MessageError(
            "projectVersion must be a string of at most 64 letters, digits, '.', '_' or '-'", code="invalid_field"
        )
    signature = members["signature"][0]
    if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
        raise MessageError("signature must be 0x and 64 bytes (r || s) in hex", code="invalid_field")
    value, payload_text = members["payload"]
    if isinstance(value, dict):
        payload, is_json = payload_text.encode(), True
    elif isinstance(value, str) and _HEX.fullmatch(value):
        payload, is_json = bytes.fromhex(value), False
        if _is_json(payload):
            # Go would sign these bytes as JSON, not as hex (CreateTaskReq.MarshalJSON): refuse the ambiguity.
            raise MessageError(
                "the hex payload's bytes are themselves JSON, which W3bStream signs as JSON: send them as a JSON "
                "object",
                code="invalid_field",
            )
    else:
        raise MessageError("payload must be a JSON object or a non-empty hex string", code="invalid_field")
    return W3bRequest(nonce, project_id, version, payload, is_json, bytes.fromhex(signature[2:]))


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError both
        return False
    return True


def go_compact(text: str) -> str:
    """What Go's ``json.Marshal`` makes of a ``json.RawMessage``: insignificant whitespace dropped, and ``<``,
    ``>``, ``&``, U+2028 and U+2029 written as ``\\u`` escapes (Go's HTML-safe default); the rest as sent."""
    if not _GO_CHANGES.search(text):  # what firmware usually sends: already compact, nothing to escape
        return text
    return "".join(
        _GO_ESCAPES.get(ch, ch) if inside else ch for ch, inside in _chars(text) if inside or ch not in " \t\n\r"
    )


def signed_bytes(request: W3bRequest) -> bytes:
    """The request as W3bStream's API node marshals it without its signature: the bytes sha256 is taken of."""
    payload = go_compact(request.payload.decode()) if request.payload_is_json else '"' + request.payload.hex() + '"'
    version = f',"projectVersion":"{request.project_version}"' if request.project_version else ""
    return f'{{"nonce":{request.nonce},"projectID":"{request.project_id}"{version},"payload":{payload}}}'.encode()


def lookup(payload: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a JSON payload; MessageError ``invalid_field`` if there is none."""
    value = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise MessageError(f"the payload has no {path!r}", code="invalid_field")
        value = value[part]
    return value


def _uint64(payload: Any, path: str) -> int:
    value = lookup(payload, path)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise MessageError(f"payload {path!r} must be an integer from 0 to 2^64-1", code="invalid_field")
    return value


def digest(request: W3bRequest, signed_keys: tuple[str, ...] = ()) -> bytes:
    """sha256 of :func:`signed_bytes`, then with ``signed_keys``: sha256(that || each key's value, uint64 LE)."""
    first = hashlib.sha256(signed_bytes(request)).digest()
    if not signed_keys:
        return first
    if not request.payload_is_json:
        raise MessageError("the project's signedKeys are read from a JSON payload, not a hex one", code="invalid_field")
    payload = request.payload_object()
    tail = b"".join(_uint64(payload, key).to_bytes(8, "little") for key in signed_keys)
    return hashlib.sha256(first + tail).digest()


def signers(message_digest: bytes, signature: bytes) -> list[Signer]:
    """The addresses recovered with recovery ids 0 and 1, each with its 65-byte low-s signature.

    A high ``s`` is the same signature as its low twin with the other recovery id: both give the same two
    candidates, so a twin is the same message. MessageError ``bad_signature`` when ``r`` or ``s`` is out of range
    or nothing recovers."""
    return list(iter_signers(message_digest, signature))


def iter_signers(message_digest: bytes, signature: bytes) -> Iterator[Signer]:
    """:func:`signers` one at a time, each recovered only when asked for: the gateway stops at the first that is
    a device of the project, which is usually recovery id 0's (one recovery instead of two)."""
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    if len(signature) != 64 or not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        raise MessageError("signature r and s must lie in 1..n-1", code="bad_signature")
    flip = s > SECP256K1_N // 2
    low = signature[:32] + (SECP256K1_N - s if flip else s).to_bytes(32, "big")
    found = False
    for recovery in (0, 1):
        try:
            key = coincurve.PublicKey.from_signature_and_message(low + bytes([recovery]), message_digest, hasher=None)
        except Exception:  # coincurve raises a bare Exception when no key recovers
            continue
        found = True
        yield Signer(_address(key), low + bytes([27 + recovery]))
    if not found:
        raise MessageError("no key recovers from the signature", code="bad_signature")


def payload_values(
    request: W3bRequest, schema: Schema, config: W3bConfig, received: int
) -> tuple[tuple[PayloadValue, ...], int]:
    """The schema's payload values and the message's timestamp, read as the project's ``[w3bstream]`` says.

    A JSON payload is read by key. A hex payload is the schema's fields packed big-endian in schema order, each
    its width, after an 8-byte big-endian timestamp unless the timestamp is the gateway's (``received``)."""
    if request.payload_is_json:
        payload = request.payload_object()
        keys = dict(config.keys)
        values = tuple(f.check(lookup(payload, keys.get(f.name, f.name))) for f in schema.payload)
        timestamp = received if config.timestamp == RECEIVED else _uint64(payload, config.timestamp)
        return values, timestamp
    data = request.payload
    widths = ([] if config.timestamp == RECEIVED else [8]) + [f.bits // 8 for f in schema.payload]
    if len(data) != sum(widths):
        raise MessageError(
            f"a hex payload of this project is {sum(widths)} bytes (timestamp and fields packed big-endian), "
            f"not {len(data)}",
            code="schema_mismatch",
        )
    numbers: list[int] = []
    at = 0
    for width in widths:
        numbers.append(int.from_bytes(data[at : at + width], "big"))
        at += width
    timestamp = received if config.timestamp == RECEIVED else numbers.pop(0)
    packed = tuple(
        f.check(to_checksum_address(n.to_bytes(20, "big")) if f.type == "address" else n)
        for f, n in zip(schema.payload, numbers, strict=True)
    )
    return packed, timestamp


def envelope(request: W3bRequest, signed_keys: tuple[str, ...], signer: Signer) -> str:
    """What the device signed, kept beside the stored message: enough to check the signature again."""
    return json.dumps(
        {
            "format": FORMAT,
            "signed": signed_bytes(request).decode(),
            "signedKeys": list(signed_keys),
            "signature": "0x" + signer.signature.hex(),
        },
        separators=(",", ":"),
    )


def open_envelope(text: str) -> tuple[bytes, Address]:
    """Check an envelope again: its digest, and the address its signature recovers to."""
    _, message_digest, signer = _open(text)
    return message_digest, signer


def _open(text: str) -> tuple[W3bRequest, bytes, Address]:
    """The envelope's request, digest and signer."""
    try:
        data: Mapping[str, Any] = json.loads(text)
        signed = str(data["signed"]).encode()
        keys = tuple(str(k) for k in data["signedKeys"])
        signature = bytes.fromhex(str(data["signature"])[2:])
        if data.get("format") != FORMAT or len(signature) != 65 or signature[64] not in (27, 28):
            raise ValueError(f"not a {FORMAT} envelope")
    except (ValueError, KeyError, TypeError) as exc:
        raise MessageError(f"the envelope does not parse: {exc}", code="bad_signature") from exc
    request = parse_request(signed[:-1] + b',"signature":"0x' + signature[:64].hex().encode() + b'"}')
    if signed_bytes(request) != signed:
        raise MessageError("the envelope's signed bytes are not as W3bStream marshals them", code="bad_signature")
    message_digest = digest(request, keys)
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([signature[64] - 27]), message_digest, hasher=None
        )
    except Exception as exc:  # coincurve raises a bare Exception when no key recovers
        raise MessageError("the envelope's signature recovers no key", code="bad_signature") from exc
    return request, message_digest, _address(key)


def check_envelope(text: str, message: DeviceMessage, config: W3bConfig) -> None:
    """Check a stored W3bStream message against its envelope, as an attester does: the signature recovers the
    message's device, and the nonce, project, payload and (unless the gateway's clock set it) timestamp are what
    the signed request says under ``config``. MessageError ``bad_signature`` otherwise."""
    request, _, signer = _open(text)
    payload, timestamp = payload_values(request, message.schema, config, message.timestamp)
    found = (signer, request.nonce, request.project, payload, timestamp)
    wanted = (message.device, message.nonce, message.project, message.payload, message.timestamp)
    if found != wanted:
        raise MessageError(
            f"the message is not what its W3bStream envelope signed: (device, nonce, project, payload, timestamp) "
            f"{wanted} against {found}",
            code="bad_signature",
        )


def _address(key: coincurve.PublicKey) -> Address:
    return checksum_address("0x" + keccak(key.format(compressed=False)[1:])[-20:].hex())
