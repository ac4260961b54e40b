"""Device DIDs (W3C Decentralized Identifiers): the identifier of each device key type and its DID document.

- secp256k1: ``did:pkh:eip155:<chainId>:<address>`` (the CAIP-10 account of the key on the registry's chain).
- P-256: ``did:key:z<base58btc(0x80 0x24 || compressed point)>`` (multicodec ``p256-pub`` = 0x1200 as an unsigned
  varint, then the 33-byte SEC 1 compressed key), as the did:key method specifies; it starts ``did:key:zDn``.

A BabyJubJub key has no registered multicodec and no DID here. The gateway serves the documents
(``GET /did/{did}``, ingest/dids.py) with the device's on-chain state under ``"proofstream"``;
``tests/vectors/p256.json`` pins the did:key of each test key (made with ethers' base58).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from eth_utils.address import to_checksum_address

from proofstream.domain import p256
from proofstream.domain.types import Address, ProjectId
from proofstream.errors import MessageError

__all__ = [
    "P256_PUB_MULTICODEC",
    "DeviceDid",
    "Membership",
    "base58_decode",
    "base58_encode",
    "did_document",
    "did_key_p256",
    "did_pkh",
    "parse_did",
]

P256_PUB_MULTICODEC = b"\x80\x24"
"""The multicodec ``p256-pub`` (0x1200) as an unsigned varint: the prefix of a P-256 did:key's key bytes."""

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
"""base58btc (Bitcoin's alphabet); multibase prefix ``z``."""

_PKH = re.compile(r"did:pkh:eip155:([1-9][0-9]{0,19}):(0x[0-9a-fA-F]{40})")
_KEY = re.compile(r"did:key:z([1-9A-HJ-NP-Za-km-z]{1,100})")

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
PKH_CONTEXT: dict[str, str] = {
    "blockchainAccountId": "https://w3id.org/security#blockchainAccountId",
    "EcdsaSecp256k1RecoveryMethod2020": (
        "https://identity.foundation/EcdsaSecp256k1RecoverySignature2020#EcdsaSecp256k1RecoveryMethod2020"
    ),
}
"""The did:pkh method's terms for an EIP-155 account's verification method."""


def base58_encode(data: bytes) -> str:
    """base58btc: the big-endian number in Bitcoin's alphabet, one ``1`` per leading zero byte."""
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = _ALPHABET[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def base58_decode(text: str) -> bytes:
    """The bytes of :func:`base58_encode`; ValueError for a character outside the alphabet."""
    number = 0
    for char in text:
        number = number * 58 + _ALPHABET.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def did_pkh(chain_id: int, address: str) -> str:
    """``did:pkh:eip155:<chainId>:<checksummed address>``: a secp256k1 device's DID."""
    return f"did:pkh:eip155:{chain_id}:{to_checksum_address(address)}"


def did_key_p256(public_key: p256.Point) -> str:
    """``did:key:z...`` of a P-256 key: multicodec ``p256-pub`` then the compressed point, base58btc."""
    return "did:key:z" + base58_encode(P256_PUB_MULTICODEC + p256.compress(public_key))


@dataclass(frozen=True)
class DeviceDid:
    """What a DID names: the device id, and for did:pkh the chain, for did:key the P-256 key."""

    did: str
    """The canonical form (checksummed address) of the DID asked for."""
    device: Address
    key_type: Literal["secp256k1", "p256"]
    chain_id: int | None = None
    public_key: p256.Point | None = None


def _invalid(did: str, why: str) -> MessageError:
    return MessageError(
        f"{did[:120]!r} is not a device DID ({why}): did:pkh:eip155:<chainId>:<address> or a P-256 did:key",
        code="invalid_did",
    )


def parse_did(did: str) -> DeviceDid:
    """Read a did:pkh (EIP-155) or P-256 did:key; MessageError ``invalid_did`` for anything else (another method,
    another did:key key type, bad base58, a point not on the curve)."""
    pkh = _PKH.fullmatch(did)
    if pkh is not None:
        chain_id, address = int(pkh.group(1)), Address(to_checksum_address(pkh.group(2)))
        return DeviceDid(did_pkh(chain_id, address), address, "secp256k1", chain_id=chain_id)
    key = _KEY.fullmatch(did)
    if key is None:
        raise _invalid(did, "unknown method or malformed")
    raw = base58_decode(key.group(1))
    if raw[:2] != P256_PUB_MULTICODEC or len(raw) != 35:
        raise _invalid(did, "only P-256 keys (multicodec p256-pub, 0x1200, compressed) are device keys")
    try:
        point = p256.decompress(raw[2:])
    except MessageError as exc:
        raise _invalid(did, exc.message) from exc
    return DeviceDid(did_key_p256(point), p256.device_id(point), "p256", public_key=point)


@dataclass(frozen=True)
class Membership:
    """A device's registration in one project, as the DeviceRegistry holds it."""

    project: ProjectId
    owner: Address
    active: bool


def did_document(
    parsed: DeviceDid, chain_id: int, device_registry: Address, memberships: list[Membership]
) -> dict[str, Any]:
    """The W3C DID document of a registered device, with its on-chain state under ``"proofstream"``."""
    did = parsed.did
    common = {
        "proofstream": {
            "device": parsed.device,
            "key_type": parsed.key_type,
            "chain_id": chain_id,
            "device_registry": device_registry,
            "projects": [{"project": m.project, "owner": m.owner, "active": m.active} for m in memberships],
        }
    }
    if parsed.public_key is None:
        method_id = f"{did}#blockchainAccountId"
        return {
            "@context": [DID_CONTEXT, PKH_CONTEXT],
            "id": did,
            "verificationMethod": [
                {
                    "id": method_id,
                    "type": "EcdsaSecp256k1RecoveryMethod2020",
                    "controller": did,
                    "blockchainAccountId": did.removeprefix("did:pkh:"),
                }
            ],
            "authentication": [method_id],
            "assertionMethod": [method_id],
            **common,
        }
    multibase = did.removeprefix("did:key:")
    method_id = f"{did}#{multibase}"
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [
            {"id": method_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
        ],
        "authentication": [method_id],
        "assertionMethod": [method_id],
        "capabilityInvocation": [method_id],
        "capabilityDelegation": [method_id],
        **common,
    }
