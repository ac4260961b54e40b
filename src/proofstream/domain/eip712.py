"""A small, pure EIP-712 implementation for flat structs (no nested struct or array members).

proofstream signs only flat structs (device messages, device bindings, prover attestations), so this
covers ``uintN``/``intN``/``bool``/``address``/``bytes32`` members (ABI-encoded in place) and
``string``/``bytes`` members (encoded as their keccak256), exactly as EIP-712's ``encodeData`` says. It is
tested against eth_account's independent implementation. Kept separate from eth_account because the gateway
hashes every incoming message and the device SDK must stay light.

Every typed struct proofstream signs is declared once, in ``domain/``, and everything else (the gateway, the SDK,
the chain adapter, the tests) derives its digest or its JSON from that declaration:
- ``DeviceBinding``: here (:data:`BINDING_MEMBERS`, :func:`binding_digest`, :func:`binding_typed_data`);
- a device message: :func:`proofstream.domain.messages.digest`, its members the project schema's fields;
- ``Attestation``: :mod:`proofstream.domain.attestation`, under its own domain name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from Crypto.Hash import keccak as _keccak
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address

from proofstream.domain.types import Address

Member = tuple[str, str]
"""A struct member as ``(name, solidity type)``."""

_DYNAMIC = frozenset({"string", "bytes"})
_WIDTHS = "|".join(str(bits) for bits in range(8, 257, 8))
_ATOMIC = re.compile(rf"u?int({_WIDTHS})|address|bool|bytes32")

DOMAIN_NAME = "proofstream"
"""``name`` of every proofstream EIP-712 domain (docs/protocol.md)."""
DOMAIN_VERSION = "1"
"""``version`` of the domain; bumps with the wire format."""

DOMAIN_MEMBERS: tuple[Member, ...] = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
)
"""The ``EIP712Domain`` members: chain id and contract stop replay across chains and deployments."""

BINDING_TYPE = "DeviceBinding"
BINDING_MEMBERS: tuple[Member, ...] = (("project", "uint64"), ("device", "address"), ("owner", "address"))
"""``DeviceBinding(uint64 project,address device,address owner)``: the device key's consent to be
registered to ``owner`` in ``project``; DeviceRegistry verifies it under the same domain as the messages."""


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain separator's inputs."""

    chain_id: int
    verifying_contract: Address
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def __post_init__(self) -> None:
        # Normalise once so equal domains compare equal whatever case the address came in.
        object.__setattr__(self, "verifying_contract", checksum_address(self.verifying_contract))

    def as_dict(self) -> dict[str, Any]:
        """The domain as EIP-712 JSON (``eth_account.messages.encode_typed_data``'s ``domain``)."""
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


def keccak(data: bytes = b"", *, text: str | None = None) -> bytes:
    """keccak256 of ``data`` (or of ``text`` as UTF-8): the same bytes as ``eth_utils.keccak`` without its argument
    checks, which cost more than the hash on the gateway's path. safe-pysha3's C extension when it is installed
    (the ``node`` extra: about 1 us a hash here, where pycryptodome's takes about 6 us, and the gateway hashes
    four times a message), else pycryptodome, which the light device install has."""
    return _keccak_256(data if text is None else text.encode())


def _pycryptodome_keccak(data: bytes) -> bytes:
    return _keccak.new(data=data, digest_bits=256).digest()


try:
    from sha3 import keccak_256 as _sha3_keccak_256  # type: ignore[import-untyped]  # safe-pysha3: no stubs

    def _keccak_256(data: bytes) -> bytes:
        return bytes(_sha3_keccak_256(data).digest())

except ImportError:  # the device's light install: no safe-pysha3
    _keccak_256 = _pycryptodome_keccak


def checksum_address(address: str) -> Address:
    """EIP-55 form of ``address`` (0x and 40 hex digits, any case), remembered: the gateway checksums the same
    few thousand device addresses over and over, and each costs a keccak."""
    return _checksum(address) if isinstance(address, str) else Address(to_checksum_address(address))


@lru_cache(maxsize=1 << 16)
def _checksum(address: str) -> Address:
    return Address(to_checksum_address(address))


def encode_type(primary_type: str, members: Sequence[Member]) -> str:
    """``Name(type1 name1,type2 name2,...)``."""
    for _, type_ in members:
        if type_ not in _DYNAMIC and not _ATOMIC.fullmatch(type_):
            raise ValueError(f"unsupported EIP-712 member type {type_!r} (flat structs only)")
    return f"{primary_type}({','.join(f'{type_} {name}' for name, type_ in members)})"


def type_hash(primary_type: str, members: Sequence[Member]) -> bytes:
    return keccak(text=encode_type(primary_type, members))


