"""Poseidon over the BN254 scalar field, bit-for-bit equal to circomlib's ``Poseidon(n)`` template.

The circuits hash with circomlib's Poseidon, so the Python side must produce the same field elements for
leaves, nodes and roots. circomlib's constants are the output of the Poseidon authors' reference parameter
script (``generate_parameters_grain.sage`` from the hadeshash repository): a Grain LFSR seeded with the
instance's parameters, self-shrunk, read as 254-bit integers with rejection sampling for the round constants
and then as field elements for a Cauchy MDS matrix. We re-derive them here instead of shipping circomlibjs's
tables (GPL-3.0): the derivation is short and deterministic, and the unit tests check it against circomlibjs's
tables and against golden vectors that circomlibjs itself produced.

Hashing ``n`` inputs uses the state width ``t = n + 1`` with a zero capacity element first, ``R_F = 8`` full
rounds, ``R_P`` partial rounds from :data:`PARTIAL_ROUNDS`, the x^5 S-box, and returns the first state element
(circomlib's ``nOuts = 1``, ``initialState = 0``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from proofstream.domain.types import FIELD_MODULUS

__all__ = [
    "FULL_ROUNDS",
    "MAX_INPUTS",
    "PARTIAL_ROUNDS",
    "PoseidonParameters",
    "poseidon",
    "poseidon_parameters",
]

FULL_ROUNDS = 8
"""R_F: full S-box rounds, half before and half after the partial rounds (circomlib's ``N_ROUNDS_F``)."""

PARTIAL_ROUNDS: tuple[int, ...] = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
"""R_P for state widths t = 2..17 (index ``t - 2``): circomlib's ``N_ROUNDS_P``, the paper's secure round
counts rounded up. They also seed the Grain LFSR, so they fix the constants as well as the round count."""

MAX_INPUTS = len(PARTIAL_ROUNDS)
"""circomlib defines Poseidon for 1..16 inputs (state widths 2..17)."""

_FIELD_BITS = FIELD_MODULUS.bit_length()
"""254: the reference script draws candidates of exactly this many bits."""

_GRAIN_STATE_BITS = 80
_GRAIN_WARMUP_STEPS = 160
"""The reference script discards the first 160 LFSR outputs before using any."""


@dataclass(frozen=True, slots=True)
class PoseidonParameters:
    """Everything one permutation width needs, precomputed once."""

    t: int
    """State width: number of inputs + 1 (the capacity element)."""
    full_rounds: int
    partial_rounds: int
    round_constants: tuple[tuple[int, ...], ...]
    """One tuple of ``t`` constants per round, added to the state before the S-box."""
    mds: tuple[tuple[int, ...], ...]
    """Row-major ``t x t`` matrix: ``new_state[i] = sum_j mds[i][j] * state[j]`` (circomlib's ``M[t-2]``)."""


class _Grain:
    """The Grain-like LFSR of the Poseidon reference parameter generator, with self-shrinking.

    The 80-bit register is one int whose bit ``i`` is the script's ``bit_sequence[i]`` (bit 0 the oldest); a
    step appends ``b62 ^ b51 ^ b38 ^ b23 ^ b13 ^ b0`` and drops bit 0.
    """

    __slots__ = ("_state",)

    def __init__(self, *, t: int, full_rounds: int, partial_rounds: int) -> None:
        # Seed layout of the reference script: field type (1 = prime field) in 2 bits, S-box (0 = x^alpha) in
        # 4, field size in 12, t in 12, R_F in 10, R_P in 10, then 30 ones; first bit first.
        seed = f"{1:02b}{0:04b}{_FIELD_BITS:012b}{t:012b}{full_rounds:010b}{partial_rounds:010b}" + "1" * 30
        assert len(seed) == _GRAIN_STATE_BITS
        self._state = sum(int(bit) << i for i, bit in enumerate(seed))
        for _ in range(_GRAIN_WARMUP_STEPS):
            self._step()

    def _step(self) -> int:
        s = self._state
        bit = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & 1
        self._state = (s >> 1) | (bit << (_GRAIN_STATE_BITS - 1))
        return bit

    def _bit(self) -> int:
        # Self-shrinking: take LFSR outputs in pairs, emit the second when the first is 1, drop the pair
        # otherwise.
        while True:
            first = self._step()
            second = self._step()
            if first:
                return second

    def integer(self, bits: int) -> int:
        """The next ``bits`` output bits as a big-endian integer (the script's ``grain_random_bits``)."""
        value = 0
        for _ in range(bits):
            value = (value << 1) | self._bit()
        return value


def _derive(t: int) -> PoseidonParameters:
    partial_rounds = PARTIAL_ROUNDS[t - 2]
    grain = _Grain(t=t, full_rounds=FULL_ROUNDS, partial_rounds=partial_rounds)
    p = FIELD_MODULUS

    flat: list[int] = []
    for _ in range((FULL_ROUNDS + partial_rounds) * t):
        candidate = grain.integer(_FIELD_BITS)
        while candidate >= p:  # rejection sampling keeps the constants uniform in the field
            candidate = grain.integer(_FIELD_BITS)
        flat.append(candidate)

    # Cauchy matrix M[i][j] = 1 / (x_i + y_j) from 2t distinct field elements drawn after the constants
    # (reduced mod p, not rejected, as the script does). A draw with a repeat is discarded whole; a zero
    # denominator would also restart, though for circomlib's widths neither happens.
    while True:
        draws = [grain.integer(_FIELD_BITS) % p for _ in range(2 * t)]
        if len(set(draws)) != 2 * t:
            continue
        xs, ys = draws[:t], draws[t:]
        if any((x + y) % p == 0 for x in xs for y in ys):
            continue
        break
    mds = tuple(tuple(pow(x + y, -1, p) for y in ys) for x in xs)

    round_constants = tuple(tuple(flat[r * t : (r + 1) * t]) for r in range(FULL_ROUNDS + partial_rounds))
    return PoseidonParameters(
        t=t,
        full_rounds=FULL_ROUNDS,
        partial_rounds=partial_rounds,
        round_constants=round_constants,
        mds=mds,
    )


@functools.cache
def poseidon_parameters(t: int) -> PoseidonParameters:
    """Constants for state width ``t`` (inputs + 1), derived on first use and cached (0.1-0.5 s a width)."""
    if not 2 <= t <= MAX_INPUTS + 1:
        raise ValueError(f"Poseidon state width must be in 2..{MAX_INPUTS + 1}, got {t}")
    return _derive(t)


def _permute(state: list[int], params: PoseidonParameters) -> list[int]:
    # Each round adds its constants, applies the x^5 S-box to every element (full rounds) or to the first only
    # (partial rounds), then multiplies by the MDS matrix. Dot products are reduced once per row, not per
    # product, and partial rounds leave the unboxed elements unreduced: Python ints do not overflow, and one
    # big ``%`` is cheaper than several small ones.
    p = FIELD_MODULUS
    mul = operator.mul
    rows = params.mds
    half = params.full_rounds // 2
    constants = params.round_constants
    last_partial = half + params.partial_rounds
    for round_constants in constants[:half]:
        state = [pow(x + c, 5, p) for x, c in zip(state, round_constants, strict=True)]
        state = [sum(map(mul, row, state)) % p for row in rows]
    for round_constants in constants[half:last_partial]:
        state = list(map(operator.add, state, round_constants))
        state[0] = pow(state[0], 5, p)
        state = [sum(map(mul, row, state)) % p for row in rows]
    for round_constants in constants[last_partial:]:
        state = [pow(x + c, 5, p) for x, c in zip(state, round_constants, strict=True)]
        state = [sum(map(mul, row, state)) % p for row in rows]
    return state


def poseidon(inputs: Sequence[int]) -> int:
    """circomlib ``Poseidon(len(inputs))`` of 1..16 field elements; each must satisfy ``0 <= x < p``.

    Out-of-range inputs raise ``ValueError`` rather than being reduced: the circuit sees field elements, and
    silently reducing would let two different messages commit to the same leaf.
    """
    n = len(inputs)
    if not 1 <= n <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {n}")
    for i, x in enumerate(inputs):
        if isinstance(x, bool) or not isinstance(x, int):
            raise ValueError(f"Poseidon input {i} must be an int, got {type(x).__name__}")
        if not 0 <= x < FIELD_MODULUS:
            raise ValueError(f"Poseidon input {i} is not a BN254 field element (0 <= x < p): {x}")
    params = poseidon_parameters(n + 1)
    return _permute([0, *inputs], params)[0]
