"""Device messages signed with BabyJubJub EdDSA-Poseidon: what is signed, the device id, the wire signature.

docs/protocol.md ("BabyJubJub devices") fixes all of it; ``tests/vectors/babyjub.json`` (made by circomlibjs and
js-sha3, independently of this module) pins it. A BabyJubJub device signs one field element per message,

    m = Poseidon(SIG_TAG, chainId, deviceRegistry, config, leaf)

where ``leaf`` is the message's batch-tree leaf (:func:`proofstream.domain.messages.message_leaf`:
``Poseidon(LEAF_TAG, project, device, nonce, timestamp, payload...)``), so one signature binds the chain, the
deployment, the config version, the project and every field, and a circuit checks it from the values it already
hashes for the Merkle root (two Poseidon hashes and one EdDSA verification per message).

The secp256k1 path (EIP-712) is unchanged; on the wire the signature's length tells the two apart (65 or 96
bytes). The gateway's ingest calls :func:`verify_message_signature` with the device's registered public key.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from proofstream.domain import eddsa
from proofstream.domain.babyjub import Point
from proofstream.domain.eip712 import Domain
from proofstream.domain.messages import (
    SIGNATURE_LENGTH,
    SIGNATURE_LENGTH_BJJ,
    SIGNATURE_LENGTH_P256,
    DeviceMessage,
    body_dict,
    message_leaf,
)
from proofstream.domain.poseidon import poseidon
from proofstream.domain.types import FIELD_MODULUS, Address, MessageId
from proofstream.errors import MessageError

__all__ = [
    "BIND_TAG",
    "DEVICE_ID_PREFIX",
    "KEY_TYPES",
    "PUBLIC_KEY_LENGTH",
    "SIGNATURE_LENGTH_BJJ",
    "SIG_TAG",
    "KeyType",
    "binding_hash",
    "bjj_body_dict",
    "decode_public_key",
    "device_id",
    "encode_public_key",
    "message_hash",
    "message_id",
    "sign_binding",
    "sign_message",
    "signature_key_type",
    "signed_hash",
    "verify_binding_signature",
    "verify_message_signature",
]

SIG_TAG = int.from_bytes(b"ps.sig", "big")
"""``0x70732e736967`` (ASCII "ps.sig"): first input of the hash a BabyJubJub device signs for a message."""

BIND_TAG = int.from_bytes(b"ps.bind", "big")
"""``0x70732e62696e64`` (ASCII "ps.bind"): first input of the hash a BabyJubJub device signs to be registered."""

DEVICE_ID_PREFIX = b"ps.bjj"
"""Hashed before the public key into the device id, so no secp256k1 key's address can collide by design."""

PUBLIC_KEY_LENGTH = 64
"""``Ax || Ay``, each 32 bytes big-endian."""


KeyType = Literal["secp256k1", "bjj", "p256"]
KEY_TYPES: tuple[KeyType, ...] = ("secp256k1", "bjj", "p256")
"""Every device key type; a P-256 device (domain/p256.py) signs the secp256k1 device's EIP-712 digest."""


