"""The W3bStream v0.25 endpoints (POST /v1/task, GET /v1/task/{id}) against a real SQLite store: the golden
vectors (tests/vectors/w3bstream.json, made independently by scripts/vectors/w3bstream.py) admitted as the
tracker project's messages, resends and the high-s twin, replays, and one test per refusal, none storing a thing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_keys.datatypes import PrivateKey
from fastapi.testclient import TestClient
from testbed import CHAIN_ID, OWNER, TASK_MANAGER, TRACKER, TRACKER_SCHEMA, golden

from proofstream.domain import w3bstream
from proofstream.domain.merkle import build_tree
from proofstream.domain.messages import message_leaf
from proofstream.domain.receipts import parse_receipt, verify_receipt
from proofstream.domain.tasks import TaskStatus, task_id
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, ProjectId, TaskId
from proofstream.errors import ReceiptError
from proofstream.ingest.http import create_app
from proofstream.ingest.w3bstream import W3bProject
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig, TaskRow, TaskUpdate
from proofstream.store.sqlite import SqliteStore

VECTORS = {v["name"]: v for v in golden("w3bstream.json")["vectors"]}
PLAIN = VECTORS["json payload, version 1"]
SPACED = VECTORS["json payload with spaces and an escaped note, no version, signed keys"]
PACKED = VECTORS["hex payload: timestamp, lat, lon packed big-endian"]
TWIN = VECTORS["high-s twin of the first"]
DEVICE = DeviceKey.from_hex(PLAIN["key"])
CLOCK = 1_764_300_123.5
TRACKER_W3B = w3bstream.W3bConfig(keys=(("lat", "lat"), ("lon", "lon")), timestamp="timestamp")


def projects(config: w3bstream.W3bConfig | None = TRACKER_W3B, *, circuit: bool = False) -> dict[Any, W3bProject]:
    return {
        (ProjectId(1), ConfigVersion(1)): W3bProject(config, circuit_signatures=circuit),
        (ProjectId(2), ConfigVersion(1)): W3bProject(None),
    }


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    """The tracker project with the vectors' device, and project 2 (no [w3bstream] section) with it too."""
    store.upsert_project(ProjectConfig(ProjectId(2), ConfigVersion(1), TRACKER_SCHEMA, TRACKER.domain))
    store.upsert_device(ProjectId(1), DEVICE.address, OWNER)
    store.upsert_device(ProjectId(2), DEVICE.address, OWNER)
    return store


def client_for(store: SqliteStore, w3b: dict[Any, W3bProject]) -> TestClient:
    return TestClient(create_app(store, max_body_bytes=2048, clock=lambda: CLOCK, w3bstream=w3b))


@pytest.fixture
def client(store: SqliteStore) -> Iterator[TestClient]:
    with client_for(store, projects()) as client:
        yield client


def stored_count(store: SqliteStore) -> int:
    return sum(len(store.unbatched_messages(c.project)) for c in store.project_configs())


def task(
    nonce: int, payload: dict[str, Any], *, project: str = "1", version: str = "1", key: str = PLAIN["key"]
) -> str:
    """A W3bStream body signed as go-ethereum signs it (eth_keys), payload without spaces."""
    marshalled = json.dumps(payload, separators=(",", ":"))
    version_part = f',"projectVersion":"{version}"' if version else ""
    signed = f'{{"nonce":{nonce},"projectID":"{project}"{version_part},"payload":{marshalled}}}'
    sig = PrivateKey(bytes.fromhex(key[2:])).sign_msg_hash(hashlib.sha256(signed.encode()).digest())
    signature = "0x" + sig.r.to_bytes(32, "big").hex() + sig.s.to_bytes(32, "big").hex()
    return signed[:-1] + f',"signature":"{signature}"}}'


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_a_w3bstream_task_is_stored_as_the_projects_message(client: TestClient, store: SqliteStore) -> None:
    response = client.post("/v1/task", content=PLAIN["body"])
    assert response.status_code == 200, response.text
    assert response.json() == {"taskID": PLAIN["id"], "id": PLAIN["id"], "status": "received", "created": True}
    stored = store.get_message(MessageId(PLAIN["id"]))
    assert stored is not None and stored.envelope is not None
    message = stored.message
    assert (message.project, message.config, message.device, message.nonce) == (1, 1, DEVICE.address, 5)
    assert (message.timestamp, message.payload_dict) == (1_764_300_000, {"lat": 123_456_789, "lon": 200_000_000})
    # What the device signed is kept: the envelope checks out again to the same digest and device.
    digest, signer = w3bstream.open_envelope(stored.envelope)
    assert ("0x" + digest.hex(), signer) == (PLAIN["digest"], DEVICE.address)


