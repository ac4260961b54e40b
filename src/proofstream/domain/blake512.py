"""BLAKE-512: the SHA-3 finalist BLAKE (Aumasson, Henzen, Meier, Phan, 2008/2010), 64-bit words, 16 rounds.

This is the *original* BLAKE, not BLAKE2 (``hashlib.blake2b`` gives other digests), and no standard library
ships it. circomlibjs derives an EdDSA key's scalar and its nonces with it (npm ``blake-hash``'s
``blake512``), so proofstream needs it bit for bit to produce the same BabyJubJub keys and signatures. Written
from the BLAKE specification (final round version, 1.3): the empty message hashes to ``a8cfbbd7...3ef5b8``.

It hashes short inputs (32 or 64 bytes) a few times per signature, so plain Python ints are fast enough
(about 0.1 ms a block here). The salt is always zero, as circomlibjs uses it.
"""

from __future__ import annotations

__all__ = ["BLOCK_BYTES", "DIGEST_BYTES", "blake512"]

BLOCK_BYTES = 128
"""A compression consumes 16 words of 64 bits."""
DIGEST_BYTES = 64
ROUNDS = 16
"""BLAKE-512 has 16 rounds (BLAKE-256 has 14)."""

_MASK = (1 << 64) - 1

_IV: tuple[int, ...] = (
    0x6A09E667F3BCC908,
    0xBB67AE8584CAA73B,
    0x3C6EF372FE94F82B,
    0xA54FF53A5F1D36F1,
    0x510E527FADE682D1,
    0x9B05688C2B3E6C1F,
    0x1F83D9ABFB41BD6B,
    0x5BE0CD19137E2179,
)
"""Initial chain value: SHA-512's (fractional parts of the square roots of the first eight primes)."""

_C: tuple[int, ...] = (
    0x243F6A8885A308D3,
    0x13198A2E03707344,
    0xA4093822299F31D0,
    0x082EFA98EC4E6C89,
    0x452821E638D01377,
    0xBE5466CF34E90C6C,
    0xC0AC29B7C97C50DD,
    0x3F84D5B5B5470917,
    0x9216D5D98979FB1B,
    0xD1310BA698DFB5AC,
    0x2FFD72DBD01ADFB7,
    0xB8E1AFED6A267E96,
    0xBA7C9045F12C7F99,
    0x24A19947B3916CF7,
    0x0801F2E2858EFC16,
    0x636920D871574E69,
)
"""The 16 constants c_0..c_15: the first 1024 bits of the fractional part of pi."""

_SIGMA: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    (14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3),
    (11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4),
    (7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8),
    (9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13),
    (2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9),
    (12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11),
    (13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10),
    (6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5),
    (10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0),
)
"""The ten message permutations; round ``r`` uses ``_SIGMA[r % 10]``."""

_G_STEPS: tuple[tuple[int, int, int, int], ...] = (
    (0, 4, 8, 12),
    (1, 5, 9, 13),
    (2, 6, 10, 14),
    (3, 7, 11, 15),
    (0, 5, 10, 15),
    (1, 6, 11, 12),
    (2, 7, 8, 13),
    (3, 4, 9, 14),
)
"""State words of the eight G calls of a round: four columns, then four diagonals."""


def _schedule() -> tuple[tuple[tuple[int, int, int, int, int, int, int, int], ...], ...]:
    """Per round, per G call: ``(a, b, c, d, i, j, c_j, c_i)`` with ``i, j`` the two message words it reads.

    Precomputing the constant XOR partners (``m_i ^ c_j`` and ``m_j ^ c_i``) keeps the inner loop flat."""
    rounds = []
    for r in range(ROUNDS):
        sigma = _SIGMA[r % 10]
        calls = []
        for k, (a, b, c, d) in enumerate(_G_STEPS):
            i, j = sigma[2 * k], sigma[2 * k + 1]
            calls.append((a, b, c, d, i, j, _C[j], _C[i]))
        rounds.append(tuple(calls))
    return tuple(rounds)


_SCHEDULE = _schedule()


def _compress(h: list[int], block: bytes, counter: int) -> None:
    """One compression of a 128-byte block into the chain value ``h`` (in place); ``counter`` is the number
    of message bits hashed up to the end of this block, or 0 for a block holding padding only."""
    m = [int.from_bytes(block[8 * i : 8 * i + 8], "big") for i in range(16)]
    t0, t1 = counter & _MASK, counter >> 64
    v = [
        *h,
        _C[0],
        _C[1],
        _C[2],
        _C[3],
        _C[4] ^ t0,
        _C[5] ^ t0,
        _C[6] ^ t1,
        _C[7] ^ t1,
    ]
    mask = _MASK
    for calls in _SCHEDULE:
        for a, b, c, d, i, j, cj, ci in calls:
            va = (v[a] + v[b] + (m[i] ^ cj)) & mask
            x = v[d] ^ va
            vd = ((x >> 32) | (x << 32)) & mask
            vc = (v[c] + vd) & mask
            x = v[b] ^ vc
            vb = ((x >> 25) | (x << 39)) & mask
            va = (va + vb + (m[j] ^ ci)) & mask
            x = vd ^ va
            vd = ((x >> 16) | (x << 48)) & mask
            vc = (vc + vd) & mask
            x = vb ^ vc
            v[a], v[b], v[c], v[d] = va, ((x >> 11) | (x << 53)) & mask, vc, vd
    for i in range(8):
        h[i] ^= v[i] ^ v[i + 8]  # the salt is zero, so its XOR is omitted


def blake512(data: bytes) -> bytes:
    """The 64-byte BLAKE-512 digest of ``data`` (zero salt), as npm ``blake-hash``'s ``blake512`` computes it.

    Padding: a 1 bit, zeros, a 1 bit as the last bit before the 128-bit big-endian message length, to a multiple
    of 128 bytes. The counter of a block is the message bits hashed up to its end (capped at the length); a final
    block that holds no message bit counts 0.
    """
    length = len(data)
    padded = bytearray(data)
    padded.append(0x80)
    while len(padded) % BLOCK_BYTES != BLOCK_BYTES - 16:
        padded.append(0)
    padded[-1] |= 0x01
    padded += (length * 8).to_bytes(16, "big")

    h = list(_IV)
    for start in range(0, len(padded), BLOCK_BYTES):
        end = start + BLOCK_BYTES
        counter = min(end, length) * 8 if start < length else 0
        _compress(h, bytes(padded[start:end]), counter)
    return b"".join(word.to_bytes(8, "big") for word in h)
