"""Receipts checked alone (domain.receipts): a good one passes, and tampering any part of it fails with its code."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from testbed import CHAIN_ID, DOMAIN, TASK_MANAGER, TRACKER_SCHEMA

from proofstream.domain.bjj_messages import message_id as bjj_message_id
from proofstream.domain.bjj_messages import signed_hash
from proofstream.domain.merkle import build_tree
from proofstream.domain.messages import DeviceMessage, check_signature, message_id, message_leaf, parse_body
from proofstream.domain.receipts import RECEIPT_FORMAT, build_receipt, parse_receipt, verify_receipt
from proofstream.domain.tasks import task_id
from proofstream.domain.types import FIELD_MODULUS, MessageId
from proofstream.errors import ReceiptError
from proofstream.sdk.device import BjjDeviceKey, DeviceKey

KEY = DeviceKey.from_hex("0x" + "d1" * 32)
OTHER = DeviceKey.from_hex("0x" + "d2" * 32)
NONCES = (4, 5, 9)  # a gap, as devices may leave


def message(nonce: int, key: DeviceKey = KEY) -> DeviceMessage:
    body = key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, nonce, 1_764_300_000 + nonce, {"lat": 100 + nonce, "lon": 7})
    return parse_body(json.dumps(body).encode(), lambda _p, _c: TRACKER_SCHEMA)


def receipt_json(slot: int = 1, *, tx_hash: str | None = "0x" + "ab" * 32) -> dict[str, Any]:
    messages = [message(n) for n in NONCES]
    tree = build_tree([message_leaf(1, m) for m in messages], 3)
    mine = messages[slot]
    receipt = build_receipt(
        message_id_=message_id(check_signature(mine, DOMAIN)),
        message=mine,
        domain=DOMAIN,
        leaf_index=slot,
        path=tree.inclusion_proof(slot).siblings,
        task=task_id(CHAIN_ID, TASK_MANAGER, 1, KEY.address, NONCES[0]),
        first_nonce=NONCES[0],
        last_nonce=NONCES[-1],
        root=tree.root,
        task_manager=TASK_MANAGER,
        tx_hash=tx_hash,
    )
    return receipt.to_json()


def failure(data: dict[str, Any], *, task_manager: str | None = None) -> str:
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(parse_receipt(data), task_manager=task_manager)
    return caught.value.code


@pytest.mark.parametrize("slot", range(len(NONCES)))
def test_a_good_receipt_verifies_and_round_trips(slot: int) -> None:
    data = receipt_json(slot)
    assert data["format"] == RECEIPT_FORMAT
    assert all(isinstance(node, str) for node in data["path"]) and len(data["path"]) == data["depth"] == 3
    assert isinstance(data["leaf"], str) and isinstance(data["root"], str) and isinstance(data["task_id"], str)
    receipt = verify_receipt(parse_receipt(data))
    assert receipt.to_json() == data
    assert receipt.message.nonce == NONCES[slot]


def test_a_trusted_task_manager_replaces_the_receipts() -> None:
    data = receipt_json()
    data["task_manager"] = None
    assert failure(data) == "task_manager_unknown"
    assert verify_receipt(parse_receipt(data), task_manager=TASK_MANAGER.lower()).task_manager == TASK_MANAGER
    assert failure(receipt_json(), task_manager="0x" + "11" * 20) == "task_id_mismatch"


def tampered(change: str) -> dict[str, Any]:
    data = copy.deepcopy(receipt_json())
    if change == "payload":
        data["message"]["payload"]["lat"] += 1
    elif change == "timestamp":
        data["message"]["timestamp"] += 1
    elif change == "nonce":
        data["message"]["nonce"] += 1
    elif change == "signature":
        data["message"] = receipt_json(2)["message"]  # another message of the same device, signed
    elif change == "device":
        other = OTHER.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, NONCES[1], 1_764_300_005, {"lat": 105, "lon": 7})
        data["message"] = other
    elif change == "leaf":
        data["leaf"] = str(int(data["leaf"]) + 1)
    elif change == "path":
        data["path"][1] = str((int(data["path"][1]) + 1) % FIELD_MODULUS)
    elif change == "path_short":
        data["path"] = data["path"][:-1]
    elif change == "index":
        data["leaf_index"] = 0
    elif change == "root":
        data["root"] = str(int(data["root"]) ^ 1)
    elif change == "task_id":
        data["task_id"] = str(task_id(CHAIN_ID, TASK_MANAGER, 1, KEY.address, NONCES[0] + 1))
    elif change == "first_nonce":
        data["first_nonce"] = NONCES[1] + 1
    elif change == "chain":
        data["chain_id"] = 1
    elif change == "domain":
        data["domain"]["chainId"] = 1
        data["chain_id"] = 1
    else:
        raise AssertionError(change)
    return data


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("payload", "bad_signature"),
        ("timestamp", "bad_signature"),
        ("nonce", "bad_signature"),
        ("signature", "id_mismatch"),
        ("device", "id_mismatch"),
        ("leaf", "leaf_mismatch"),
        ("path", "root_mismatch"),
        ("path_short", "depth_mismatch"),
        ("index", "root_mismatch"),
        ("root", "root_mismatch"),
        ("task_id", "task_id_mismatch"),
        ("first_nonce", "nonce_out_of_range"),
        ("chain", "chain_mismatch"),
        ("domain", "bad_signature"),
    ],
)
def test_tampering_any_part_fails(change: str, code: str) -> None:
    assert failure(tampered(change)) == code


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("root"),
        lambda d: d.update(format="proofstream-receipt/0"),
        lambda d: d.update(extra=1),
        lambda d: d.update(leaf=int(d["leaf"])),
        lambda d: d.update(root=str(FIELD_MODULUS)),
        lambda d: d.update(leaf_index=-1),
        lambda d: d.update(path="0"),
        lambda d: d.update(task_manager="0x1234"),
        lambda d: d["message"].pop("signature"),
        lambda d: d.update(schema=[["lat", "uint32"]]),
    ],
)
def test_malformed_receipts_are_refused(change: Any) -> None:
    data = receipt_json()
    change(data)
    with pytest.raises(ReceiptError) as caught:
        parse_receipt(data)
    assert caught.value.code == "receipt_malformed"


def test_ids_are_lower_case() -> None:
    data = receipt_json()
    data["id"] = data["id"].upper().replace("0X", "0x")
    assert verify_receipt(parse_receipt(data)).id == MessageId(receipt_json()["id"])


def bjj_receipt_json(key: BjjDeviceKey) -> dict[str, Any]:
    """A receipt of a BabyJubJub device's message, alone in its task."""
    body = key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, 3, 1_764_300_003, {"lat": 103, "lon": 7})
    mine = parse_body(json.dumps(body).encode(), lambda _p, _c: TRACKER_SCHEMA)
    tree = build_tree([message_leaf(1, mine)], 2)
    receipt = build_receipt(
        message_id_=bjj_message_id(signed_hash(mine, DOMAIN)),
        message=mine,
        domain=DOMAIN,
        leaf_index=0,
        path=tree.inclusion_proof(0).siblings,
        task=task_id(CHAIN_ID, TASK_MANAGER, 1, key.address, 3),
        first_nonce=3,
        last_nonce=3,
        root=tree.root,
        task_manager=TASK_MANAGER,
        tx_hash=None,
        public_key=key.public_key,
    )
    return receipt.to_json()


def test_a_babyjubjub_receipt_verifies_under_the_key_its_device_id_names() -> None:
    key = BjjDeviceKey.generate()
    data = bjj_receipt_json(key)
    assert data["public_key"] == "0x" + key.public_key_bytes.hex()
    assert verify_receipt(parse_receipt(data)).public_key == key.public_key
    other = BjjDeviceKey.generate()
    swapped = dict(data, public_key="0x" + other.public_key_bytes.hex())  # not the device id's key
    assert failure(swapped) == "bad_signature"
    assert failure(dict(data, public_key=None)) == "bad_signature"
    assert failure(dict(data, public_key="0x1234")) == "receipt_malformed"
    forged = copy.deepcopy(data)
    forged["message"]["payload"]["lat"] = 104  # the device never signed this fix
    assert failure(forged) == "bad_signature"
