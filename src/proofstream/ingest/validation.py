"""Admission of a device message (parse -> known project/config -> signature -> device allowed in the project) and
of a device registration request (parse -> binding signature).

Pure apart from the lookups it is handed (a :class:`Directory`, which the store satisfies). Every refusal is a
MessageError whose ``code`` the transports (HTTP, MQTT) map to their own status; nothing is written here, so a
refused message leaves no trace in the store.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from proofstream.domain import bjj_messages, p256
from proofstream.domain.babyjub import Point
from proofstream.domain.device_signatures import verify_device_signature
from proofstream.domain.eip712 import Domain, binding_digest
from proofstream.domain.messages import DeviceMessage, digest, message_id, parse_body, recover_device
from proofstream.domain.schema import Field, Schema
from proofstream.domain.types import Address, ConfigVersion, MessageId, ProjectId
from proofstream.domain.vouchers import ZERO_ADDRESS, Permit, Terms, Voucher, permit_digest, voucher_digest
from proofstream.errors import MessageError
from proofstream.ports import DeviceRegistrationRequest
from proofstream.store.ports import ProjectConfig

logger = logging.getLogger(__name__)

_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")


class Directory(Protocol):
    """What admission needs to know: projects with their configs, and which devices belong where."""

    def get_project(self, project: ProjectId, config: ConfigVersion) -> ProjectConfig | None: ...

    def project_configs(self, project: ProjectId | None = None) -> list[ProjectConfig]: ...

    def device_projects(self, device: Address) -> set[ProjectId]: ...

    def device_key(self, project: ProjectId, device: Address) -> tuple[int, int] | None:
        """The public key the registry holds for ``device`` in ``project``: BabyJubJub or P-256, the device id
        tells which (None: not registered there, or a secp256k1 device)."""
        ...


@dataclass(frozen=True)
class Admitted:
    """A message that passed every check, with what storing it needs."""

    message: DeviceMessage
    digest: bytes
    id: MessageId
    project: ProjectConfig
    envelope: str | None = None
    """What the device signed when that is not the message's own digest (a W3bStream message's request,
    ``domain.w3bstream.envelope``): stored beside the message, for receipts and attesters."""


def admit(raw: bytes, directory: Directory) -> Admitted:
    """Check a raw body end to end; raise MessageError with a specific ``code`` at the first failure.

    Codes, in the order checked: ``invalid_json``, ``schema_mismatch``, ``invalid_field``,
    ``unsupported_version``, ``unknown_project``, ``unknown_config``, ``bad_signature``, ``unknown_device``,
    ``device_not_in_project``.
    """
    checked = parse_for_recovery(raw, directory)
    if isinstance(checked, Admitted):
        return checked
    return admit_recovered(checked, recover_device(checked.digest, checked.message.signature), directory)


@dataclass(frozen=True)
class Unrecovered:
    """A secp256k1-signed message that passed :func:`admit`'s checks up to its signature: what recovering the
    signer needs (its digest and signature), which may happen elsewhere (``ingest.recovery``, for a batch)."""

    message: DeviceMessage
    digest: bytes
    project: ProjectConfig


def parse_for_recovery(raw: bytes, directory: Directory) -> Unrecovered | Admitted:
    """:func:`admit`'s checks up to the signature: a secp256k1 message comes back :class:`Unrecovered`, for
    :func:`admit_recovered` once its signer is known; a BabyJubJub or P-256 one, whose key comes from the registry,
    is admitted whole. MessageError as :func:`admit`."""
    found: list[ProjectConfig] = []

    def schema_for(project: ProjectId, config: ConfigVersion) -> Schema:
        project_config = directory.get_project(project, config)
        if project_config is None:
            if directory.project_configs(project):
                raise MessageError(f"project {project} has no config version {config}", code="unknown_config")
            raise MessageError(f"project {project} is unknown", code="unknown_project")
        found.append(project_config)
        return project_config.schema

    message = parse_body(raw, schema_for)
    project_config = found[0]
    if bjj_messages.signature_key_type(message.signature) != "secp256k1":
        return _admit_registered_key(message, project_config, directory)
    return Unrecovered(message, digest(message, project_config.domain), project_config)


def admit_recovered(checked: Unrecovered, signer: Address, directory: Directory) -> Admitted:
    """The rest of :func:`admit` once ``signer`` is what ``checked``'s signature recovers: it must be the message's
    device (``bad_signature``), registered in the message's project (``unknown_device``, ``device_not_in_project``)."""
    message = checked.message
    if signer != message.device:
        raise MessageError(f"signature is by {signer}, not by device {message.device}", code="bad_signature")
    _check_membership(message, directory)
    return Admitted(message, checked.digest, message_id(checked.digest), checked.project)


