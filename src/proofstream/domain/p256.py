"""P-256 (secp256r1) device keys: the curve of secure elements such as the ATECC608, signing the same EIP-712
digests as a secp256k1 device.

docs/protocol.md ("P-256 devices") fixes all of it; ``tests/vectors/p256.json`` (made by npm ``elliptic`` and
ethers, independently of this module and of OpenSSL) pins it. A P-256 device signs the 32-byte EIP-712 digest of
its message (:func:`proofstream.domain.messages.digest`) with ECDSA, the digest itself taken as the hash (never
hashed again), with a low ``s`` (``s <= n/2``). Its signature cannot be recovered to a key the way a secp256k1 one
is, so the key is registered with the device (DeviceRegistry ``registerP256Device``) and the gateway verifies under
the key its indexer read. On the wire the signature is 64 bytes ``r || s`` (65 is secp256k1, 96 BabyJubJub).

The device id is ``uint160(keccak256("ps.p256" || X || Y))``, as a BabyJubJub key's is ``"ps.bjj"``'s; the message
id is ``keccak256(digest)``, as for secp256k1, so the signature never enters it.

Signing and verifying go through ``cryptography`` (OpenSSL): constant-time signing with RFC 6979 deterministic
nonces, and about 50 µs per verification. The curve arithmetic here (on-curve check, point compression) is plain
integers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from proofstream.domain.eip712 import Domain, binding_digest
from proofstream.domain.messages import SIGNATURE_LENGTH_P256, DeviceMessage, digest
from proofstream.domain.types import Address
from proofstream.errors import MessageError

__all__ = [
    "DEVICE_ID_PREFIX",
    "HALF_N",
    "PUBLIC_KEY_LENGTH",
    "SIGNATURE_LENGTH_P256",
    "N",
    "P",
    "P256Key",
    "Point",
    "compress",
    "decode_public_key",
    "decompress",
    "device_id",
    "encode_public_key",
    "is_on_curve",
    "verify_binding_signature",
    "verify_digest",
    "verify_message_signature",
]

Point = tuple[int, int]
"""An affine point ``(x, y)`` of P-256; the point at infinity is never a key and has no representation here."""

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
"""The field prime of P-256 (FIPS 186-4, SEC 2 secp256r1)."""

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""The prime order of the group; the curve's cofactor is 1, so every point but infinity has this order."""

A = P - 3
"""The curve is ``y^2 = x^3 + a*x + b`` with ``a = -3``."""

B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B

HALF_N = N // 2
"""Largest ``s`` of a canonical signature: ``(r, n - s)`` would verify too, so the gateway and DeviceRegistry
accept only ``s <= n/2`` and every message has one signature."""

DEVICE_ID_PREFIX = b"ps.p256"
"""Hashed before the public key into the device id: no secp256k1 address or BabyJubJub id collides by design."""

PUBLIC_KEY_LENGTH = 64
"""``X || Y``, each 32 bytes big-endian (the uncompressed SEC 1 point without its ``0x04``)."""

_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))
"""The digest is the 32-byte value ECDSA signs: no further hashing (SHA256 only names its length)."""


def is_on_curve(point: Point) -> bool:
    """True when ``point`` has canonical coordinates (below ``P``) and lies on P-256."""
    x, y = point
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def encode_public_key(public_key: Point) -> bytes:
    """64 bytes ``X || Y`` big-endian: how a key travels (registration body, contracts, receipts)."""
    x, y = public_key
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def decode_public_key(data: bytes) -> Point:
    """The point of :func:`encode_public_key`; MessageError ``invalid_field`` unless it lies on the curve."""
    if len(data) != PUBLIC_KEY_LENGTH:
        raise MessageError(f"a P-256 public key is {PUBLIC_KEY_LENGTH} bytes X || Y", code="invalid_field")
    point = (int.from_bytes(data[:32], "big"), int.from_bytes(data[32:], "big"))
    if not is_on_curve(point):
        raise MessageError("not a P-256 public key (off the curve)", code="invalid_field")
    return point


def compress(public_key: Point) -> bytes:
    """33 bytes SEC 1 compressed: ``0x02`` (even y) or ``0x03`` (odd y), then X (did:key carries this form)."""
    x, y = public_key
    return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")


