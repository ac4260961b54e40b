"""The HTTP gateway against a real SQLite store: one test per error code, the duplicate path, status and nonce
queries. Bodies come from the golden vectors (eth_account) or the device SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from testbed import DOMAIN, OWNER, TRACKER_SCHEMA, golden

from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import ConfigVersion, MessageId, Nonce, ProjectId, TaskId
from proofstream.ingest.errors import STATUS_OF_CODE
from proofstream.ingest.http import create_app
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig, TaskRow, TaskUpdate
from proofstream.store.sqlite import SqliteStore

VECTORS = golden("messages.json")
VALID = VECTORS["valid"][0]  # key 0, project 1, nonce 0
MEMBER = DeviceKey.from_hex(VECTORS["valid"][0]["key"])  # registered in project 1
OUTSIDER = DeviceKey.from_hex(VECTORS["valid"][1]["key"])  # registered in project 2 only
STRANGER = DeviceKey.from_hex(VECTORS["valid"][2]["key"])  # registered nowhere
CLOCK = 1_764_300_123.5


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    """The tracker project, project 2 with the same payload, and a member device in each."""
    store.upsert_project(ProjectConfig(ProjectId(2), ConfigVersion(1), TRACKER_SCHEMA, DOMAIN))
    store.upsert_device(ProjectId(1), MEMBER.address, OWNER)
    store.upsert_device(ProjectId(2), OUTSIDER.address, OWNER)
    return store


@pytest.fixture
def client(store: SqliteStore) -> Iterator[TestClient]:
    with TestClient(create_app(store, max_body_bytes=1024, clock=lambda: CLOCK)) as client:
        yield client


def body_for(key: DeviceKey, nonce: int, *, lat: int = 1, project: int = 1, config: int = 1) -> dict[str, Any]:
    return key.sign_message(
        TRACKER_SCHEMA, DOMAIN, project, config, nonce, 1_764_300_000 + nonce, {"lat": lat, "lon": 2}
    )


def stored_count(store: SqliteStore) -> int:
    return sum(len(store.unbatched_messages(c.project)) for c in store.project_configs())


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


# --- the happy paths ---


def test_accepts_a_signed_message_after_storing_it(client: TestClient, store: SqliteStore) -> None:
    response = client.post("/messages", content=VALID["body"], headers={"content-type": "application/json"})
    assert response.status_code == 202
    assert response.json() == {"id": VALID["id"], "status": "received"}
    stored = store.get_message(MessageId(VALID["id"]))
    assert stored is not None and stored.received_at == CLOCK
    assert stored.message.device == VALID["address"]


def test_the_same_message_again_is_200_with_its_current_status(client: TestClient, store: SqliteStore) -> None:
    assert client.post("/messages", content=VALID["body"]).status_code == 202
    again = client.post("/messages", content=VALID["body"])
    assert again.status_code == 200
    assert again.json() == {"id": VALID["id"], "status": "received"}
    task = TaskRow(TaskId(77), ProjectId(1), ConfigVersion(1), MEMBER.address, Nonce(0), Nonce(0), 5, 1.0)
    store.create_task(task, [MessageId(VALID["id"])])
    later = client.post("/messages", json=json.loads(VALID["body"]))  # re-serialised: same message, same id
    assert (later.status_code, later.json()) == (200, {"id": VALID["id"], "status": "batched"})
    assert stored_count(store) == 0  # it is in the task, and was stored once


def test_status_through_the_task_lifecycle(client: TestClient, store: SqliteStore) -> None:
    message_id = client.post("/messages", json=body_for(MEMBER, 4)).json()["id"]
    assert client.get(f"/messages/{message_id}").json() == {"id": message_id, "status": "received"}
    task = TaskRow(TaskId(2**247 + 1), ProjectId(1), ConfigVersion(1), MEMBER.address, Nonce(4), Nonce(4), 2**250, 1.0)
    store.create_task(task, [MessageId(message_id)])
    batched = client.get(f"/messages/{message_id.upper().replace('0X', '0x')}").json()
    assert batched == {
        "id": message_id,
        "status": "batched",
        "task_id": str(2**247 + 1),
        "leaf_index": 0,
        "root": str(2**250),
    }
    store.update_task(task.id, TaskStatus.PROVING)
    store.update_task(task.id, TaskStatus.SUBMITTED, TaskUpdate(route_tx="0x" + "cd" * 32))
    store.update_task(task.id, TaskStatus.SETTLED)
    settled = client.get(f"/messages/{message_id}").json()
    assert (settled["status"], settled["tx_hash"]) == ("settled", "0x" + "cd" * 32)


def test_failed_status_carries_the_reason(client: TestClient, store: SqliteStore) -> None:
    message_id = client.post("/messages", json=body_for(MEMBER, 1)).json()["id"]
    task = TaskRow(TaskId(9), ProjectId(1), ConfigVersion(1), MEMBER.address, Nonce(1), Nonce(1), 3, 1.0)
    store.create_task(task, [MessageId(message_id)])
    store.update_task(task.id, TaskStatus.FAILED, TaskUpdate(reason="deadline missed"))
    assert client.get(f"/messages/{message_id}").json()["reason"] == "deadline missed"


def test_next_nonce(client: TestClient) -> None:
    address = MEMBER.address
    none = {"next_nonce": 0, "last_timestamp": None}
    assert client.get(f"/devices/{address}", params={"project": 1}).json() == none
    for nonce in (3, 8):
        assert client.post("/messages", json=body_for(MEMBER, nonce)).status_code == 202
    after = client.get(f"/devices/{address.lower()}", params={"project": 1}).json()
    assert after == {"next_nonce": 9, "last_timestamp": 1_764_300_000 + 8}
    assert client.get(f"/devices/{address}", params={"project": 2}).json() == none


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_lists_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/messages", "/messages/{message_id}", "/devices/{address}", "/healthz"} <= set(paths)


# --- one test per error code; nothing is stored on any of them ---


def test_invalid_json(client: TestClient, store: SqliteStore) -> None:
    assert_error(client.post("/messages", content=b"{nope"), 400, "invalid_json")
    assert stored_count(store) == 0


def test_body_too_large_by_content_length(client: TestClient, store: SqliteStore) -> None:
    assert_error(client.post("/messages", content=b" " * 1025 + VALID["body"].encode()), 413, "body_too_large")
    assert stored_count(store) == 0


def test_body_too_large_without_content_length(client: TestClient, store: SqliteStore) -> None:
    """A chunked upload has no Content-Length: the bytes actually read are counted."""

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 100
        yield VALID["body"].encode()

    response = client.post("/messages", content=chunks())
    assert_error(response, 413, "body_too_large")
    assert stored_count(store) == 0


def test_body_at_the_limit_is_fine(client: TestClient) -> None:
    body = VALID["body"].encode()
    padded = body + b" " * (1024 - len(body))
    assert client.post("/messages", content=padded).status_code == 202


def test_schema_mismatch(client: TestClient, store: SqliteStore) -> None:
    body = json.loads(VALID["body"])
    body["payload"]["alt"] = 1
    assert_error(client.post("/messages", json=body), 422, "schema_mismatch")
    assert stored_count(store) == 0


def test_invalid_field(client: TestClient, store: SqliteStore) -> None:
    body = json.loads(VALID["body"])
    body["payload"]["lat"] = 2**32
    assert_error(client.post("/messages", json=body), 422, "invalid_field")
    assert stored_count(store) == 0


def test_bad_signature(client: TestClient, store: SqliteStore) -> None:
    body = json.loads(VALID["body"])
    body["payload"]["lat"] += 1
    assert_error(client.post("/messages", json=body), 401, "bad_signature")
    assert stored_count(store) == 0


def test_unknown_device(client: TestClient, store: SqliteStore) -> None:
    assert_error(client.post("/messages", json=body_for(STRANGER, 0)), 403, "unknown_device")
    assert stored_count(store) == 0


def test_device_not_in_project(client: TestClient, store: SqliteStore) -> None:
    assert_error(client.post("/messages", json=body_for(OUTSIDER, 0, project=1)), 403, "device_not_in_project")
    assert client.post("/messages", json=body_for(OUTSIDER, 0, project=2)).status_code == 202
    assert stored_count(store) == 1


def test_unknown_project(client: TestClient, store: SqliteStore) -> None:
    assert_error(client.post("/messages", json=body_for(MEMBER, 0, project=99)), 404, "unknown_project")
    assert stored_count(store) == 0


def test_unknown_config(client: TestClient, store: SqliteStore) -> None:
    assert_error(client.post("/messages", json=body_for(MEMBER, 0, config=2)), 404, "unknown_config")
    assert stored_count(store) == 0


def test_nonce_conflict(client: TestClient, store: SqliteStore) -> None:
    assert client.post("/messages", json=body_for(MEMBER, 5, lat=1)).status_code == 202
    assert_error(client.post("/messages", json=body_for(MEMBER, 5, lat=2)), 409, "nonce_conflict")
    assert stored_count(store) == 1
    assert client.get(f"/devices/{MEMBER.address}", params={"project": 1}).json()["next_nonce"] == 6


@pytest.mark.parametrize("vector", VECTORS["bad"], ids=lambda v: str(v["name"]))
def test_every_bad_vector_is_refused_with_its_code(
    vector: dict[str, Any], client: TestClient, store: SqliteStore
) -> None:
    raw = bytes.fromhex(vector["body_hex"]) if "body_hex" in vector else vector["body"].encode()
    assert_error(client.post("/messages", content=raw), STATUS_OF_CODE[vector["error"]], vector["error"])
    assert stored_count(store) == 0


def test_unknown_message(client: TestClient) -> None:
    assert_error(client.get("/messages/0x" + "00" * 32), 404, "unknown_message")
    assert_error(client.get("/messages/not-an-id"), 404, "unknown_message")


def test_device_query_errors(client: TestClient) -> None:
    assert_error(client.get("/devices/0x1234", params={"project": 1}), 422, "invalid_field")
    assert_error(client.get(f"/devices/{MEMBER.address}", params={"project": 99}), 404, "unknown_project")
    assert_error(client.get(f"/devices/{MEMBER.address}"), 400, "invalid_request")
    assert_error(client.get(f"/devices/{MEMBER.address}", params={"project": -1}), 400, "invalid_request")


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.put("/messages"), 405, "method_not_allowed")


def test_a_new_message_under_a_retired_version_is_refused_and_a_resend_still_answered(store: SqliteStore) -> None:
    retired: set[tuple[int, int]] = set()

    class Liveness:
        def is_live(self, project: ProjectId, version: ConfigVersion) -> bool:
            return (project, version) not in retired

    app = create_app(store, clock=lambda: CLOCK, liveness=Liveness())
    with TestClient(app) as client:
        first = client.post("/messages", json=body_for(MEMBER, 0))
        assert first.status_code == 202
        retired.add((1, 1))

        assert_error(client.post("/messages", json=body_for(MEMBER, 1)), 410, "retired_config")
        assert stored_count(store) == 1  # nothing stored for the refusal
        again = client.post("/messages", json=body_for(MEMBER, 0))
        assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