def _field(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < FIELD_MODULUS:
        raise MessageError(f"{what} must be a BN254 field element, got {value!r}", code="invalid_field")
    return value


def _address_int(address: str, what: str) -> int:
    try:
        return int(to_checksum_address(address), 16)
    except (ValueError, TypeError) as exc:
        raise MessageError(f"{what} is not an address: {address!r}", code="invalid_field") from exc


# --- keys and device ids -------------------------------------------------------------------------------------


def encode_public_key(public_key: Point) -> bytes:
    """64 bytes ``Ax || Ay`` big-endian: how a public key travels (registration body, key files, contracts)."""
    x, y = public_key
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def decode_public_key(data: bytes) -> Point:
    """The point of :func:`encode_public_key`; MessageError ``invalid_field`` unless it is a valid device key
    (on the curve, in the prime-order subgroup, not the identity: :func:`eddsa.is_valid_public_key`)."""
    if len(data) != PUBLIC_KEY_LENGTH:
        raise MessageError(f"a BabyJubJub public key is {PUBLIC_KEY_LENGTH} bytes Ax || Ay", code="invalid_field")
    point = (int.from_bytes(data[:32], "big"), int.from_bytes(data[32:], "big"))
    if not eddsa.is_valid_public_key(point):
        raise MessageError(
            "not a BabyJubJub device key (off the curve, or outside the prime-order subgroup)", code="invalid_field"
        )
    return point


def device_id(public_key: Point) -> Address:
    """``uint160(keccak256("ps.bjj" || Ax || Ay))``, checksummed: the ``device`` field of the key's messages."""
    return Address(to_checksum_address(keccak(DEVICE_ID_PREFIX + encode_public_key(public_key))[-20:]))


# --- what is signed ------------------------------------------------------------------------------------------


def message_hash(chain_id: int, device_registry: str, config: int, leaf: int) -> int:
    """``m = Poseidon(SIG_TAG, chainId, deviceRegistry, config, leaf)``, registry as its 160-bit integer."""
    return poseidon(
        [
            SIG_TAG,
            _field(chain_id, "chain id"),
            _address_int(device_registry, "device registry"),
            _field(config, "config"),
            _field(leaf, "leaf"),
        ]
    )


def signed_hash(message: DeviceMessage, domain: Domain) -> int:
    """The ``m`` a BabyJubJub device signs for ``message`` under the project's ``domain`` (chain id and
    DeviceRegistry; the domain's name and version are not hashed, :data:`SIG_TAG` versions it instead)."""
    leaf = message_leaf(message.project, message)
    return message_hash(domain.chain_id, domain.verifying_contract, message.config, leaf)


def binding_hash(chain_id: int, device_registry: str, project: int, owner: str) -> int:
    """``m_bind = Poseidon(BIND_TAG, chainId, deviceRegistry, project, owner)``: the device key's consent to be
    registered to ``owner`` in ``project``. The key itself is bound through the signature (``hm`` hashes A)."""
    return poseidon(
        [
            BIND_TAG,
            _field(chain_id, "chain id"),
            _address_int(device_registry, "device registry"),
            _field(project, "project"),
            _address_int(owner, "owner"),
        ]
    )


def message_id(m: int) -> MessageId:
    """``keccak256(m as 32 bytes big-endian)``: like a secp256k1 message's id (the hash of what was signed), the
    signature does not enter it, so a resend with another valid signature is the same message."""
    return MessageId("0x" + keccak(_field(m, "message hash").to_bytes(32, "big")).hex())


def signature_key_type(signature: bytes) -> KeyType:
    """Which key signed, by the wire signature's length; MessageError ``invalid_field`` for any other length."""
    if len(signature) == SIGNATURE_LENGTH:
        return "secp256k1"
    if len(signature) == SIGNATURE_LENGTH_BJJ:
        return "bjj"
    if len(signature) == SIGNATURE_LENGTH_P256:
        return "p256"
    raise MessageError(
        f"a signature is {SIGNATURE_LENGTH} (secp256k1), {SIGNATURE_LENGTH_BJJ} (BabyJubJub) or "
        f"{SIGNATURE_LENGTH_P256} (P-256) bytes, got {len(signature)}",
        code="invalid_field",
    )


# --- signing and verifying -----------------------------------------------------------------------------------


def sign_message(key: eddsa.EddsaKey, message: DeviceMessage, domain: Domain) -> bytes:
    """The 96-byte wire signature of ``message`` (its ``device`` must be the key's device id)."""
    if message.device != device_id(key.public):
        raise MessageError(f"message device {message.device} is not this key's {device_id(key.public)}")
    return eddsa.encode_signature(key.sign(signed_hash(message, domain)))


def sign_binding(key: eddsa.EddsaKey, domain: Domain, project: int, owner: str) -> bytes:
    """The 96-byte signature of :func:`binding_hash` under the project's ``domain``."""
    return eddsa.encode_signature(key.sign(binding_hash(domain.chain_id, domain.verifying_contract, project, owner)))


def _verify(m: int, public_key: Point, signature: bytes, what: str) -> None:
    if len(signature) != SIGNATURE_LENGTH_BJJ:
        raise MessageError(f"a BabyJubJub signature is {SIGNATURE_LENGTH_BJJ} bytes", code="bad_signature")
    if not eddsa.is_valid_public_key(public_key):
        raise MessageError("the device's public key is not a valid BabyJubJub key", code="bad_signature")
    if not eddsa.verify_poseidon(m, eddsa.decode_signature(signature), public_key):
        raise MessageError(f"the {what} signature does not verify under the device's key", code="bad_signature")


def verify_message_signature(message: DeviceMessage, domain: Domain, public_key: Point, signature: bytes) -> int:
    """Check a BabyJubJub device's 96-byte ``signature`` of ``message`` and return the signed ``m``.

    MessageError ``bad_signature`` unless: ``message.device`` is :func:`device_id` of ``public_key``; the key is a
    valid device key (:func:`eddsa.is_valid_public_key`: stricter than circomlibjs, which accepts small-order keys
    that verify every message); and :func:`eddsa.verify_poseidon` accepts (points on the curve, ``S < l``). The
    message id is :func:`message_id` of the result.
    """
    if message.device != device_id(public_key):
        raise MessageError(
            f"device {message.device} is not the id of this public key ({device_id(public_key)})", code="bad_signature"
        )
    m = signed_hash(message, domain)
    _verify(m, public_key, signature, "message")
    return m


def verify_binding_signature(domain: Domain, project: int, owner: str, public_key: Point, signature: bytes) -> int:
    """Check a BabyJubJub device's registration signature; returns ``m_bind``. MessageError ``bad_signature``."""
    m = binding_hash(domain.chain_id, domain.verifying_contract, project, owner)
    _verify(m, public_key, signature, "binding")
    return m


def bjj_body_dict(message: DeviceMessage, signature: bytes) -> dict[str, Any]:
    """The JSON body of ``message`` with its 96-byte BabyJubJub ``signature``
    (:func:`proofstream.domain.messages.body_dict` of the signed message)."""
    if len(signature) != SIGNATURE_LENGTH_BJJ:
        raise MessageError(f"a BabyJubJub signature is {SIGNATURE_LENGTH_BJJ} bytes", code="invalid_field")
    return body_dict(dataclasses.replace(message, signature=signature))