def _check_membership(message: DeviceMessage, directory: Directory) -> None:
    """The device is registered (and active) in the message's project: ``unknown_device`` or
    ``device_not_in_project`` otherwise."""
    projects = directory.device_projects(message.device)
    if not projects:
        raise MessageError(f"device {message.device} is not registered", code="unknown_device")
    if message.project not in projects:
        raise MessageError(
            f"device {message.device} is not registered in project {message.project}",
            code="device_not_in_project",
        )


def _admit_registered_key(message: DeviceMessage, project_config: ProjectConfig, directory: Directory) -> Admitted:
    """A BabyJubJub- or P-256-signed message: its key is only known from the registration, so membership comes
    first, then the signature under the key the registry holds (docs/protocol.md), whose hash must be the device
    id of the signature's key type. The digest is ``m`` (BabyJubJub) or the EIP-712 digest (P-256)."""
    _check_membership(message, directory)
    key = directory.device_key(message.project, message.device)
    if key is None:
        raise MessageError(
            f"device {message.device} is registered with a secp256k1 key: sign with it (65-byte signature)",
            code="bad_signature",
        )
    signed = verify_device_signature(message, project_config.domain, key)
    return Admitted(message, signed.digest, signed.id, project_config)


@dataclass(frozen=True)
class ClockWindow:
    """How far a new message's timestamp may lie from the gateway's clock: asymmetric, since a device running
    ahead can only be wrong, while one that buffered readings while offline sends them late."""

    max_future_seconds: int = 60
    max_past_seconds: int = 3600

    def __post_init__(self) -> None:
        if self.max_future_seconds < 0 or self.max_past_seconds < 0:
            raise ValueError(f"clock window bounds must not be negative, got {self}")


def check_clock(timestamp: int, now: float, window: ClockWindow) -> None:
    """Refuse a timestamp more than ``max_future_seconds`` ahead of ``now`` (MessageError
    ``timestamp_in_future``) or more than ``max_past_seconds`` behind it (``timestamp_too_old``)."""
    if timestamp > now + window.max_future_seconds:
        raise MessageError(
            f"timestamp {timestamp} is {timestamp - int(now)} s ahead of the gateway's clock ({int(now)}); at most "
            f"{window.max_future_seconds} s are allowed: set the device's clock",
            code="timestamp_in_future",
        )
    if timestamp < now - window.max_past_seconds:
        raise MessageError(
            f"timestamp {timestamp} is {int(now) - timestamp} s behind the gateway's clock ({int(now)}); at most "
            f"{window.max_past_seconds} s are allowed",
            code="timestamp_too_old",
        )


# --- device registration requests ---------------------------------------------------------------------------

REGISTRATION_KEYS = ("device", "owner", "signature")
"""Keys of the body of ``POST /v1/projects/{project}/devices`` (the device's DeviceBinding signature)."""
PERMIT_KEYS = frozenset({"device", "owner", "signature", "nonce", "expiry", "voucher"})
"""A voucher with the device's DevicePermit (``signature``, ``nonce``, ``expiry``)."""
VOUCHER_ALONE_KEYS = frozenset({"device", "owner", "voucher"})
"""A voucher alone (it must name the owner)."""
VOUCHER_KEYS = frozenset({"issuer", "nonce", "expiry", "signature"})
"""Keys of ``voucher``; ``owner`` may be added (the voucher then binds that owner)."""
MAX_REGISTRATION_BYTES = 2048


def _registration_object(raw: bytes) -> dict[str, object]:
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        if len({key for key, _ in pairs}) != len(pairs):
            raise MessageError("duplicate key in the body", code="invalid_json")
        return dict(pairs)

    if len(raw) > MAX_REGISTRATION_BYTES or raw.count(b"{") > 2 or b"[" in raw:
        raise MessageError(
            "a registration request is one JSON object (with at most a flat 'voucher' object)", code="schema_mismatch"
        )
    try:
        obj = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
    except MessageError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise MessageError(f"body is not valid UTF-8 JSON: {exc}", code="invalid_json") from exc
    shapes = (set(REGISTRATION_KEYS), {*REGISTRATION_KEYS, "public_key"}, PERMIT_KEYS, VOUCHER_ALONE_KEYS)
    if not isinstance(obj, dict) or set(obj) not in shapes:
        keys = list(REGISTRATION_KEYS)
        raise MessageError(
            f"a registration request has exactly the keys {keys} (a BabyJubJub or P-256 device adds 'public_key'; "
            "with a voucher: 'device', 'owner', 'voucher' and, for the device's permit, 'signature', 'nonce', "
            "'expiry')",
            code="schema_mismatch",
        )
    voucher = obj.get("voucher")
    nested = [v for k, v in obj.items() if k != "voucher"] + (
        list(voucher.values()) if isinstance(voucher, dict) else []
    )
    if any(isinstance(v, dict) for v in nested) or (
        "voucher" in obj and (not isinstance(voucher, dict) or set(voucher) - {"owner"} != VOUCHER_KEYS)
    ):
        raise MessageError(
            f"voucher is an object with the keys {sorted(VOUCHER_KEYS)} (and 'owner' when it binds one)",
            code="schema_mismatch",
        )
    return obj


