"""EdDSA over BabyJubJub with Poseidon, bit for bit as npm circomlibjs's ``buildEddsa`` (``prv2pub``,
``signPoseidon``, ``verifyPoseidon``) and circomlib's ``EdDSAPoseidonVerifier`` circuit compute it.

Written from the algorithm, not from circomlibjs's (GPL-3.0) code; ``tests/vectors/babyjub.json``, made by
circomlibjs itself, pins every step.

Keys. A private key is 32 arbitrary bytes. ``h = BLAKE-512(private key)`` (the original BLAKE, see
:mod:`proofstream.domain.blake512`); its first 32 bytes, pruned (clear the 3 low bits of byte 0, clear bit 7
and set bit 6 of byte 31) and read little-endian, are the secret scalar ``s``. The public key is
``A = (s >> 3) * BASE8``.

Signing a field element ``m``:

* ``r = BLAKE-512(h[32:64] || m as 32 bytes little-endian)`` read little-endian (512 bits), mod ``SUBORDER``;
* ``R8 = r * BASE8``;
* ``hm = Poseidon(R8.x, R8.y, A.x, A.y, m)``;
* ``S = (r + hm * s) mod SUBORDER``. The signature is ``(R8, S)``.

Verifying (:func:`verify_poseidon`, circomlibjs's checks exactly): ``R8`` and ``A`` on the curve,
``S < SUBORDER``, and ``S * BASE8 == R8 + (8 * hm) * A``. That alone accepts a small-order ``A`` for every
message: :func:`is_valid_public_key` is the check that a protocol adds on top (docs/signing.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from proofstream.domain import babyjub
from proofstream.domain.babyjub import SUBORDER, Point
from proofstream.domain.blake512 import blake512
from proofstream.domain.poseidon import poseidon
from proofstream.domain.types import FIELD_MODULUS

__all__ = [
    "PRIVATE_KEY_BYTES",
    "SIGNATURE_BYTES",
    "EddsaKey",
    "Signature",
    "decode_signature",
    "encode_signature",
    "is_valid_public_key",
    "private_to_public",
    "prune",
    "sign_poseidon",
    "signature_hash",
    "verify_poseidon",
]

PRIVATE_KEY_BYTES = 32
SIGNATURE_BYTES = 96
"""Wire encoding of a signature: ``R8.x || R8.y || S``, each 32 bytes big-endian (proofstream's own choice,
docs/protocol.md; circomlibjs's 64-byte ``packSignature`` is not used on the wire)."""


@dataclass(frozen=True, slots=True)
class Signature:
    """An EdDSA-Poseidon signature: the nonce point ``R8`` and the scalar ``S``."""

    r8: Point
    s: int


def prune(digest: bytes) -> bytes:
    """circomlibjs ``pruneBuffer`` on the first 32 bytes: a multiple of 8, below ``2**255``, bit 254 set."""
    pruned = bytearray(digest[:32])
    pruned[0] &= 0xF8
    pruned[31] = (pruned[31] & 0x7F) | 0x40
    return bytes(pruned)


def _check_private_key(private_key: bytes) -> bytes:
    if not isinstance(private_key, bytes | bytearray) or len(private_key) != PRIVATE_KEY_BYTES:
        raise ValueError(f"a BabyJubJub private key is {PRIVATE_KEY_BYTES} bytes")
    return bytes(private_key)


def _check_message(message: int) -> None:
    if isinstance(message, bool) or not isinstance(message, int) or not 0 <= message < FIELD_MODULUS:
        raise ValueError(f"an EdDSA-Poseidon message is a BN254 field element (0 <= m < p), got {message!r}")


class EddsaKey:
    """A private key with its secret scalar, nonce prefix and public key derived once (signing then costs
    one BLAKE-512, one fixed-base multiplication and one Poseidon: about 3 ms here, two thirds of it Poseidon)."""

    __slots__ = ("_prefix", "_private", "_scalar", "public")

    public: Point
    """``A = (s >> 3) * BASE8``, circomlibjs ``prv2pub``."""

    def __init__(self, private_key: bytes) -> None:
        self._private = _check_private_key(private_key)
        digest = blake512(self._private)
        self._scalar = int.from_bytes(prune(digest), "little")
        self._prefix = digest[32:]
        self.public = babyjub.base8_mul(self._scalar >> 3)

    @property
    def private_key(self) -> bytes:
        return self._private

    @property
    def scalar(self) -> int:
        """The pruned secret scalar ``s`` (not shifted)."""
        return self._scalar

    def __repr__(self) -> str:  # never print the secret
        return f"EddsaKey(public={self.public})"

    def sign(self, message: int) -> Signature:
        """circomlibjs ``signPoseidon(prv, F.e(message))``: deterministic, the nonce derived from the key and
        the message."""
        _check_message(message)
        r = int.from_bytes(blake512(self._prefix + message.to_bytes(32, "little")), "little") % SUBORDER
        r8 = babyjub.base8_mul(r)
        hm = poseidon([r8[0], r8[1], self.public[0], self.public[1], message])
        return Signature(r8=r8, s=(r + hm * self._scalar) % SUBORDER)


def private_to_public(private_key: bytes) -> Point:
    """circomlibjs ``prv2pub``: the public key of a 32-byte private key."""
    return EddsaKey(private_key).public


def sign_poseidon(private_key: bytes, message: int) -> Signature:
    """circomlibjs ``signPoseidon``; build an :class:`EddsaKey` once instead when signing many messages."""
    return EddsaKey(private_key).sign(message)


def signature_hash(signature: Signature, public_key: Point, message: int) -> int:
    """``hm = Poseidon(R8.x, R8.y, A.x, A.y, m)``, the challenge both sides compute."""
    return poseidon([signature.r8[0], signature.r8[1], public_key[0], public_key[1], message])


def verify_poseidon(message: int, signature: Signature, public_key: Point) -> bool:
    """circomlibjs ``verifyPoseidon``: True iff ``R8`` and ``A`` are on the curve, ``S < SUBORDER`` and
    ``S * BASE8 == R8 + 8 * hm * A``. Anything malformed (coordinates or message outside the field, a
    negative ``S``, wrong types) is False, never an exception.

    It does **not** look at the order of ``A`` (neither does circomlibjs): combine it with
    :func:`is_valid_public_key`, as :func:`proofstream.domain.bjj_messages.verify_message_signature` does."""
    if not isinstance(signature, Signature):
        return False
    s = signature.s
    if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < SUBORDER:
        return False
    if not babyjub.is_on_curve(signature.r8) or not babyjub.is_on_curve(public_key):
        return False
    if isinstance(message, bool) or not isinstance(message, int) or not 0 <= message < FIELD_MODULUS:
        return False
    hm = signature_hash(signature, public_key, message)
    return babyjub.base8_mul_is_sum(s, signature.r8, 8 * hm, public_key)


@functools.lru_cache(maxsize=4096)
def _valid_key(x: int, y: int) -> bool:
    return babyjub.in_subgroup((x, y)) and (x, y) != babyjub.IDENTITY


def is_valid_public_key(public_key: Point) -> bool:
    """Whether ``public_key`` may stand for a device: on the curve, in the prime-order subgroup and not the
    identity, hence not of small order. Every key ``prv2pub`` makes passes; cached (about 3 ms uncached), since a
    gateway checks the same few keys again and again."""
    if not isinstance(public_key, tuple | list) or len(public_key) != 2:
        return False
    x, y = public_key
    if not babyjub.is_on_curve((x, y)):
        return False
    return _valid_key(x, y)


def encode_signature(signature: Signature) -> bytes:
    """96 bytes ``R8.x || R8.y || S``, each 32-byte big-endian (the wire form, docs/protocol.md)."""
    x, y = signature.r8
    for value in (x, y, signature.s):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 256:
            raise ValueError(f"a signature component must fit 32 bytes, got {value!r}")
    return x.to_bytes(32, "big") + y.to_bytes(32, "big") + signature.s.to_bytes(32, "big")


def decode_signature(data: bytes) -> Signature:
    """The inverse of :func:`encode_signature`; ValueError unless ``data`` is 96 bytes. The values are not
    range-checked here (a signature with ``S >= SUBORDER`` decodes, and :func:`verify_poseidon` refuses it)."""
    if len(data) != SIGNATURE_BYTES:
        raise ValueError(f"a BabyJubJub signature is {SIGNATURE_BYTES} bytes, got {len(data)}")
    x = int.from_bytes(data[:32], "big")
    y = int.from_bytes(data[32:64], "big")
    return Signature(r8=(x, y), s=int.from_bytes(data[64:], "big"))