def encode_value(type_: str, value: Any) -> bytes:
    """One member's 32-byte slot of ``encodeData``."""
    if type_ == "string":
        return keccak(text=value)
    if type_ == "bytes":
        return keccak(value)
    return encode([type_], [value])


_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _slot_encoder(type_: str) -> Callable[[Any], bytes]:
    """``encode_value`` for one member type, with the common cases (an unsigned integer in range, a hex address)
    written straight to their 32 bytes; anything else goes through ``encode_value`` (eth_abi), so the bytes and the
    errors are eth_abi's exactly."""
    if type_.startswith("uint"):
        bound = 1 << int(type_[4:])

        def uint(value: Any) -> bytes:
            if type(value) is int and 0 <= value < bound:
                return value.to_bytes(32, "big")
            return encode_value(type_, value)

        return uint
    if type_ == "address":

        def address(value: Any) -> bytes:
            if isinstance(value, str) and _HEX_ADDRESS.fullmatch(value) and _checksum(value) == value:
                return bytes.fromhex(value[2:]).rjust(32, b"\0")
            return encode_value(type_, value)

        return address
    return lambda value: encode_value(type_, value)


@dataclass(frozen=True)
class StructLayout:
    """What hashing one flat struct type needs that does not change per value: its type hash and one slot encoder
    per member. Made once per struct type (:func:`struct_layout`)."""

    primary_type: str
    type_hash: bytes
    encoders: tuple[Callable[[Any], bytes], ...]

    def hash(self, values: Sequence[Any]) -> bytes:
        """``hashStruct(values)``, the same bytes as :func:`hash_struct`."""
        if len(values) != len(self.encoders):
            raise ValueError(f"{self.primary_type} has {len(self.encoders)} members, got {len(values)} values")
        return keccak(self.type_hash + b"".join(enc(v) for enc, v in zip(self.encoders, values, strict=True)))


@lru_cache(maxsize=256)
def struct_layout(primary_type: str, members: tuple[Member, ...]) -> StructLayout:
    """The (remembered) layout of ``primary_type(members)``; raises ValueError for a member type it cannot hash."""
    return StructLayout(primary_type, type_hash(primary_type, members), tuple(_slot_encoder(t) for _, t in members))


def hash_struct(primary_type: str, members: Sequence[Member], values: Sequence[Any]) -> bytes:
    """``keccak256(typeHash || encodeData(values))`` with ``values`` in member order."""
    return struct_layout(primary_type, tuple(members)).hash(values)


@lru_cache(maxsize=256)
def domain_separator(domain: Domain) -> bytes:
    """``hashStruct(EIP712Domain)``, remembered per domain: it is the same for every message of a project."""
    return hash_struct(
        "EIP712Domain",
        DOMAIN_MEMBERS,
        (domain.name, domain.version, domain.chain_id, domain.verifying_contract),
    )


def layout_digest(domain: Domain, layout: StructLayout, values: Sequence[Any]) -> bytes:
    """:func:`typed_data_digest` with the struct's layout already made."""
    return keccak(b"\x19\x01" + domain_separator(domain) + layout.hash(values))


def typed_data_digest(domain: Domain, primary_type: str, members: Sequence[Member], values: Sequence[Any]) -> bytes:
    """``keccak256(0x1901 || domainSeparator || hashStruct(message))``: the 32 bytes a key signs."""
    return layout_digest(domain, struct_layout(primary_type, tuple(members)), values)


def typed_data(domain: Domain, primary_type: str, members: Sequence[Member], values: Sequence[Any]) -> dict[str, Any]:
    """The same typed data as EIP-712 JSON, for what signs or checks it elsewhere (eth_account's
    ``encode_typed_data``, a hardware wallet); its hash is :func:`typed_data_digest`."""
    if len(values) != len(members):
        raise ValueError(f"{primary_type} has {len(members)} members, got {len(values)} values")
    return {
        "types": {
            "EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_MEMBERS],
            primary_type: [{"name": n, "type": t} for n, t in members],
        },
        "primaryType": primary_type,
        "domain": domain.as_dict(),
        "message": {name: value for (name, _), value in zip(members, values, strict=True)},
    }


def _binding_values(project: int, device: str, owner: str) -> tuple[int, Address, Address]:
    return project, checksum_address(device), checksum_address(owner)


def binding_digest(domain: Domain, project: int, device: str, owner: str) -> bytes:
    """Digest of ``DeviceBinding(project, device, owner)``, signed by the device key for DeviceRegistry."""
    return typed_data_digest(domain, BINDING_TYPE, BINDING_MEMBERS, _binding_values(project, device, owner))


def binding_typed_data(domain: Domain, project: int, device: str, owner: str) -> dict[str, Any]:
    """``DeviceBinding(project, device, owner)`` as EIP-712 JSON: what a wallet shows the device owner."""
    return typed_data(domain, BINDING_TYPE, BINDING_MEMBERS, _binding_values(project, device, owner))