def _secp_signature(value: object, what: str = "signature") -> bytes:
    if not isinstance(value, str) or not _SIGNATURE.fullmatch(value):
        raise MessageError(f"{what} must be 0x and 130 hex digits (r || s || v)", code="invalid_field")
    return bytes.fromhex(value[2:])


def admit_registration(raw: bytes, project: ProjectConfig, now: float | None = None) -> DeviceRegistrationRequest:
    """Parse ``{"device", "owner", "signature"}`` and check that the device key signed
    ``DeviceBinding(project, device, owner)`` under the project's domain (what DeviceRegistry will check); a
    BabyJubJub device adds ``"public_key"`` and signs ``m_bind``; a P-256 device adds its ``"public_key"`` and
    signs the same DeviceBinding digest with a 64-byte ``r || s`` (docs/protocol.md). With a ``voucher``, the
    voucher and the device's DevicePermit are checked instead (:func:`_voucher_registration`); ``now`` is the
    gateway's clock, against their expiries (None: read it).

    Codes: ``invalid_json``, ``schema_mismatch``, ``invalid_field`` (bad or zero address, bad signature hex),
    ``bad_signature``; with a voucher also ``bad_voucher``, ``voucher_expired``, ``binding_expired``.
    """
    obj = _registration_object(raw)
    address = Field("device", "address")
    device = Address(str(address.check(obj["device"])))
    owner = Address(str(Field("owner", "address").check(obj["owner"])))
    if int(owner, 16) == 0 or int(device, 16) == 0:
        raise MessageError("device and owner must not be the zero address", code="invalid_field")
    if "voucher" in obj:
        return _voucher_registration(obj, project, device, owner, time.time() if now is None else now)
    if "public_key" in obj:
        signature_hex = obj["signature"]
        if isinstance(signature_hex, str) and len(signature_hex) == 2 + 2 * p256.SIGNATURE_LENGTH_P256:
            return _keyed_registration(_P256, obj, project, device, owner)
        return _keyed_registration(_BJJ, obj, project, device, owner)
    raw_signature = _secp_signature(obj["signature"])
    signer = recover_device(binding_digest(project.domain, project.project, device, owner), raw_signature)
    if signer != device:
        raise MessageError(
            f"the binding is signed by {signer}, not by device {device}: sign DeviceBinding(project, device, owner) "
            "with the device key under the domain GET /v1/projects/{project} returns",
            code="bad_signature",
        )
    return DeviceRegistrationRequest(project.project, device, owner, raw_signature)


def _voucher_registration(
    obj: dict[str, object], project: ProjectConfig, device: Address, owner: Address, now: float
) -> DeviceRegistrationRequest:
    """A voucher (DeviceVoucher, signed by ``issuer``) and, unless the voucher names the owner, the device's
    DevicePermit: both signatures and expiries are checked here; whether the issuer may issue for the project and
    whether the nonces are fresh only the chain knows (the registrar's codes)."""
    body = obj["voucher"]
    assert isinstance(body, dict)  # checked by _registration_object
    issuer = Address(str(Field("issuer", "address").check(body["issuer"])))
    voucher_owner = Address(str(Field("owner", "address").check(body.get("owner", ZERO_ADDRESS))))
    if voucher_owner not in (ZERO_ADDRESS, owner):
        raise MessageError(f"the voucher binds owner {voucher_owner}, not {owner}", code="invalid_field")
    voucher = Voucher(issuer, voucher_owner, *_signed_terms(body, "voucher.signature"))
    _check_signed(
        voucher_digest(project.domain, voucher.terms(project.project, device)), voucher, issuer, now,
        ("voucher", "bad_voucher", "voucher_expired"),
        "a voucher binds one chain, registry, project, device, owner (or none), nonce and expiry",
    )  # fmt: skip
    if "signature" not in obj:
        if not voucher.names_owner:
            raise MessageError(
                "a voucher that names no owner needs the device's permit ('signature', 'nonce', 'expiry')",
                code="schema_mismatch",
            )
        return DeviceRegistrationRequest(project.project, device, owner, b"", voucher=voucher)
    permit = Permit(*_signed_terms(obj, "signature"))
    _check_signed(
        permit_digest(project.domain, Terms(project.project, device, owner, permit.nonce, permit.expiry)), permit,
        device, now, ("device's permit", "bad_signature", "binding_expired"),
        "sign DevicePermit(project, device, owner, nonce, expiry) with the device key",
    )  # fmt: skip
    return DeviceRegistrationRequest(project.project, device, owner, permit.signature, voucher=voucher, permit=permit)


