"""Batch Merkle tree: circomlibjs golden vectors, inclusion-proof properties, and input errors."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testbed import golden

from proofstream.domain.merkle import (
    LEAF_TAG,
    MAX_DEPTH,
    NODE_TAG,
    PADDING_LEAF,
    MerkleProof,
    build_tree,
    leaf_hash,
    node_hash,
    verify_inclusion,
)
from proofstream.domain.types import FIELD_MODULUS

VECTORS = golden("merkle.json")
CASES: list[dict[str, Any]] = VECTORS["cases"]

field_elements = st.integers(min_value=0, max_value=FIELD_MODULUS - 1)


@st.composite
def trees_with_leaves(draw: st.DrawFn) -> tuple[list[int], int]:
    depth = draw(st.integers(min_value=0, max_value=4))
    leaves = draw(st.lists(field_elements, max_size=1 << depth))
    return leaves, depth


def test_tags_are_the_protocol_ascii_strings() -> None:
    assert LEAF_TAG == int.from_bytes(b"ps.leaf", "big") == int(VECTORS["leaf_tag"])
    assert NODE_TAG == int.from_bytes(b"ps.node", "big") == int(VECTORS["node_tag"])
    assert int(VECTORS["padding_leaf"]) == PADDING_LEAF == 0


def test_vectors_cover_depths_three_and_four_full_and_empty() -> None:
    shapes = {(case["depth"], len(case["messages"])) for case in CASES}
    assert {3, 4} == {depth for depth, _ in shapes}
    assert (3, 8) in shapes  # full
    assert (3, 0) in shapes  # all padding


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_matches_circomlibjs_golden_tree(case: dict[str, Any]) -> None:
    leaves = []
    for message, expected_leaf in zip(case["messages"], case["leaves"], strict=True):
        device = int(message["device"], 16)
        assert device == int(message["device_int"])
        leaf = leaf_hash(
            int(message["project"]),
            device,
            int(message["nonce"]),
            int(message["timestamp"]),
            [int(x) for x in message["payload"]],
        )
        assert leaf == int(expected_leaf)
        leaves.append(leaf)

    tree = build_tree(leaves, case["depth"])
    assert tree.root == int(case["root"])
    assert tree.leaf_count == len(leaves)
    for expected in case["proofs"]:
        proof = tree.inclusion_proof(expected["index"])
        assert list(proof.siblings) == [int(s) for s in expected["siblings"]]
        assert verify_inclusion(tree.root, tree.leaves[proof.index], proof)


@settings(max_examples=40, deadline=None)
@given(trees_with_leaves())
def test_every_slot_has_a_valid_proof(tree_leaves: tuple[list[int], int]) -> None:
    leaves, depth = tree_leaves
    tree = build_tree(leaves, depth)
    assert len(tree.leaves) == 1 << depth
    for index in range(1 << depth):
        proof = tree.inclusion_proof(index)
        assert proof.depth == depth
        assert sum(bit << level for level, bit in enumerate(proof.path_bits)) == index
        assert verify_inclusion(tree.root, tree.leaves[index], proof)


@settings(max_examples=40, deadline=None)
@given(trees_with_leaves(), st.data())
def test_a_changed_leaf_or_sibling_fails(tree_leaves: tuple[list[int], int], data: st.DataObject) -> None:
    leaves, depth = tree_leaves
    tree = build_tree(leaves, depth)
    index = data.draw(st.integers(min_value=0, max_value=(1 << depth) - 1))
    proof = tree.inclusion_proof(index)
    leaf = tree.leaves[index]
    assert not verify_inclusion(tree.root, (leaf + 1) % FIELD_MODULUS, proof)
    assert not verify_inclusion((tree.root + 1) % FIELD_MODULUS, leaf, proof)
    if depth:
        level = data.draw(st.integers(min_value=0, max_value=depth - 1))
        siblings = list(proof.siblings)
        siblings[level] = (siblings[level] + 1) % FIELD_MODULUS
        assert not verify_inclusion(tree.root, leaf, replace(proof, siblings=tuple(siblings)))


@settings(max_examples=25, deadline=None)
@given(trees_with_leaves())
def test_implicit_padding_equals_explicit_padding_leaves(tree_leaves: tuple[list[int], int]) -> None:
    # The tree skips hashing all-padding subtrees; writing the padding leaves out must give the same tree.
    leaves, depth = tree_leaves
    padded = leaves + [PADDING_LEAF] * ((1 << depth) - len(leaves))
    implicit, explicit = build_tree(leaves, depth), build_tree(padded, depth)
    assert implicit.root == explicit.root
    for index in range(1 << depth):
        assert implicit.inclusion_proof(index) == explicit.inclusion_proof(index)


def test_root_of_a_two_leaf_tree_is_the_node_hash() -> None:
    assert build_tree([11, 22], 1).root == node_hash(11, 22) != node_hash(22, 11)


def test_depth_zero_tree_is_its_leaf() -> None:
    tree = build_tree([42], 0)
    assert tree.root == 42
    assert verify_inclusion(42, 42, tree.inclusion_proof(0))


def test_too_many_leaves_are_rejected() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        build_tree(list(range(9)), 3)


@pytest.mark.parametrize("depth", [-1, MAX_DEPTH + 1, True], ids=["negative", "too-deep", "bool"])
def test_bad_depth_is_rejected(depth: int) -> None:
    with pytest.raises(ValueError, match="depth"):
        build_tree([1], depth)


@pytest.mark.parametrize("bad", [FIELD_MODULUS, -1], ids=["p", "negative"])
def test_leaf_outside_the_field_is_rejected(bad: int) -> None:
    with pytest.raises(ValueError, match="leaf 1"):
        build_tree([1, bad], 2)


def test_leaf_hash_rejects_field_overflow_and_too_many_payload_fields() -> None:
    with pytest.raises(ValueError, match="field element"):
        leaf_hash(1, 2, 3, 4, [FIELD_MODULUS])
    with pytest.raises(ValueError, match="inputs"):
        leaf_hash(1, 2, 3, 4, list(range(12)))  # 5 header inputs + 12 = 17 > 16


@pytest.mark.parametrize("index", [-1, 8])
def test_proof_for_a_missing_slot_is_an_index_error(index: int) -> None:
    with pytest.raises(IndexError):
        build_tree([1, 2, 3], 3).inclusion_proof(index)


def test_malformed_proofs_do_not_verify() -> None:
    tree = build_tree([1, 2, 3], 2)
    proof = tree.inclusion_proof(1)
    assert verify_inclusion(tree.root, 2, proof)
    assert not verify_inclusion(tree.root, 2, replace(proof, index=1 + 4))  # index beyond the depth
    assert not verify_inclusion(tree.root, 2, replace(proof, index=-1))
    assert not verify_inclusion(tree.root, 2, replace(proof, siblings=proof.siblings[:1]))  # too short
    assert not verify_inclusion(tree.root, 2 + FIELD_MODULUS, proof)  # same residue, not a field element
    assert not verify_inclusion(
        tree.root, 2, MerkleProof(index=1, siblings=(proof.siblings[0] + FIELD_MODULUS, proof.siblings[1]))
    )