def test_a_resend_and_the_high_s_twin_are_the_same_message(client: TestClient, store: SqliteStore) -> None:
    assert client.post("/v1/task", content=PLAIN["body"]).json()["created"] is True
    for body in (PLAIN["body"], TWIN["body"]):
        again = client.post("/v1/task", content=body)
        assert (again.status_code, again.json()["id"], again.json()["created"]) == (200, PLAIN["id"], False)
    assert stored_count(store) == 1


def test_a_hex_payload_is_the_packed_timestamp_and_fields(client: TestClient, store: SqliteStore) -> None:
    assert client.post("/v1/task", content=PACKED["body"]).json()["id"] == PACKED["id"]
    stored = store.get_message(MessageId(PACKED["id"]))
    assert stored is not None
    assert (stored.message.timestamp, stored.message.payload) == (1_764_300_002, (123_456_790, 200_000_001))


def test_signed_keys_enter_the_digest(store: SqliteStore) -> None:
    with_keys = projects(w3bstream.W3bConfig(TRACKER_W3B.keys, "timestamp", ("timestamp",)))
    with client_for(store, with_keys) as client:
        assert client.post("/v1/task", content=SPACED["body"]).json()["id"] == SPACED["id"]
        # Signed without the key's value, the digest is another one: the key it recovers is nobody's.
        assert_error(client.post("/v1/task", content=PLAIN["body"]), 403, "unknown_device")
    assert stored_count(store) == 1


def test_replays_are_refused(client: TestClient, store: SqliteStore) -> None:
    """W3bStream keeps every task; here a used nonce with other content is a conflict, an older one stale."""
    assert client.post("/v1/task", content=task(10, {"lat": 1, "lon": 2, "timestamp": 1_764_300_010})).is_success
    assert_error(
        client.post("/v1/task", content=task(10, {"lat": 9, "lon": 2, "timestamp": 1_764_300_011})),
        409,
        "nonce_conflict",
    )
    assert_error(
        client.post("/v1/task", content=task(11, {"lat": 1, "lon": 2, "timestamp": 1_764_300_010})),
        409,
        "stale_timestamp",
    )
    assert stored_count(store) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"\xff\xfe garbage", 400, "invalid_json"),
        (b'{"nonce": 1, "nonce": 2}', 400, "invalid_json"),
        (PLAIN["body"].replace('"nonce": 5', '"nonce": 5, "extra": 1'), 400, "invalid_json"),
        (PLAIN["body"].replace('"nonce": 5', '"nonce": -5'), 422, "invalid_field"),
        (PLAIN["body"].replace('"projectID": "1"', '"projectID": 1'), 422, "invalid_field"),
        (PLAIN["body"].replace(PLAIN["body"][-20:], '"}'), 422, "invalid_field"),  # a short signature
        (task(1, {"lat": 1, "lon": 2}), 422, "invalid_field"),  # no timestamp key
        (task(1, {"lat": 2**40, "lon": 2, "timestamp": 1}), 422, "invalid_field"),
        (task(1, {"lat": 1, "lon": 2, "timestamp": 1}, project="7"), 404, "unknown_project"),
        (task(1, {"lat": 1, "lon": 2, "timestamp": 1}, version="9"), 404, "unknown_config"),
        (task(1, {"lat": 1, "lon": 2, "timestamp": 1}, project="2"), 403, "w3bstream_disabled"),
        (task(1, {"lat": 1, "lon": 2, "timestamp": 1}, key="0x" + "11" * 32), 403, "unknown_device"),
    ],
)
def test_each_refusal_has_its_code_and_stores_nothing(
    client: TestClient, store: SqliteStore, body: str | bytes, status: int, code: str
) -> None:
    assert_error(client.post("/v1/task", content=body), status, code)
    assert stored_count(store) == 0


