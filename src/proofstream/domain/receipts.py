"""Message receipts: what a device (or anyone) needs to check alone that one signed message is a leaf of a task
whose root the chain records, without trusting the gateway that handed the receipt out.

The format (docs/protocol.md, "Receipts") is JSON; every field element is a decimal string. This module parses it
and checks everything that needs no chain: the device's signature and the message id, the leaf recomputed from
the message's fields with the schema, the Merkle path folded from that leaf to the root, and the task id
recomputed from the deployment, the device and the first nonce. :mod:`proofstream.chain.receipts` then checks the
task on chain (root, status, device, project, nonce range).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from proofstream.domain import p256
from proofstream.domain.babyjub import Point
from proofstream.domain.bjj_messages import (
    decode_public_key,
    encode_public_key,
    signature_key_type,
)
from proofstream.domain.device_signatures import verify_device_signature
from proofstream.domain.eip712 import Domain
from proofstream.domain.merkle import MAX_DEPTH, MerkleProof, verify_inclusion
from proofstream.domain.messages import DeviceMessage, body_dict, message_id, message_leaf, parse_body
from proofstream.domain.schema import Schema
from proofstream.domain.tasks import task_id
from proofstream.domain.types import FIELD_MODULUS, Address, MessageId, Nonce, TaskId
from proofstream.domain.w3bstream import open_envelope
from proofstream.errors import MessageError, ReceiptError

RECEIPT_FORMAT = "proofstream-receipt/1"
"""The ``format`` field of every receipt of this version."""

RECEIPT_KEYS = frozenset(
    {
        "format",
        "id",
        "message",
        "schema",
        "domain",
        "leaf",
        "leaf_index",
        "depth",
        "path",
        "task_id",
        "first_nonce",
        "last_nonce",
        "root",
        "chain_id",
        "task_manager",
        "tx_hash",
        "public_key",
    }
)


@dataclass(frozen=True)
class Receipt:
    """One message's inclusion in one task, as ``GET /messages/{id}/receipt`` returns it."""

    id: MessageId
    message: DeviceMessage
    schema: Schema
    domain: Domain
    """The EIP-712 domain the device signed under (chain id + DeviceRegistry)."""
    leaf: int
    leaf_index: int
    depth: int
    path: tuple[int, ...]
    """Sibling hashes bottom-up (``domain.merkle.MerkleProof.siblings``)."""
    task_id: TaskId
    first_nonce: Nonce
    last_nonce: Nonce
    root: int
    chain_id: int
    task_manager: Address | None
    """None when the gateway did not say: the verifier must be told (``--task-manager``)."""
    tx_hash: str | None
    """The route transaction that settled the task; None until it is settled."""
    public_key: Point | None = None
    """A BabyJubJub or P-256 device's key (its device id is the key's hash); None for a secp256k1 device."""
    envelope: str | None = None
    """What a W3bStream device signed (``domain.w3bstream.envelope``): its signature is checked over that instead."""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECEIPT_FORMAT,
            "id": self.id,
            "message": body_dict(self.message),
            "schema": self.schema.to_json(),
            "domain": self.domain.as_dict(),
            "leaf": str(self.leaf),
            "leaf_index": self.leaf_index,
            "depth": self.depth,
            "path": [str(node) for node in self.path],
            "task_id": str(self.task_id),
            "first_nonce": self.first_nonce,
            "last_nonce": self.last_nonce,
            "root": str(self.root),
            "chain_id": self.chain_id,
            "task_manager": self.task_manager,
            "tx_hash": self.tx_hash,
            "public_key": None if self.public_key is None else "0x" + encode_public_key(self.public_key).hex(),
            **({} if self.envelope is None else {"envelope": self.envelope}),
        }


def _malformed(what: str) -> ReceiptError:
    return ReceiptError(f"the receipt is malformed: {what}", code="receipt_malformed")


def _field(data: Mapping[str, Any], key: str) -> int:
    value = data[key]
    if not isinstance(value, str) or not value.isdigit():
        raise _malformed(f"{key} must be a decimal string")
    number = int(value)
    if number >= FIELD_MODULUS:
        raise _malformed(f"{key} is not a BN254 field element")
    return number


def _integer(data: Mapping[str, Any], key: str, *, below: int = 2**64) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < below:
        raise _malformed(f"{key} must be an integer in 0..{below - 1}")
    return value


def _address(value: Any, key: str) -> Address:
    if not isinstance(value, str) or not is_address(value):
        raise _malformed(f"{key} must be a 0x address")
    return Address(to_checksum_address(value))


