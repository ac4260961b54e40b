"""BabyJubJub curve arithmetic and BLAKE-512 against circomlibjs / blake-hash (tests/vectors/babyjub.json)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testbed import REPO, golden

from proofstream.domain import babyjub
from proofstream.domain.babyjub import BASE8, GENERATOR, IDENTITY, ORDER, SUBORDER, P, Point
from proofstream.domain.blake512 import blake512

VECTORS = golden("babyjub.json")
NODE = shutil.which("node")


def point(values: list[str]) -> Point:
    return (int(values[0]), int(values[1]))


def test_constants_are_circomlibjs() -> None:
    c = VECTORS["constants"]
    assert int(c["field_modulus"]) == P
    assert (int(c["a"]), int(c["d"])) == (babyjub.A, babyjub.D)
    assert (int(c["order"]), int(c["sub_order"])) == (ORDER, SUBORDER)
    assert point(c["generator"]) == GENERATOR
    assert point(c["base8"]) == BASE8
    assert ORDER == babyjub.COFACTOR * SUBORDER


def test_the_addition_law_is_complete_and_the_base_points_are_right() -> None:
    # a square and d a non-square mod p: no exceptional cases in the unified formulas.
    assert pow(babyjub.A, (P - 1) // 2, P) == 1
    assert pow(babyjub.D, (P - 1) // 2, P) == P - 1
    assert babyjub.scalar_mul(GENERATOR, 8) == BASE8
    assert babyjub.in_subgroup(BASE8)
    assert babyjub.scalar_mul(GENERATOR, ORDER) == IDENTITY
    assert babyjub.scalar_mul(GENERATOR, SUBORDER) != IDENTITY


@pytest.mark.parametrize("vector", VECTORS["blake512"], ids=lambda v: f"len{(len(v['input']) - 2) // 2}")
def test_blake512_matches_blake_hash(vector: dict[str, str]) -> None:
    assert "0x" + blake512(bytes.fromhex(vector["input"][2:])).hex() == vector["digest"]


def test_blake512_is_not_blake2b() -> None:
    assert blake512(b"").hex().startswith("a8cfbbd73726062d")
    assert blake512(b"abc") != hashlib.blake2b(b"abc").digest()


@pytest.mark.parametrize("vector", VECTORS["scalar_mul"], ids=lambda v: v["scalar"][:12])
def test_scalar_mul_matches_circomlibjs(vector: dict[str, Any]) -> None:
    k = int(vector["scalar"])
    assert babyjub.scalar_mul(BASE8, k) == point(vector["base8"])
    assert babyjub.base8_mul(k) == point(vector["base8"])
    assert babyjub.scalar_mul(GENERATOR, k) == point(vector["generator"])


@pytest.mark.parametrize("vector", VECTORS["add"], ids=lambda v: v["b"][0][:8])
def test_add_matches_circomlibjs(vector: dict[str, Any]) -> None:
    assert babyjub.add(point(vector["a"]), point(vector["b"])) == point(vector["sum"])


@pytest.mark.parametrize("vector", VECTORS["points"], ids=lambda v: v["name"])
def test_point_checks_and_packing_match_circomlibjs(vector: dict[str, Any]) -> None:
    p = point(vector["point"])
    assert babyjub.is_on_curve(p) is vector["on_curve"]
    assert babyjub.in_subgroup(p) is vector["in_subgroup"]
    assert babyjub.is_small_order(p) is vector["small_order"]
    if vector["packed"] is not None:
        packed = babyjub.pack_point(p)
        assert "0x" + packed.hex() == vector["packed"]
        assert babyjub.unpack_point(packed) == p
    else:
        with pytest.raises(ValueError, match="not a BabyJubJub point"):
            babyjub.pack_point(p)


def test_the_eight_small_order_points() -> None:
    # The 8-torsion is {k * (GENERATOR * SUBORDER)}: every one is small-order, none but the identity in the subgroup.
    torsion = babyjub.scalar_mul(GENERATOR, SUBORDER)
    points = {babyjub.scalar_mul(torsion, k) for k in range(8)}
    assert len(points) == 8
    assert all(babyjub.is_small_order(q) for q in points)
    assert [q for q in points if babyjub.in_subgroup(q)] == [IDENTITY]
    assert not babyjub.is_small_order(BASE8)


def test_malformed_points_are_refused() -> None:
    for bad in [(P, 1), (-1, 1), (0, 2), (True, 1)]:
        assert not babyjub.is_on_curve(bad)
        assert not babyjub.in_subgroup(bad)
        with pytest.raises(ValueError):
            babyjub.scalar_mul(bad, 2)
    assert babyjub.unpack_point(b"\xff" * 32) is None  # y >= p
    assert babyjub.unpack_point(b"\x00" * 31) is None
    with pytest.raises(ValueError):
        babyjub.base8_mul(1.5)  # type: ignore[arg-type]


scalars = st.integers(min_value=0, max_value=ORDER * 2)


@settings(max_examples=15, deadline=None)
@given(scalars, scalars)
def test_scalar_mul_is_a_homomorphism(k1: int, k2: int) -> None:
    p1, p2 = babyjub.base8_mul(k1), babyjub.base8_mul(k2)
    assert babyjub.add(p1, p2) == babyjub.base8_mul(k1 + k2)
    assert babyjub.is_on_curve(p1) and babyjub.in_subgroup(p1)
    assert babyjub.scalar_mul(BASE8, k1) == p1
    assert babyjub.add(p1, babyjub.negate(p1)) == IDENTITY
    assert babyjub.double(p1) == babyjub.add(p1, p1)
    assert babyjub.unpack_point(babyjub.pack_point(p1)) == p1


@settings(max_examples=10, deadline=None)
@given(scalars)
def test_generator_multiples_pack_and_stay_on_the_curve(k: int) -> None:
    q = babyjub.scalar_mul(GENERATOR, k)
    assert babyjub.is_on_curve(q)
    assert babyjub.in_subgroup(q) is (k % 8 == 0)
    assert babyjub.unpack_point(babyjub.pack_point(q)) == q


@pytest.mark.toolchain
@pytest.mark.skipif(NODE is None or not (REPO / "node_modules" / "circomlibjs").exists(), reason="needs node_modules")
def test_the_vector_file_is_what_the_script_makes() -> None:
    result = subprocess.run(
        [str(NODE), str(REPO / "scripts" / "vectors" / "babyjub.js"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (REPO / "docs" / "vectors" / "babyjub.json").read_text() == (
        REPO / "tests" / "vectors" / "babyjub.json"
    ).read_text()
