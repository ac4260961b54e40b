"""EdDSA-Poseidon (circomlibjs prv2pub / signPoseidon / verifyPoseidon) against tests/vectors/babyjub.json."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testbed import by_name, golden

from proofstream.domain import babyjub, eddsa
from proofstream.domain.babyjub import SUBORDER, Point
from proofstream.domain.blake512 import blake512
from proofstream.domain.eddsa import EddsaKey, Signature
from proofstream.domain.types import FIELD_MODULUS

VECTORS = golden("babyjub.json")
KEYS = by_name(VECTORS["keys"])


def point(values: list[str]) -> Point:
    return (int(values[0]), int(values[1]))


def signature(vector: dict[str, Any]) -> Signature:
    return Signature(r8=point(vector["r8"]), s=int(vector["s"]))


def key(name: str) -> EddsaKey:
    return EddsaKey(bytes.fromhex(KEYS[name]["private_key"][2:]))


@pytest.mark.parametrize("vector", VECTORS["keys"], ids=lambda v: v["name"])
def test_private_to_public_matches_prv2pub(vector: dict[str, Any]) -> None:
    private = bytes.fromhex(vector["private_key"][2:])
    assert "0x" + blake512(private).hex() == vector["blake512"]
    k = EddsaKey(private)
    assert k.scalar == int(vector["scalar"])
    assert k.public == point(vector["public_key"])
    assert eddsa.private_to_public(private) == k.public
    assert eddsa.is_valid_public_key(k.public)
    assert "0x" + babyjub.pack_point(k.public).hex() == vector["packed"]
    assert vector["private_key"][2:] not in repr(k)


@pytest.mark.parametrize("vector", VECTORS["messages"] + VECTORS["bindings"], ids=lambda v: v["name"])
def test_sign_poseidon_matches_circomlibjs(vector: dict[str, Any]) -> None:
    m = int(vector["m"] if "m" in vector else vector["m_bind"])
    expected = signature(vector["signature"])
    k = key(vector["key"])
    produced = k.sign(m)
    assert produced == expected
    assert eddsa.sign_poseidon(k.private_key, m) == expected
    if "nonce_r" in vector:
        assert babyjub.base8_mul(int(vector["nonce_r"])) == expected.r8
        assert eddsa.signature_hash(produced, k.public, m) == int(vector["hm"])
    wire = eddsa.encode_signature(produced)
    assert "0x" + wire.hex() == vector["signature"]["wire"]
    assert eddsa.decode_signature(wire) == produced
    assert eddsa.verify_poseidon(m, produced, k.public)


@pytest.mark.parametrize("vector", VECTORS["bad"], ids=lambda v: v["name"])
def test_bad_signatures_give_circomlibjs_answer(vector: dict[str, Any]) -> None:
    m, sig, public = int(vector["m"]), signature(vector["signature"]), point(vector["public_key"])
    assert eddsa.verify_poseidon(m, sig, public) is vector["circomlibjs_verify"]
    assert eddsa.is_valid_public_key(public) is vector["key_valid"]
    assert "0x" + eddsa.encode_signature(sig).hex() == vector["signature"]["wire"]


def test_every_kind_of_bad_signature_has_a_vector() -> None:
    names = {v["name"] for v in VECTORS["bad"]}
    assert {
        "tampered_s",
        "tampered_r8",
        "wrong_key",
        "s_not_below_suborder",
        "off_curve_key",
        "small_order_key_identity",
        "small_order_key_order_2",
        "mixed_order_key",
    } <= names
    # The ones circomlibjs accepts are exactly those whose key the protocol refuses.
    assert all(not v["key_valid"] for v in VECTORS["bad"] if v["circomlibjs_verify"])


def test_malformed_input_is_false_or_value_error() -> None:
    k = key("ones")
    sig = k.sign(5)
    assert not eddsa.verify_poseidon(FIELD_MODULUS, sig, k.public)
    assert not eddsa.verify_poseidon(-1, sig, k.public)
    assert not eddsa.verify_poseidon(5, Signature(sig.r8, -1), k.public)
    assert not eddsa.verify_poseidon(5, Signature(sig.r8, SUBORDER), k.public)
    assert not eddsa.verify_poseidon(5, Signature((FIELD_MODULUS, 1), sig.s), k.public)
    assert not eddsa.verify_poseidon(5, "sig", k.public)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="32 bytes"):
        EddsaKey(b"\x01" * 31)
    with pytest.raises(ValueError, match="field element"):
        k.sign(FIELD_MODULUS)
    with pytest.raises(ValueError, match="96 bytes"):
        eddsa.decode_signature(b"\x00" * 64)


def test_prune_follows_circomlibjs() -> None:
    pruned = eddsa.prune(b"\xff" * 64)
    assert len(pruned) == 32 and pruned[0] == 0xF8 and pruned[31] == 0x7F
    assert eddsa.prune(b"\x00" * 64)[31] == 0x40


@settings(max_examples=8, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(0, FIELD_MODULUS - 1))
def test_sign_then_verify(private: bytes, m: int) -> None:
    k = EddsaKey(private)
    sig = k.sign(m)
    assert 0 <= sig.s < SUBORDER
    assert eddsa.verify_poseidon(m, sig, k.public)
    assert not eddsa.verify_poseidon((m + 1) % FIELD_MODULUS, sig, k.public)
    assert not eddsa.verify_poseidon(m, Signature(sig.r8, (sig.s + 1) % SUBORDER), k.public)