def parse_receipt(data: Any) -> Receipt:
    """Parse a receipt's JSON object; ReceiptError ``receipt_malformed`` for anything that is not one (the
    message itself must parse under the receipt's schema)."""
    if not isinstance(data, Mapping):
        raise _malformed("not a JSON object")
    if data.get("format") != RECEIPT_FORMAT:
        raise _malformed(f"format must be {RECEIPT_FORMAT!r}, got {data.get('format')!r}")
    missing, extra = RECEIPT_KEYS - set(data), set(data) - RECEIPT_KEYS - {"envelope"}
    if missing or extra:
        raise _malformed(f"missing keys {sorted(missing)}, unexpected keys {sorted(extra)}")
    try:
        schema = Schema.from_json(data["schema"])
        domain_json = data["domain"]
        domain = Domain(
            chain_id=int(domain_json["chainId"]),
            verifying_contract=_address(domain_json["verifyingContract"], "domain.verifyingContract"),
            name=str(domain_json["name"]),
            version=str(domain_json["version"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _malformed(f"schema or domain: {exc}") from exc
    if not isinstance(data["message"], Mapping):
        raise _malformed("message must be the message's JSON body")
    try:
        message = parse_body(json.dumps(data["message"]).encode(), lambda _project, _config: schema)
    except MessageError as exc:
        raise _malformed(f"message: {exc}") from exc
    path = data["path"]
    if not isinstance(path, list):
        raise _malformed("path must be a list of decimal strings")
    depth = _integer(data, "depth", below=MAX_DEPTH + 1)
    tx_hash = data["tx_hash"]
    if tx_hash is not None and not isinstance(tx_hash, str):
        raise _malformed("tx_hash must be a string or null")
    identifier = data["id"]
    if not isinstance(identifier, str):
        raise _malformed("id must be a string")
    public_key = data["public_key"]
    if public_key is not None:
        try:
            raw_key = bytes.fromhex(str(public_key).removeprefix("0x"))
            p256_signed = signature_key_type(message.signature) == "p256"
            public_key = p256.decode_public_key(raw_key) if p256_signed else decode_public_key(raw_key)
        except (MessageError, ValueError) as exc:
            raise _malformed(f"public_key: {exc}") from exc
    return Receipt(
        id=MessageId(identifier.lower()),
        message=message,
        schema=schema,
        domain=domain,
        leaf=_field(data, "leaf"),
        leaf_index=_integer(data, "leaf_index", below=2**MAX_DEPTH),
        depth=depth,
        path=tuple(_field({"path element": node}, "path element") for node in path),
        task_id=TaskId(_field(data, "task_id")),
        first_nonce=Nonce(_integer(data, "first_nonce")),
        last_nonce=Nonce(_integer(data, "last_nonce")),
        root=_field(data, "root"),
        chain_id=_integer(data, "chain_id", below=2**256),
        task_manager=None if data["task_manager"] is None else _address(data["task_manager"], "task_manager"),
        tx_hash=tx_hash,
        public_key=public_key,
        envelope=None if data.get("envelope") is None else str(data["envelope"]),
    )


def _signed_id(receipt: Receipt) -> MessageId:
    """The id of what the device signed, once its signature checks out: the EIP-712 digest's hash (secp256k1, and
    P-256 under the receipt's key) or the hash of ``m`` (BabyJubJub, under the receipt's key); a key's hash must
    be the device id."""
    message = receipt.message
    try:
        if receipt.envelope is not None:
            digest, signer = open_envelope(receipt.envelope)
            if signer != message.device:
                raise MessageError(f"the envelope is signed by {signer}, not {message.device}", code="bad_signature")
            return message_id(digest)
        return verify_device_signature(message, receipt.domain, receipt.public_key).id
    except MessageError as exc:
        raise ReceiptError(f"the message's signature is not the device's: {exc}", code="bad_signature") from exc


def verify_receipt(receipt: Receipt, *, task_manager: str | None = None) -> Receipt:
    """Check everything in ``receipt`` that needs no chain; return it (with ``task_manager`` filled in when given)
    or raise ReceiptError with the first failure's code:

    ``chain_mismatch`` (the receipt's chain is not the signing domain's), ``bad_signature`` (the signature
    does not recover the message's device under the receipt's domain, or, for a BabyJubJub device, does not verify
    under the receipt's ``public_key`` whose hash must be the device id), ``id_mismatch`` (the id is not the hash
    of what was signed), ``leaf_mismatch`` (the leaf is not Poseidon(LEAF_TAG, project, device, nonce,
    timestamp, payload...) of the message), ``depth_mismatch`` (the path is not ``depth`` long, or the index
    does not fit it), ``root_mismatch`` (the path from the leaf at
    ``leaf_index`` does not fold to the root), ``nonce_out_of_range`` (the nonce is not in the task's
    ``[first_nonce, last_nonce]``, or the index could not be its slot), ``task_manager_unknown``,
    ``task_id_mismatch`` (the task id is not TaskManager's id for this chain, TaskManager, project, device and
    first nonce).

    ``task_manager`` (an address the verifier trusts, e.g. from the project's deployment) overrides the receipt's.
    """
    message = receipt.message
    if receipt.chain_id != receipt.domain.chain_id:
        raise ReceiptError(
            f"the receipt's chain {receipt.chain_id} is not the chain the message was signed for "
            f"({receipt.domain.chain_id})",
            code="chain_mismatch",
        )
    signed_id = _signed_id(receipt)
    if signed_id != receipt.id:
        raise ReceiptError(
            f"the message id {receipt.id} is not the hash of what the device signed ({signed_id})", code="id_mismatch"
        )
    leaf = message_leaf(message.project, message)
    if leaf != receipt.leaf:
        raise ReceiptError(
            f"the leaf {receipt.leaf} is not the message's (recomputed from its fields: {leaf})", code="leaf_mismatch"
        )
    if len(receipt.path) != receipt.depth or receipt.leaf_index >= 1 << receipt.depth:
        raise ReceiptError(
            f"a depth-{receipt.depth} path has {receipt.depth} siblings and an index below {1 << receipt.depth}; "
            f"this one has {len(receipt.path)} siblings and index {receipt.leaf_index}",
            code="depth_mismatch",
        )
    if not verify_inclusion(receipt.root, leaf, MerkleProof(receipt.leaf_index, receipt.path)):
        raise ReceiptError(
            f"the Merkle path from the leaf at index {receipt.leaf_index} does not lead to the root {receipt.root}",
            code="root_mismatch",
        )
    # Leaves fill slots in nonce order from first_nonce, gaps allowed: slot i holds a nonce >= first_nonce + i.
    if not (
        receipt.first_nonce <= message.nonce <= receipt.last_nonce
        and receipt.leaf_index <= message.nonce - receipt.first_nonce
    ):
        raise ReceiptError(
            f"nonce {message.nonce} at index {receipt.leaf_index} cannot be in a task of nonces "
            f"{receipt.first_nonce}..{receipt.last_nonce}",
            code="nonce_out_of_range",
        )
    manager = task_manager if task_manager is not None else receipt.task_manager
    if manager is None:
        raise ReceiptError(
            "the receipt names no TaskManager: give its address (--task-manager)", code="task_manager_unknown"
        )
    expected = task_id(receipt.chain_id, manager, message.project, message.device, receipt.first_nonce)
    if expected != receipt.task_id:
        raise ReceiptError(
            f"task id {receipt.task_id} is not TaskManager {manager}'s id on chain {receipt.chain_id} for this "
            f"device's task from nonce {receipt.first_nonce} ({expected})",
            code="task_id_mismatch",
        )
    if task_manager is None:
        return receipt
    return replace(receipt, task_manager=Address(to_checksum_address(task_manager)))


def build_receipt(
    *,
    message_id_: MessageId,
    message: DeviceMessage,
    domain: Domain,
    leaf_index: int,
    path: Sequence[int],
    task: TaskId,
    first_nonce: int,
    last_nonce: int,
    root: int,
    task_manager: str | None,
    tx_hash: str | None,
    public_key: Point | None = None,
    envelope: str | None = None,
) -> Receipt:
    """A receipt for ``message`` (the gateway's side); its leaf is recomputed here from the message.
    ``public_key``: the registered key of a BabyJubJub device."""
    return Receipt(
        id=message_id_,
        message=message,
        schema=message.schema,
        domain=domain,
        leaf=message_leaf(message.project, message),
        leaf_index=leaf_index,
        depth=len(path),
        path=tuple(path),
        task_id=task,
        first_nonce=Nonce(first_nonce),
        last_nonce=Nonce(last_nonce),
        root=root,
        chain_id=domain.chain_id,
        task_manager=None if task_manager is None else Address(to_checksum_address(task_manager)),
        tx_hash=tx_hash,
        public_key=public_key,
        envelope=envelope,
    )