def _signed_terms(obj: dict[str, object], what: str) -> tuple[int, int, bytes]:
    """``nonce``, ``expiry`` (uint64) and the signature of a voucher or a permit (``invalid_field`` if malformed)."""
    nonce = int(Field("nonce", "uint64").check(obj["nonce"]))
    return nonce, int(Field("expiry", "uint64").check(obj["expiry"])), _secp_signature(obj["signature"], what)


def _check_signed(
    digest: bytes, signed: Voucher | Permit, signer: Address, now: float, names: tuple[str, str, str], hint: str
) -> None:
    """``signed`` is signed by ``signer`` and not expired; ``names`` is (what it is, bad-signature code,
    expired code)."""
    what, bad, expired = names
    recovered = recover_device(digest, signed.signature)
    if recovered != signer:
        raise MessageError(f"the {what} is signed by {recovered}, not by {signer}: {hint}", code=bad)
    if signed.expiry < now:
        raise MessageError(f"the {what} expired at {signed.expiry} (now {int(now)})", code=expired)


def _hex_bytes(value: object, length: int, what: str) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(f"0x[0-9a-fA-F]{{{2 * length}}}", value):
        raise MessageError(f"{what} must be 0x and {2 * length} hex digits", code="invalid_field")
    return bytes.fromhex(value[2:])


@dataclass(frozen=True)
class _KeyScheme:
    """How a registration names and proves a device key that is not recovered from its signature."""

    key_name: str
    key_length: int
    key_label: str
    signature_length: int
    signature_label: str
    decode_public_key: Callable[[bytes], Point]
    device_id: Callable[[Point], Address]
    verify_binding: Callable[[Domain, int, Address, Point, bytes], object]


_BJJ = _KeyScheme(
    "public key",
    bjj_messages.PUBLIC_KEY_LENGTH,
    "public_key (Ax || Ay)",
    bjj_messages.SIGNATURE_LENGTH_BJJ,
    "signature (R8x || R8y || S)",
    bjj_messages.decode_public_key,
    bjj_messages.device_id,
    bjj_messages.verify_binding_signature,
)
"""A BabyJubJub device: ``signature`` (96 bytes) is its EdDSA-Poseidon signature of ``m_bind`` (what
registerBjjDevice checks)."""

_P256 = _KeyScheme(
    "P-256 key",
    p256.PUBLIC_KEY_LENGTH,
    "public_key (X || Y)",
    p256.SIGNATURE_LENGTH_P256,
    "signature (r || s)",
    p256.decode_public_key,
    p256.device_id,
    p256.verify_binding_signature,
)
"""A P-256 device: ``signature`` (64 bytes ``r || s``, low s) is its ECDSA signature of the DeviceBinding digest
(what registerP256Device checks)."""


def _keyed_registration(
    scheme: _KeyScheme, obj: dict[str, object], project: ProjectConfig, device: Address, owner: Address
) -> DeviceRegistrationRequest:
    """``public_key`` must be a valid key of ``scheme`` whose id is ``device``, and ``signature`` its signature of
    the binding."""
    key = scheme.decode_public_key(_hex_bytes(obj["public_key"], scheme.key_length, scheme.key_label))
    if scheme.device_id(key) != device:
        raise MessageError(
            f"device {device} is not the id of this {scheme.key_name} ({scheme.device_id(key)})", code="bad_signature"
        )
    signature = _hex_bytes(obj["signature"], scheme.signature_length, scheme.signature_label)
    scheme.verify_binding(project.domain, project.project, owner, key, signature)
    return DeviceRegistrationRequest(project.project, device, owner, signature, public_key=key)
