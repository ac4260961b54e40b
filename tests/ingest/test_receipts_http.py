"""``GET /messages/{id}/receipt`` against a real store: the receipt of a batched message verifies alone, names the
settling transaction only once the task is settled, and the errors say why there is none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from testbed import CHAIN_ID, DOMAIN, OWNER, TASK_MANAGER, TRACKER_SCHEMA

from proofstream.domain.merkle import build_tree
from proofstream.domain.messages import message_leaf
from proofstream.domain.receipts import parse_receipt, verify_receipt
from proofstream.domain.tasks import TaskStatus, task_id
from proofstream.domain.types import ConfigVersion, MessageId, Nonce, ProjectId
from proofstream.ingest.http import create_app
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import TaskRow, TaskUpdate
from proofstream.store.sqlite import SqliteStore

KEY = DeviceKey.from_hex("0x" + "d1" * 32)
DEPTH = 3


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    """The tracker project with one member device."""
    store.upsert_device(ProjectId(1), KEY.address, OWNER)
    return store


@pytest.fixture
def client(store: SqliteStore) -> Iterator[TestClient]:
    with TestClient(create_app(store, task_manager=TASK_MANAGER)) as client:
        yield client


def send(client: TestClient, nonces: list[int]) -> list[str]:
    ids = []
    for nonce in nonces:
        body = KEY.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, nonce, 1_764_300_000 + nonce, {"lat": nonce, "lon": 2})
        response = client.post("/messages", json=body)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


def batch(store: SqliteStore, ids: list[str], *, root: int | None = None) -> TaskRow:
    messages = [store.get_message(MessageId(i)) for i in ids]
    leaves = [message_leaf(1, m.message) for m in messages if m is not None]
    first, last = messages[0], messages[-1]
    assert first is not None and last is not None
    task = TaskRow(
        id=task_id(CHAIN_ID, TASK_MANAGER, 1, KEY.address, first.message.nonce),
        project=ProjectId(1),
        config=ConfigVersion(1),
        device=KEY.address,
        first_nonce=Nonce(first.message.nonce),
        last_nonce=Nonce(last.message.nonce),
        root=build_tree(leaves, DEPTH).root if root is None else root,
        created_at=1.0,
    )
    store.create_task(task, [MessageId(i) for i in ids])
    return task


def test_the_receipt_of_a_batched_message_verifies_alone(client: TestClient, store: SqliteStore) -> None:
    ids = send(client, [2, 3, 7, 8, 11])
    task = batch(store, ids)
    for slot, message_id in enumerate(ids):
        response = client.get(f"/messages/{message_id}/receipt")
        assert response.status_code == 200, response.text
        data = response.json()
        receipt = verify_receipt(parse_receipt(data))
        assert (receipt.leaf_index, receipt.depth, receipt.task_id, receipt.root) == (slot, DEPTH, task.id, task.root)
        assert (data["task_id"], data["root"], data["chain_id"]) == (str(task.id), str(task.root), 31337)
        assert (data["task_manager"], data["tx_hash"]) == (TASK_MANAGER, None)
        assert (data["first_nonce"], data["last_nonce"]) == (2, 11)


def test_the_settling_transaction_appears_once_settled(client: TestClient, store: SqliteStore) -> None:
    ids = send(client, [0])
    task = batch(store, ids)
    store.update_task(task.id, TaskStatus.PROVING)
    store.update_task(task.id, TaskStatus.SUBMITTED, TaskUpdate(route_tx="0x" + "cd" * 32))
    assert client.get(f"/messages/{ids[0]}/receipt").json()["tx_hash"] is None  # sent, not settled yet
    store.update_task(task.id, TaskStatus.SETTLED)
    data = client.get(f"/messages/{ids[0]}/receipt").json()
    assert data["tx_hash"] == "0x" + "cd" * 32
    assert verify_receipt(parse_receipt(data)).depth == DEPTH


def test_no_receipt_before_the_message_is_in_a_task(client: TestClient) -> None:
    ids = send(client, [0])
    response = client.get(f"/messages/{ids[0]}/receipt")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_batched")


def test_no_receipt_for_an_unknown_message(client: TestClient) -> None:
    for path in ("/messages/0x" + "00" * 32 + "/receipt", "/messages/nope/receipt"):
        response = client.get(path)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_message")


def test_a_root_the_leaves_do_not_give_is_not_served(client: TestClient, store: SqliteStore) -> None:
    ids = send(client, [0, 1])
    batch(store, ids, root=12345)
    response = client.get(f"/messages/{ids[0]}/receipt")
    assert (response.status_code, response.json()["error"]["code"]) == (500, "receipt_unavailable")


def test_without_a_task_manager_the_receipt_says_null(store: SqliteStore) -> None:
    with TestClient(create_app(store)) as client:
        ids = send(client, [0])
        batch(store, ids)
        data = client.get(f"/messages/{ids[0]}/receipt").json()
    assert data["task_manager"] is None
    assert verify_receipt(parse_receipt(data), task_manager=TASK_MANAGER).task_manager == TASK_MANAGER