def decompress(data: bytes) -> Point:
    """The point of :func:`compress`; MessageError ``invalid_field`` for a prefix other than 2 or 3, ``X >= P``,
    or an X that no point has."""
    if len(data) != 33 or data[0] not in (2, 3):
        raise MessageError("a compressed P-256 key is 33 bytes starting 0x02 or 0x03", code="invalid_field")
    x = int.from_bytes(data[1:], "big")
    if x >= P:
        raise MessageError("a P-256 x coordinate is below the field prime", code="invalid_field")
    rhs = (x * x * x + A * x + B) % P
    y = pow(rhs, (P + 1) // 4, P)  # P = 3 mod 4: the square root, when there is one
    if y * y % P != rhs:
        raise MessageError("no P-256 point has this x coordinate", code="invalid_field")
    if y & 1 != data[0] & 1:
        y = P - y
    return x, y


def device_id(public_key: Point) -> Address:
    """``uint160(keccak256("ps.p256" || X || Y))``, checksummed: the ``device`` field of the key's messages."""
    return Address(to_checksum_address(keccak(DEVICE_ID_PREFIX + encode_public_key(public_key))[-20:]))


@dataclass(frozen=True)
class P256Key:
    """A P-256 private key: a scalar ``1 <= d < n``, given as 32 bytes big-endian."""

    private_key: bytes

    def __post_init__(self) -> None:
        if len(self.private_key) != 32 or not 0 < int.from_bytes(self.private_key, "big") < N:
            raise MessageError("a P-256 private key is 32 bytes, a number from 1 to n - 1", code="invalid_field")

    @classmethod
    def generate(cls) -> P256Key:
        while True:  # the chance of a retry is about 2^-32
            secret = os.urandom(32)
            if 0 < int.from_bytes(secret, "big") < N:
                return cls(secret)

    def _key(self) -> ec.EllipticCurvePrivateKey:
        return ec.derive_private_key(int.from_bytes(self.private_key, "big"), ec.SECP256R1())

    @property
    def public(self) -> Point:
        numbers = self._key().public_key().public_numbers()
        return numbers.x, numbers.y

    def sign_digest(self, message_digest: bytes) -> bytes:
        """64-byte ``r || s`` over a 32-byte digest: RFC 6979 deterministic (HMAC-SHA-256), low ``s``."""
        if len(message_digest) != 32:
            raise ValueError("a digest is 32 bytes")
        der = self._key().sign(message_digest, ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        s = min(s, N - s)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def __repr__(self) -> str:  # never print the secret
        return f"P256Key(device={device_id(self.public)})"


def verify_digest(message_digest: bytes, public_key: Point, signature: bytes) -> bool:
    """Whether ``signature`` (64 bytes ``r || s``) is ``public_key``'s over the 32-byte digest: ``0 < r < n``,
    ``0 < s <= n/2`` (a high ``s`` is refused), the key on the curve, and ECDSA verification."""
    if len(signature) != SIGNATURE_LENGTH_P256 or len(message_digest) != 32 or not is_on_curve(public_key):
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s <= HALF_N):
        return False
    key = ec.EllipticCurvePublicNumbers(*public_key, ec.SECP256R1()).public_key()
    try:
        key.verify(encode_dss_signature(r, s), message_digest, _PREHASHED)
    except InvalidSignature:
        return False
    return True


def _check(message_digest: bytes, device: Address, public_key: Point, signature: bytes, what: str) -> None:
    if device != device_id(public_key):
        raise MessageError(
            f"device {device} is not the id of this P-256 key ({device_id(public_key)})", code="bad_signature"
        )
    if not verify_digest(message_digest, public_key, signature):
        raise MessageError(
            f"the {what} signature does not verify under the device's P-256 key (64 bytes r || s, low s, over the "
            "EIP-712 digest itself)",
            code="bad_signature",
        )


def verify_message_signature(message: DeviceMessage, domain: Domain, public_key: Point, signature: bytes) -> bytes:
    """Check a P-256 device's ``signature`` of ``message`` and return the EIP-712 digest (the message id is its
    keccak256). MessageError ``bad_signature`` unless ``message.device`` is :func:`device_id` of the key and
    :func:`verify_digest` accepts."""
    message_digest = digest(message, domain)
    _check(message_digest, message.device, public_key, signature, "message")
    return message_digest


def verify_binding_signature(
    domain: Domain, project: int, owner: Address, public_key: Point, signature: bytes
) -> bytes:
    """Check a P-256 device's registration signature: the EIP-712 ``DeviceBinding(project, device, owner)``
    digest, ``device`` the key's id (what DeviceRegistry.registerP256Device checks). Returns the digest;
    MessageError ``bad_signature``."""
    device = device_id(public_key)
    binding = binding_digest(domain, project, device, owner)
    _check(binding, device, public_key, signature, "binding")
    return binding
