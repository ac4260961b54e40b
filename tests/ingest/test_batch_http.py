"""POST /v1/projects/{project}/messages against a real SQLite store: one result per message in order, the same
codes as POST /messages, one commit per request, and the refusals of a whole request."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import Field, Schema
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, ProjectId, TaskId
from proofstream.errors import ChainUnavailableError
from proofstream.ingest.errors import STATUS_OF_CODE
from proofstream.ingest.http import create_app
from proofstream.ingest.validation import ClockWindow
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig, TaskRow
from proofstream.store.sqlite import SqliteStore

DOMAIN = Domain(chain_id=31337, verifying_contract=Address("0x5FbDB2315678afecb367f032d93F642f64180aa3"))
SCHEMA = Schema(payload=(Field("lat", "uint32"), Field("lon", "uint32")))
DEVICES = [DeviceKey.from_hex("0x" + f"{i:02x}" * 32) for i in range(1, 4)]
"""Registered in project 1; the last one in project 2 as well."""
STRANGER = DeviceKey.from_hex("0x" + "0f" * 32)
OWNER = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")
NOW = 1_764_300_000
URL = "/v1/projects/1/messages"
PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "gateway.db") as store:
        for project in (1, 2):
            store.upsert_project(ProjectConfig(ProjectId(project), ConfigVersion(1), SCHEMA, DOMAIN))
        for key in DEVICES:
            store.upsert_device(ProjectId(1), key.address, OWNER)
        store.upsert_device(ProjectId(2), DEVICES[-1].address, OWNER)
        yield store


def make_client(store: SqliteStore, **kwargs: Any) -> TestClient:
    window = ClockWindow(max_future_seconds=60, max_past_seconds=3600)
    return TestClient(create_app(store, clock=lambda: NOW + 0.5, clock_window=window, **kwargs))


@pytest.fixture
def client(store: SqliteStore) -> Iterator[TestClient]:
    with make_client(store) as client:
        yield client


def body(key: DeviceKey, nonce: int, *, lat: int = 1, project: int = 1, timestamp: int | None = None) -> dict[str, Any]:
    stamp = NOW - 1000 + nonce if timestamp is None else timestamp
    return key.sign_message(SCHEMA, DOMAIN, project, 1, nonce, stamp, {"lat": lat, "lon": 2})


def outcomes(response: Any) -> list[str]:
    """``accepted``, ``duplicate`` or the error code of each result."""
    assert response.status_code == 200, response.text
    return [r["error"]["code"] if r["outcome"] == "refused" else r["outcome"] for r in response.json()["results"]]


def assert_refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_one_result_per_message_in_order(client: TestClient, store: SqliteStore) -> None:
    single = client.post("/messages", json=body(DEVICES[0], 0))
    assert single.status_code == 202
    messages = [
        body(DEVICES[0], 1),
        body(DEVICES[0], 0),  # stored by POST /messages already
        body(DEVICES[1], 0),
        body(DEVICES[0], 1, lat=7),  # nonce 1 is taken by this request's first message
        body(STRANGER, 0),
        body(DEVICES[1], 1, timestamp=NOW - 1000 - 5),  # below nonce 0's timestamp, stored by this request
        body(DEVICES[2], 0, timestamp=NOW + 3600),
        body(DEVICES[2], 1),  # the refusals before it stop nothing
    ]
    response = client.post(URL, json={"messages": messages})
    assert outcomes(response) == [
        "accepted",
        "duplicate",
        "accepted",
        "nonce_conflict",
        "unknown_device",
        "stale_timestamp",
        "timestamp_in_future",
        "accepted",
    ]
    results = response.json()["results"]
    assert results[0] == {"outcome": "accepted", "id": results[0]["id"], "status": "received"}
    assert results[1] == {"outcome": "duplicate", "id": single.json()["id"], "status": "received"}
    for result in results:
        if result["outcome"] == "refused":
            assert set(result) == {"outcome", "error", "http_status"}
            assert result["http_status"] == STATUS_OF_CODE[result["error"]["code"]]
            assert result["error"]["message"]
        else:
            assert re.fullmatch(r"0x[0-9a-f]{64}", result["id"])
            assert client.get(f"/messages/{result['id']}").json()["status"] == "received"
    stored = {m.id for m in store.unbatched_messages(ProjectId(1))}
    assert stored == {r["id"] for r in results if r["outcome"] != "refused"}


def test_each_refusal_is_the_one_post_messages_gives(client: TestClient, store: SqliteStore) -> None:
    """The same message alone through POST /messages gets the same code and status as its batch result."""
    assert client.post(URL, json={"messages": [body(DEVICES[0], 5)]}).status_code == 200
    duplicated_key = json.dumps(body(DEVICES[0], 6))[:-1] + ', "nonce": 6}'
    raws = [
        json.dumps(body(DEVICES[0], 4, timestamp=NOW - 1000 + 9)),  # stale_timestamp (above nonce 5's)
        json.dumps(body(DEVICES[0], 5, lat=3)),  # nonce_conflict
        json.dumps({**body(DEVICES[0], 6), "extra": 1}),  # schema_mismatch
        duplicated_key,  # invalid_json
        json.dumps({**body(DEVICES[0], 6), "signature": "0x" + "00" * 65}),  # invalid_field or bad_signature
        json.dumps(body(DEVICES[0], 6, timestamp=NOW - 7200)),  # timestamp_too_old
        "7",  # not an object
    ]
    batch = client.post(URL, content="{" + '"messages": [' + ", ".join(raws) + "]}")
    results = batch.json()["results"]
    assert len(results) == len(raws)
    for raw, result in zip(raws, results, strict=True):
        alone = client.post("/messages", content=raw)
        assert result["outcome"] == "refused"
        assert (result["http_status"], result["error"]["code"]) == (alone.status_code, alone.json()["error"]["code"])
    assert [r["error"]["code"] for r in results[:4]] == [
        "stale_timestamp",
        "nonce_conflict",
        "schema_mismatch",
        "invalid_json",
    ]
    assert len(store.unbatched_messages(ProjectId(1))) == 1


def test_a_message_of_another_project_is_refused_alone(client: TestClient, store: SqliteStore) -> None:
    response = client.post(URL, json={"messages": [body(DEVICES[2], 0, project=2), body(DEVICES[2], 0)]})
    assert outcomes(response) == ["project_mismatch", "accepted"]
    assert response.json()["results"][0]["http_status"] == 422
    assert store.unbatched_messages(ProjectId(2)) == []
    moved = client.post("/v1/projects/2/messages", json={"messages": [body(DEVICES[2], 0, project=2)]})
    assert outcomes(moved) == ["accepted"]


def test_a_duplicate_tells_where_the_stored_message_stands(client: TestClient, store: SqliteStore) -> None:
    first = client.post(URL, json={"messages": [body(DEVICES[0], 0)]}).json()["results"][0]["id"]
    task = TaskRow(TaskId(77), ProjectId(1), ConfigVersion(1), DEVICES[0].address, Nonce(0), Nonce(0), 5, 1.0)
    store.create_task(task, [MessageId(first)])
    store.update_task(task.id, TaskStatus.PROVING)
    again = client.post(URL, json={"messages": [body(DEVICES[0], 0), body(DEVICES[0], 0)]}).json()["results"]
    assert again == [{"outcome": "duplicate", "id": first, "status": "proving"}] * 2


def test_one_commit_per_request(client: TestClient, store: SqliteStore) -> None:
    messages = [body(DEVICES[i % 3], i // 3) for i in range(60)]
    before = store.commits
    assert outcomes(client.post(URL, json={"messages": messages})) == ["accepted"] * 60
    assert store.commits == before + 1


def test_an_empty_batch_is_an_empty_answer(client: TestClient, store: SqliteStore) -> None:
    before = store.commits
    assert client.post(URL, content=' { "messages" : [ ] } ').json() == {"results": []}
    assert store.commits == before


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b'{"messages": [{"a": 1},]}', "invalid_json"),
        (b'{"messages": [1] "x"}', "invalid_json"),
        (b"[]", "schema_mismatch"),
        (b'{"messages": {}}', "schema_mismatch"),
        (b'{"messages": [], "more": 1}', "schema_mismatch"),
        (b'{"messages": [], "messages": []}', "schema_mismatch"),
        (b'{"message": []}', "schema_mismatch"),
        (b'{"messages": "x"}', "schema_mismatch"),
        (b"", "invalid_json"),
    ],
)
def test_a_bad_body_refuses_the_whole_request(client: TestClient, content: bytes, code: str) -> None:
    assert_refused(client.post(URL, content=content), STATUS_OF_CODE[code], code)


def test_limits_refuse_the_whole_request(store: SqliteStore) -> None:
    messages = [body(DEVICES[0], n) for n in range(4)]
    with make_client(store, max_batch_messages=3, max_batch_body_bytes=4000, max_body_bytes=100) as client:
        assert_refused(client.post(URL, json={"messages": messages}), 413, "batch_too_large")
        assert outcomes(client.post(URL, json={"messages": messages[:3]})) == ["accepted"] * 3  # not max_body_bytes
        padded = '{"messages": [' + " " * 4000 + "]}"
        assert_refused(client.post(URL, content=padded), 413, "body_too_large")
    assert len(store.unbatched_messages(ProjectId(1))) == 3


def test_unknown_project_or_bad_path(client: TestClient) -> None:
    assert_refused(
        client.post("/v1/projects/9/messages", json={"messages": [body(DEVICES[0], 0)]}), 404, "unknown_project"
    )
    assert_refused(client.post(f"/v1/projects/{2**64}/messages", json={"messages": []}), 400, "invalid_request")
    assert_refused(client.get(URL), 405, "method_not_allowed")


def test_a_store_failure_refuses_the_request_and_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with SqliteStore(path, busy_timeout_ms=100) as store:
        store.upsert_project(ProjectConfig(ProjectId(1), ConfigVersion(1), SCHEMA, DOMAIN))
        store.upsert_device(ProjectId(1), DEVICES[0].address, OWNER)
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with make_client(store) as client:
                response = client.post(URL, json={"messages": [body(DEVICES[0], 0), body(DEVICES[0], 1)]})
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert_refused(response, 503, "store_error")
        assert store.unbatched_messages(ProjectId(1)) == []


def test_a_chain_failure_refuses_the_request_and_stores_nothing(store: SqliteStore) -> None:
    class Unreachable:
        def is_live(self, project: ProjectId, version: ConfigVersion) -> bool:
            raise ChainUnavailableError("no RPC")

    with make_client(store, liveness=Unreachable()) as client:
        assert_refused(client.post(URL, json={"messages": [body(DEVICES[0], 0)]}), 503, "chain_unavailable")
    assert store.unbatched_messages(ProjectId(1)) == []


def test_the_documented_example_is_what_the_endpoint_answers(client: TestClient) -> None:
    """docs/protocol.md's batch example, re-signed with real keys, gets the documented outcomes."""
    text = PROTOCOL.read_text()
    section = text[text.index("### Batches") :]
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))  # type: ignore[union-attr]
    answer = json.loads(re.findall(r"```json\n(.*?)```", section, re.S)[1])
    sent = []
    for message in example["messages"]:
        key = DEVICES[0] if message["device"] == example["messages"][0]["device"] else STRANGER
        signed = body(key, message["nonce"], lat=message["payload"]["lat"], timestamp=message["timestamp"])
        assert set(signed) == set(message) and signed["project"] == message["project"] == 1
        sent.append(signed)
    results = client.post(URL, json={"messages": sent}).json()["results"]
    assert [r["outcome"] for r in results] == [r["outcome"] for r in answer["results"]]
    for got, documented in zip(results, answer["results"], strict=True):
        assert set(got) == set(documented)
        if got["outcome"] == "refused":
            assert got["error"]["code"] == documented["error"]["code"]
            assert got["http_status"] == documented["http_status"]
        else:
            assert got["status"] == documented["status"]
