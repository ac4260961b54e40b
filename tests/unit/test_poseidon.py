"""Poseidon against circomlibjs: golden vectors it produced and, when node_modules is present, its tables."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testbed import REPO, golden

from proofstream.domain.poseidon import MAX_INPUTS, PARTIAL_ROUNDS, poseidon, poseidon_parameters
from proofstream.domain.types import FIELD_MODULUS

VECTORS = golden("poseidon.json")
CIRCOMLIBJS_CONSTANTS = REPO / "node_modules" / "circomlibjs" / "src" / "poseidon_constants.json"

field_elements = st.integers(min_value=0, max_value=FIELD_MODULUS - 1)


def test_vectors_cover_every_width_and_the_field_edges() -> None:
    assert int(VECTORS["field_modulus"]) == FIELD_MODULUS
    widths = {len(v["inputs"]) for v in VECTORS["vectors"]}
    assert widths == set(range(1, MAX_INPUTS + 1))
    all_inputs = {int(x) for v in VECTORS["vectors"] for x in v["inputs"]}
    assert {0, FIELD_MODULUS - 1} <= all_inputs


@pytest.mark.parametrize(
    "vector",
    VECTORS["vectors"],
    ids=[f"n{len(v['inputs'])}-{i}" for i, v in enumerate(VECTORS["vectors"])],
)
def test_matches_circomlibjs_golden_vector(vector: dict[str, Any]) -> None:
    inputs = [int(x) for x in vector["inputs"]]
    assert poseidon(inputs) == int(vector["output"])


@pytest.mark.skipif(not CIRCOMLIBJS_CONSTANTS.exists(), reason="node_modules/circomlibjs is not installed")
@pytest.mark.parametrize("t", range(2, MAX_INPUTS + 2))
def test_derived_constants_equal_circomlibjs_tables(t: int) -> None:
    # Read circomlibjs's tables only here, to check our Grain-LFSR derivation; never at runtime.
    tables = json.loads(CIRCOMLIBJS_CONSTANTS.read_text())
    params = poseidon_parameters(t)
    flat = [c for round_constants in params.round_constants for c in round_constants]
    assert flat == [int(c, 16) for c in tables["C"][t - 2]]
    assert [list(row) for row in params.mds] == [[int(m, 16) for m in row] for row in tables["M"][t - 2]]


@pytest.mark.parametrize("t", [2, 3, 8, 17])
def test_parameters_have_the_circomlib_shape(t: int) -> None:
    params = poseidon_parameters(t)
    assert params.t == t
    assert params.full_rounds == 8
    assert params.partial_rounds == PARTIAL_ROUNDS[t - 2]
    assert len(params.round_constants) == params.full_rounds + params.partial_rounds
    assert all(len(rc) == t and all(0 <= c < FIELD_MODULUS for c in rc) for rc in params.round_constants)
    assert len(params.mds) == t
    assert all(len(row) == t and all(0 < m < FIELD_MODULUS for m in row) for row in params.mds)


def test_parameters_are_cached() -> None:
    assert poseidon_parameters(3) is poseidon_parameters(3)


@pytest.mark.parametrize("inputs", [[], list(range(MAX_INPUTS + 1))], ids=["none", "seventeen"])
def test_rejects_unsupported_widths(inputs: list[int]) -> None:
    with pytest.raises(ValueError, match="inputs"):
        poseidon(inputs)


@pytest.mark.parametrize("t", [0, 1, MAX_INPUTS + 2])
def test_parameters_reject_unsupported_state_widths(t: int) -> None:
    with pytest.raises(ValueError, match="width"):
        poseidon_parameters(t)


@pytest.mark.parametrize(
    "bad",
    [FIELD_MODULUS, FIELD_MODULUS + 1, 2**256, -1],
    ids=["p", "p+1", "2^256", "negative"],
)
def test_rejects_values_outside_the_field(bad: int) -> None:
    with pytest.raises(ValueError, match="field element"):
        poseidon([1, bad])


@pytest.mark.parametrize("bad", [True, 1.0, "1"], ids=["bool", "float", "str"])
def test_rejects_non_integers(bad: object) -> None:
    with pytest.raises(ValueError, match="must be an int"):
        poseidon([bad])  # type: ignore[list-item]


@settings(max_examples=25, deadline=None)
@given(st.lists(field_elements, min_size=1, max_size=4), st.data())
def test_output_is_a_field_element_and_depends_on_every_input(inputs: list[int], data: st.DataObject) -> None:
    digest = poseidon(inputs)
    assert 0 <= digest < FIELD_MODULUS
    position = data.draw(st.integers(min_value=0, max_value=len(inputs) - 1))
    changed = list(inputs)
    changed[position] = (changed[position] + 1) % FIELD_MODULUS
    assert poseidon(changed) != digest


def test_width_is_part_of_the_hash() -> None:
    # Poseidon(x) and Poseidon(x, 0) use different widths and constants: padding inputs with zeros must not
    # collide.
    assert poseidon([5]) != poseidon([5, 0])
