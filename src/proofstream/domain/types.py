"""Names for ids and units, so a nonce is never passed where a project id is expected."""

from __future__ import annotations

from typing import NewType

ProjectId = NewType("ProjectId", int)
ConfigVersion = NewType("ConfigVersion", int)
Nonce = NewType("Nonce", int)
Timestamp = NewType("Timestamp", int)
TaskId = NewType("TaskId", int)
Address = NewType("Address", str)
"""A checksummed 0x-prefixed EVM address."""
MessageId = NewType("MessageId", str)
"""0x-prefixed hex of keccak256(EIP-712 digest)."""
FieldElement = NewType("FieldElement", int)

FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""The BN254 scalar field: every circuit signal and Groth16 public input lives below it."""
