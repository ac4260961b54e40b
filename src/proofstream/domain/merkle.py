"""The batch commitment: a fixed-depth Poseidon Merkle tree over message leaves.

docs/protocol.md ("Batch commitment") defines it. A proof binds a task to the root of this tree, and the
circuit recomputes the same root from the messages it reads, so every choice here (leaf and node domain tags,
padding leaf, left/right order) is frozen protocol: the golden vectors in ``tests/vectors/merkle.json`` were
produced by circomlibjs and pin it down.

Unused slots hold :data:`PADDING_LEAF`. A subtree made only of padding hashes to a value that depends on its
height alone, so the tree computes those once and stores only the nodes above real leaves: building costs
about one hash per real leaf plus ``depth``, whatever the capacity.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from proofstream.domain.poseidon import poseidon
from proofstream.domain.types import FIELD_MODULUS

__all__ = [
    "LEAF_TAG",
    "MAX_DEPTH",
    "NODE_TAG",
    "PADDING_LEAF",
    "MerkleProof",
    "MerkleTree",
    "build_tree",
    "leaf_hash",
    "node_hash",
    "verify_inclusion",
]

LEAF_TAG = 0x70732E6C656166
"""ASCII "ps.leaf": first input of every leaf hash, so a leaf can never be confused with an inner node."""

NODE_TAG = 0x70732E6E6F6465
"""ASCII "ps.node": first input of every inner-node hash."""

PADDING_LEAF = 0
"""The leaf of an unused slot. No message leaf equals it unless Poseidon has a preimage for 0."""

MAX_DEPTH = 32
"""Deepest tree we build: 2**32 slots is far beyond any circuit's capacity, and it bounds ``2**depth``."""


def leaf_hash(project: int, device: int, nonce: int, timestamp: int, payload: Sequence[int]) -> int:
    """``Poseidon(LEAF_TAG, project, device, nonce, timestamp, *payload)``; ``device`` is the address's int.

    At most 11 payload fields fit circomlib's 16-input Poseidon; every value must be a field element.
    """
    return poseidon([LEAF_TAG, project, device, nonce, timestamp, *payload])


def node_hash(left: int, right: int) -> int:
    """``Poseidon(NODE_TAG, left, right)``: the parent of two sibling nodes."""
    return poseidon([NODE_TAG, left, right])


@functools.cache
def _padding_nodes(depth: int) -> tuple[int, ...]:
    """``result[h]`` is the root of a height-``h`` subtree holding only padding, for ``h = 0..depth``."""
    nodes = [PADDING_LEAF]
    for _ in range(depth):
        nodes.append(node_hash(nodes[-1], nodes[-1]))
    return tuple(nodes)


@dataclass(frozen=True, slots=True)
class MerkleProof:
    """Inclusion proof of the leaf in slot ``index``: what a circuit or verifier needs to rebuild the root."""

    index: int
    """Slot of the leaf, ``0 <= index < 2**depth``."""
    siblings: tuple[int, ...]
    """Sibling of the path node at each level, bottom-up; its length is the tree's depth."""

    @property
    def depth(self) -> int:
        return len(self.siblings)

    @property
    def path_bits(self) -> tuple[int, ...]:
        """Bits of ``index``, least significant first: bit ``k`` is 1 when the path node at level ``k`` is a
        right child (the sibling goes on the left). This is the form a circuit takes as its path input."""
        return tuple((self.index >> level) & 1 for level in range(self.depth))


@dataclass(frozen=True, slots=True)
class MerkleTree:
    """A tree of fixed ``depth`` over ``leaf_count`` real leaves, padded to ``2**depth`` slots.

    Build it with :func:`build_tree`, which keeps ``levels`` consistent."""

    depth: int
    leaf_count: int
    """Number of real (non-padding) leaves; they fill slots ``0..leaf_count-1``."""
    levels: tuple[tuple[int, ...], ...]
    """``levels[k]`` holds the level-``k`` nodes above real leaves (``levels[0]`` the leaves themselves,
    ``levels[depth]`` the root alone). Nodes to the right of these are padding subtrees, not stored."""

    @property
    def capacity(self) -> int:
        return 1 << self.depth

    @property
    def root(self) -> int:
        return self.levels[self.depth][0]

    @property
    def leaves(self) -> tuple[int, ...]:
        """All ``2**depth`` slots, padding included."""
        real = self.levels[0]
        return real + (PADDING_LEAF,) * (self.capacity - len(real))

    def node(self, level: int, position: int) -> int:
        """The node at ``level`` (0 = leaves) and ``position`` (0 = leftmost), padding subtrees included."""
        if not 0 <= level <= self.depth or not 0 <= position < (1 << (self.depth - level)):
            raise IndexError(f"no node at level {level}, position {position} in a depth-{self.depth} tree")
        stored = self.levels[level]
        if position < len(stored):
            return stored[position]
        return _padding_nodes(self.depth)[level]

    def inclusion_proof(self, index: int) -> MerkleProof:
        """Proof for slot ``index``; a padding slot can be proven too (circuits check padding that way)."""
        if not 0 <= index < self.capacity:
            raise IndexError(f"slot {index} is outside a tree of capacity {self.capacity}")
        siblings = tuple(self.node(level, (index >> level) ^ 1) for level in range(self.depth))
        return MerkleProof(index=index, siblings=siblings)


def _check_field_element(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an int, got {type(value).__name__}")
    if not 0 <= value < FIELD_MODULUS:
        raise ValueError(f"{what} is not a BN254 field element (0 <= x < p): {value}")


def build_tree(leaves: Sequence[int], depth: int) -> MerkleTree:
    """The tree with ``leaves`` in slots ``0..len(leaves)-1`` and :data:`PADDING_LEAF` in the rest.

    Raises ``ValueError`` when ``depth`` is outside ``0..MAX_DEPTH``, when there are more leaves than
    ``2**depth`` slots, or when a leaf is not a field element.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= MAX_DEPTH:
        raise ValueError(f"Merkle depth must be an int in 0..{MAX_DEPTH}, got {depth!r}")
    if len(leaves) > (1 << depth):
        raise ValueError(f"{len(leaves)} leaves do not fit a depth-{depth} tree (capacity {1 << depth})")
    for i, leaf in enumerate(leaves):
        _check_field_element(leaf, f"leaf {i}")

    padding = _padding_nodes(depth)
    level = tuple(leaves) or (PADDING_LEAF,)  # an empty tree still stores one node per level: its padding spine
    levels = [level]
    for height in range(depth):
        if len(level) % 2:
            level = (*level, padding[height])
        level = tuple(node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2))
        levels.append(level)
    return MerkleTree(depth=depth, leaf_count=len(leaves), levels=tuple(levels))


def verify_inclusion(root: int, leaf: int, proof: MerkleProof) -> bool:
    """Whether ``leaf`` sits in slot ``proof.index`` of the tree with this ``root``.

    A malformed proof (index outside its depth, values outside the field) is simply not a valid proof: False.
    """
    depth = proof.depth
    if depth > MAX_DEPTH or not 0 <= proof.index < (1 << depth):
        return False
    values = (root, leaf, *proof.siblings)
    if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < FIELD_MODULUS for v in values):
        return False
    node = leaf
    for sibling, bit in zip(proof.siblings, proof.path_bits, strict=True):
        node = node_hash(sibling, node) if bit else node_hash(node, sibling)
    return node == root
