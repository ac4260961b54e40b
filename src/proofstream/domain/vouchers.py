"""Vouchers: a project owner's or a manufacturer's signed consent to register one device, and the device key's
permit that accepts such a registration (DeviceRegistry.registerDeviceWithVoucher / registerDeviceByVoucher).

Both are flat EIP-712 structs under the devices' domain (:class:`~proofstream.domain.eip712.Domain`: name
"proofstream", version "1", chainId, verifyingContract = the DeviceRegistry), with the same five members:

- ``DeviceVoucher(uint64 project,address device,address owner,uint64 nonce,uint64 expiry)``, signed by the issuer.
  ``owner`` is the zero address when the issuer leaves the owner to the device's permit;
- ``DevicePermit(uint64 project,address device,address owner,uint64 nonce,uint64 expiry)``, signed by the device.

``nonce`` is used once per signer (any order, so a manufacturer can number its vouchers by serial number);
``expiry`` is unix seconds, and a voucher or permit is refused once the chain's (or the gateway's) clock is past it.
docs/signing.md ("Vouchers") walks through both byte by byte; docs/vectors/device-vouchers.json holds vectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from proofstream.domain.eip712 import Domain, Member, typed_data, typed_data_digest
from proofstream.domain.types import Address

ZERO_ADDRESS = Address("0x" + "00" * 20)
"""A voucher's ``owner`` when it leaves the owner to the device's permit."""

VOUCHER_TYPE = "DeviceVoucher"
PERMIT_TYPE = "DevicePermit"
MEMBERS: tuple[Member, ...] = (
    ("project", "uint64"),
    ("device", "address"),
    ("owner", "address"),
    ("nonce", "uint64"),
    ("expiry", "uint64"),
)
"""The members of both structs, in signing order."""

UINT64_MAX = 2**64 - 1


@dataclass(frozen=True)
class Terms:
    """What one voucher or permit binds: the device to ``owner`` in ``project``, once (``nonce``) and until
    ``expiry``."""

    project: int
    device: Address
    owner: Address
    nonce: int
    expiry: int

    def __post_init__(self) -> None:
        for name in ("project", "nonce", "expiry"):
            value = getattr(self, name)
            if not 0 <= value <= UINT64_MAX:
                raise ValueError(f"{name} must be a uint64, got {value}")
        object.__setattr__(self, "device", Address(to_checksum_address(self.device)))
        object.__setattr__(self, "owner", Address(to_checksum_address(self.owner)))

    @property
    def values(self) -> tuple[int, Address, Address, int, int]:
        return self.project, self.device, self.owner, self.nonce, self.expiry


def voucher_digest(domain: Domain, terms: Terms) -> bytes:
    """Digest of ``DeviceVoucher(terms)``: what the issuer signs."""
    return typed_data_digest(domain, VOUCHER_TYPE, MEMBERS, terms.values)


def permit_digest(domain: Domain, terms: Terms) -> bytes:
    """Digest of ``DevicePermit(terms)``: what the device key signs to accept the registration."""
    return typed_data_digest(domain, PERMIT_TYPE, MEMBERS, terms.values)


def voucher_typed_data(domain: Domain, terms: Terms) -> dict[str, Any]:
    """``DeviceVoucher(terms)`` as EIP-712 JSON, for a wallet or an HSM that signs typed data."""
    return typed_data(domain, VOUCHER_TYPE, MEMBERS, terms.values)


def permit_typed_data(domain: Domain, terms: Terms) -> dict[str, Any]:
    return typed_data(domain, PERMIT_TYPE, MEMBERS, terms.values)


@dataclass(frozen=True)
class Voucher:
    """A signed voucher as a registration carries it: the issuer's terms for the device and its signature."""

    issuer: Address
    owner: Address
    """The owner it binds the device to; :data:`ZERO_ADDRESS` leaves it to the device's permit."""
    nonce: int
    expiry: int
    signature: bytes
    """65 bytes ``r || s || v`` of :func:`voucher_digest`."""

    def terms(self, project: int, device: str) -> Terms:
        return Terms(project, Address(device), self.owner, self.nonce, self.expiry)

    @property
    def names_owner(self) -> bool:
        return int(self.owner, 16) != 0

    def as_json(self) -> dict[str, Any]:
        """The ``voucher`` object of a registration request (docs/protocol.md); ``owner`` only when it names one."""
        body: dict[str, Any] = {"issuer": self.issuer, "nonce": self.nonce, "expiry": self.expiry}
        if self.names_owner:
            body["owner"] = self.owner
        return {**body, "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Voucher:
        """The inverse of :meth:`as_json` (a voucher file); the gateway checks what it is sent itself."""
        try:
            signature = bytes.fromhex(str(body["signature"]).removeprefix("0x"))
            return cls(
                Address(to_checksum_address(body["issuer"])),
                Address(to_checksum_address(body.get("owner", ZERO_ADDRESS))),
                int(body["nonce"]),
                int(body["expiry"]),
                signature,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a voucher ({sorted(body)}): {exc}") from exc


@dataclass(frozen=True)
class Permit:
    """The device key's signed consent to a voucher registration to the request's owner."""

    nonce: int
    expiry: int
    signature: bytes
    """65 bytes ``r || s || v`` of :func:`permit_digest`."""
