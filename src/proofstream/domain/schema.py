"""Message schemas: the fixed header plus a project's payload fields, all typed as Solidity integers.

A schema is what a device signs (the EIP-712 struct) and what a circuit reads (the leaf inputs), so only
types that both can hold exactly are allowed: ``uintN`` with N a multiple of 8 up to 248 (so a value always
fits the BN254 scalar field) and ``address`` (a 160-bit integer). Signed values are carried with a
documented offset (docs/protocol.md), so no ``intN`` type exists here; strings, bytes and uint256 cannot
enter a circuit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from proofstream.domain.eip712 import checksum_address
from proofstream.errors import MessageError

MAX_UINT_BITS = 248
"""Widest allowed unsigned integer: every value then lies below the BN254 scalar field (about 2**253.6)."""

WIRE_VERSION = 1
"""The wire format version this code speaks (the ``version`` header field)."""

PRIMARY_TYPE = "Message"
"""EIP-712 primary type name of every device message (docs/protocol.md)."""

_UINT = re.compile(r"uint([1-9][0-9]*)")
_NAME = re.compile(r"[a-z][a-zA-Z0-9_]{0,31}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")

PayloadValue = int | str
"""A payload value as the message holds it: an int, or a checksummed address string for ``address`` fields."""


@dataclass(frozen=True)
class Field:
    """One typed field of the message struct."""

    name: str
    type: str
    """A Solidity type name: ``uint8`` .. ``uint248`` (multiples of 8) or ``address``."""

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"field name {self.name!r} must be a lower-camel identifier of at most 32 characters")
        if self.type != "address":
            match = _UINT.fullmatch(self.type)
            bits = int(match.group(1)) if match else 0
            if not match or bits % 8 != 0 or bits > MAX_UINT_BITS:
                raise ValueError(
                    f"field {self.name!r} has type {self.type!r}: only uint8..uint{MAX_UINT_BITS} "
                    "(multiples of 8) and address are allowed"
                )

    @property
    def bits(self) -> int:
        """Width of the value in bits (160 for an address)."""
        return 160 if self.type == "address" else int(self.type[4:])

    def check(self, value: object) -> PayloadValue:
        """Return ``value`` in canonical form (checksummed address) or raise MessageError ``invalid_field``.

        Booleans are refused although Python treats them as ints: JSON ``true`` is not a number.
        """
        if self.type == "address":
            if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
                raise MessageError(f"{self.name} must be a 0x-prefixed 20-byte hex address", code="invalid_field")
            return checksum_address(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise MessageError(f"{self.name} must be an integer ({self.type})", code="invalid_field")
        if not 0 <= value < 1 << self.bits:
            raise MessageError(f"{self.name}={value} is out of range for {self.type}", code="invalid_field")
        return value

    def as_int(self, value: PayloadValue) -> int:
        """The value as the circuit reads it: an address becomes its 160-bit integer."""
        if isinstance(value, str):
            return int(value, 16)
        return value


HEADER: tuple[Field, ...] = (
    Field("version", "uint8"),
    Field("project", "uint64"),
    Field("config", "uint32"),
    Field("device", "address"),
    Field("nonce", "uint64"),
    Field("timestamp", "uint64"),
)
"""The fixed header every message starts with, in signing order (docs/protocol.md)."""

RESERVED_NAMES = frozenset({f.name for f in HEADER} | {"payload", "signature"})
"""Names a payload field cannot take: they would collide with the header or the JSON body's keys."""


@dataclass(frozen=True)
class Schema:
    """A project's message struct: the fixed header, then ``payload`` in declaration order."""

    payload: tuple[Field, ...]
    name: str = PRIMARY_TYPE
    """The EIP-712 primary type; always ``Message`` in wire version 1."""

    def __post_init__(self) -> None:
        names = [f.name for f in self.payload]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate payload field names in {names}")
        clash = RESERVED_NAMES.intersection(names)
        if clash:
            raise ValueError(f"payload field names {sorted(clash)} are reserved")
        if self.name != PRIMARY_TYPE:
            raise ValueError(f"the primary type of wire version {WIRE_VERSION} is {PRIMARY_TYPE!r}")

    @property
    def fields(self) -> tuple[Field, ...]:
        """Header then payload: the full signed struct."""
        return HEADER + self.payload

    @property
    def payload_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.payload)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def to_json(self) -> list[list[str]]:
        """The payload as ``[[name, type], ...]``: how a project config and the store record a schema."""
        return [[f.name, f.type] for f in self.payload]

    @classmethod
    def from_json(cls, data: object) -> Schema:
        """Inverse of :meth:`to_json`; raises ValueError on anything else."""
        if not isinstance(data, list) or not all(
            isinstance(item, list) and len(item) == 2 and all(isinstance(s, str) for s in item) for item in data
        ):
            raise ValueError("a schema is a list of [name, type] pairs")
        return cls(payload=tuple(Field(name, type_) for name, type_ in data))