class CountingStore(SqliteStore):
    """Counts the directory reads that reach the store."""

    reads = 0

    def device_projects(self, device: Address) -> set[ProjectId]:
        self.reads += 1
        return super().device_projects(device)

    def project_configs(self, project: ProjectId | None = None) -> list[ProjectConfig]:
        self.reads += 1
        return super().project_configs(project)


def test_tasks_read_the_gateways_directory_cache_as_every_transport_does(tmp_path: Path) -> None:
    with CountingStore(tmp_path / "s.db") as store:
        store.upsert_project(TRACKER)
        store.upsert_device(ProjectId(1), DEVICE.address, OWNER)
        with client_for(store, projects()) as client:
            sent = [task(n, {"lat": 1, "lon": 2, "timestamp": 1_764_300_000 + n}) for n in range(1, 7)]
            assert all(client.post("/v1/task", content=body).status_code == 200 for body in sent)
        # Uncached, each task reads the project's configs and the devices of one or two recovered keys (12+);
        # cached, the first reads them and the rest are answered for 2 s (a slow run may read once more).
        assert store.reads <= 4
        assert stored_count(store) == 6


def test_a_project_with_in_circuit_signatures_refuses_the_endpoint(store: SqliteStore) -> None:
    with client_for(store, projects(circuit=True)) as client:
        assert_error(client.post("/v1/task", content=PLAIN["body"]), 403, "w3bstream_refused")
    assert stored_count(store) == 0


def test_the_query_answers_the_trail_of_states(client: TestClient, store: SqliteStore) -> None:
    unknown = client.get("/v1/task/0x" + "00" * 32).json()
    assert unknown == {"projectID": "", "taskID": "0x" + "00" * 32, "states": []}
    message_id = client.post("/v1/task", content=PLAIN["body"]).json()["taskID"]
    assert [s["state"] for s in client.get(f"/v1/task/{message_id}").json()["states"]] == ["packed"]
    row = TaskRow(TaskId(41), ProjectId(1), ConfigVersion(1), DEVICE.address, Nonce(5), Nonce(5), 7, 1.0)
    store.create_task(row, [MessageId(message_id)])
    store.update_task(row.id, None, TaskUpdate(assign_tx="0x" + "aa" * 32))
    store.update_task(row.id, TaskStatus.PROVING)
    store.update_task(row.id, TaskStatus.SUBMITTED, TaskUpdate(route_tx="0x" + "cd" * 32))
    store.update_task(row.id, TaskStatus.SETTLED)
    answer = client.get(f"/v1/task/{message_id}").json()
    assert answer["projectID"] == "1" and answer["taskID"] == message_id
    trail = answer["states"]
    assert [s["state"] for s in trail] == ["packed", "assigned", "settled"]
    assert trail[1]["transaction_hash"] == "0x" + "aa" * 32 and trail[2]["transaction_hash"] == "0x" + "cd" * 32
    assert all(s["time"].endswith("Z") for s in trail)


def test_the_receipt_of_a_w3bstream_message_carries_its_envelope_and_verifies(
    store: SqliteStore,
) -> None:
    with TestClient(create_app(store, clock=lambda: CLOCK, w3bstream=projects(), task_manager=TASK_MANAGER)) as c:
        message_id = c.post("/v1/task", content=PLAIN["body"]).json()["id"]
        stored = store.get_message(MessageId(message_id))
        assert stored is not None
        row = TaskRow(
            task_id(CHAIN_ID, TASK_MANAGER, 1, DEVICE.address, 5),
            ProjectId(1),
            ConfigVersion(1),
            DEVICE.address,
            Nonce(5),
            Nonce(5),
            build_tree([message_leaf(1, stored.message)], 3).root,
            1.0,
        )
        store.create_task(row, [MessageId(message_id)])
        data = c.get(f"/messages/{message_id}/receipt").json()
    assert data["envelope"] == stored.envelope
    assert verify_receipt(parse_receipt(data)).id == message_id
    # The envelope is what is checked: with its signed request changed, its signature is nobody's.
    envelope = json.loads(data["envelope"])
    envelope["signed"] = envelope["signed"].replace('"nonce":5', '"nonce":6')
    forged = {**data, "envelope": json.dumps(envelope)}
    with pytest.raises(ReceiptError) as refused:
        verify_receipt(parse_receipt(forged))
    assert refused.value.code == "bad_signature"
