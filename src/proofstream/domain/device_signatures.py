"""A device's signature of its message, checked for every key type: the one check the gateway, a receipt's reader
and an attester share.

The wire signature's length tells the key type (:func:`proofstream.domain.bjj_messages.signature_key_type`). A
secp256k1 signature (65 bytes) recovers to the device address. A P-256 (64 bytes) or BabyJubJub (96 bytes)
signature cannot be recovered: it is verified under the key the device registered, and that key's hash (with its
type's prefix) must be the device id. So whoever hands the key over (a store, a receipt) cannot put another key
in its place: the device id, which the chain's task commitment and registration hold, pins it.
"""

from __future__ import annotations

from dataclasses import dataclass

from proofstream.domain import bjj_messages, p256
from proofstream.domain.eip712 import Domain
from proofstream.domain.messages import DeviceMessage, check_signature, message_id
from proofstream.domain.types import MessageId
from proofstream.errors import MessageError

__all__ = ["Signed", "verify_device_signature"]


@dataclass(frozen=True)
class Signed:
    """What a device's checked signature covers."""

    digest: bytes
    """What the device signed: the EIP-712 digest (secp256k1, P-256) or BabyJubJub's ``m`` (32 bytes
    big-endian)."""
    id: MessageId
    """The message id: keccak256 of the EIP-712 digest, or :func:`proofstream.domain.bjj_messages.message_id`."""


def verify_device_signature(
    message: DeviceMessage, domain: Domain, public_key: tuple[int, int] | None = None
) -> Signed:
    """Check ``message.signature`` under ``domain``: secp256k1 recovers ``message.device`` (``public_key`` is not
    read); P-256 and BabyJubJub verify under ``public_key``, the device's registered key, whose hash must be the
    device id. MessageError ``bad_signature`` when it does not check out or a registered-key signature comes
    without a key, ``invalid_field`` for a signature of no key type's length."""
    key_type = bjj_messages.signature_key_type(message.signature)
    if key_type == "secp256k1":
        signed = check_signature(message, domain)
        return Signed(signed, message_id(signed))
    if public_key is None:
        raise MessageError(
            f"device {message.device} has no registered P-256 or BabyJubJub key: a 65-byte secp256k1 signature "
            "is the only kind that checks without one",
            code="bad_signature",
        )
    if key_type == "p256":
        signed = p256.verify_message_signature(message, domain, public_key, message.signature)
        return Signed(signed, message_id(signed))
    m = bjj_messages.verify_message_signature(message, domain, public_key, message.signature)
    return Signed(m.to_bytes(32, "big"), bjj_messages.message_id(m))
