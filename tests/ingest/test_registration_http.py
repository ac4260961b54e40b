"""The gateway's project and registration endpoints: GET /v1/projects/{p}, POST /v1/projects/{p}/devices (the
device's EIP-712 DeviceBinding signature checked, then handed to the registrar port) and
GET /v1/projects/{p}/devices/{address}, against a real SQLite store and a fake registrar."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from testbed import DOMAIN, OWNER, TRACKER_SCHEMA, RecordingRegistrar, golden

from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import Field, Schema
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ChainUnavailableError, ProofstreamError, TransactionRevertedError
from proofstream.ingest.http import create_app
from proofstream.ports import DeviceRegistrationRequest
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig
from proofstream.store.sqlite import SqliteStore

VECTORS = golden("messages.json")
OTHER_OWNER = Address("0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65")
DEVICE = DeviceKey.from_hex(VECTORS["bindings"][0]["key"])
WEATHER = Schema(payload=(Field("temperature", "uint16"), Field("humidity", "uint8")))


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    """The tracker project, and project 2 with the tracker payload in version 1 and a weather one in version 3."""
    store.upsert_project(ProjectConfig(ProjectId(2), ConfigVersion(1), TRACKER_SCHEMA, DOMAIN))
    store.upsert_project(ProjectConfig(ProjectId(2), ConfigVersion(3), WEATHER, DOMAIN))
    return store


@pytest.fixture
def client(store: SqliteStore, registrar: RecordingRegistrar) -> Iterator[TestClient]:
    with TestClient(create_app(store, registrar=registrar)) as client:
        yield client


def request_body(
    key: DeviceKey = DEVICE, project: int = 1, owner: str = OWNER, domain: Domain = DOMAIN, **override: Any
) -> dict[str, Any]:
    signature = key.sign_binding(domain, project, owner)
    return {"device": key.address, "owner": owner, "signature": "0x" + signature.hex(), **override}


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


# --- GET /v1/projects/{project} ---


def test_project_gives_the_domain_config_and_schema(client: TestClient) -> None:
    assert client.get("/v1/projects/1").json() == {
        "project": 1,
        "config": 1,
        "configs": [1],
        "chain_id": 31337,
        "device_registry": VECTORS["domain"]["verifyingContract"],
        "domain": VECTORS["domain"],
        "schema": [["lat", "uint32"], ["lon", "uint32"]],
    }


def test_project_describes_its_newest_config(client: TestClient) -> None:
    data = client.get("/v1/projects/2").json()
    assert (data["config"], data["configs"]) == (3, [1, 3])
    assert data["schema"] == [["temperature", "uint16"], ["humidity", "uint8"]]


def test_unknown_project_and_bad_ids(client: TestClient) -> None:
    assert_error(client.get("/v1/projects/9"), 404, "unknown_project")
    assert_error(client.get("/v1/projects/-1"), 400, "invalid_request")
    assert_error(client.get(f"/v1/projects/{2**64}"), 400, "invalid_request")


# --- POST /v1/projects/{project}/devices ---


def test_a_good_request_goes_to_the_registrar_once(client: TestClient, registrar: RecordingRegistrar) -> None:
    body = request_body()
    response = client.post("/v1/projects/1/devices", json=body)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "project": 1,
        "device": DEVICE.address,
        "owner": OWNER,
        "status": "submitted",
        "tx_hash": "0x" + "ab" * 32,
    }
    assert registrar.requests == [
        DeviceRegistrationRequest(ProjectId(1), DEVICE.address, OWNER, bytes.fromhex(body["signature"][2:]))
    ]
    again = client.post("/v1/projects/1/devices", json=request_body(owner=OWNER.lower()))
    assert (again.status_code, again.json()["tx_hash"]) == (202, "0x" + "ab" * 32)
    assert len(registrar.requests) == 1  # a retry gets the pending transaction, not a second one
    status = client.get(f"/v1/projects/1/devices/{DEVICE.address.lower()}").json()
    assert status == {
        "project": 1,
        "device": DEVICE.address,
        "registered": False,
        "next_nonce": 0,
        "last_timestamp": None,
        "pending_tx": "0x" + "ab" * 32,
    }


def test_the_vector_binding_signature_is_accepted(client: TestClient, registrar: RecordingRegistrar) -> None:
    vector = VECTORS["bindings"][0]
    message = vector["message"]
    body = {"device": message["device"], "owner": message["owner"], "signature": vector["signature"]}
    assert client.post(f"/v1/projects/{vector['message']['project']}/devices", json=body).status_code == 202
    assert registrar.requests[0].owner == vector["message"]["owner"]


def test_a_registration_a_reorg_dropped_is_sent_again(client: TestClient, registrar: RecordingRegistrar) -> None:
    assert client.post("/v1/projects/1/devices", json=request_body()).status_code == 202
    registrar.dropped.add(registrar.tx_hash)  # the chain forgot the transaction, and the device
    registrar.registered.clear()
    registrar.tx_hash = "0x" + "cd" * 32
    again = client.post("/v1/projects/1/devices", json=request_body())
    assert (again.status_code, again.json()["tx_hash"], len(registrar.requests)) == (202, registrar.tx_hash, 2)


def test_another_owner_while_pending_is_a_conflict(client: TestClient, registrar: RecordingRegistrar) -> None:
    assert client.post("/v1/projects/1/devices", json=request_body()).status_code == 202
    response = client.post("/v1/projects/1/devices", json=request_body(owner=OTHER_OWNER))
    assert_error(response, 409, "already_registered")
    assert len(registrar.requests) == 1


def test_an_indexed_device_is_200_registered_without_a_transaction(
    client: TestClient, registrar: RecordingRegistrar, store: SqliteStore
) -> None:
    assert client.post("/v1/projects/1/devices", json=request_body()).status_code == 202
    store.upsert_device(ProjectId(1), DEVICE.address, OWNER)  # the indexer saw DeviceRegistered
    response = client.post("/v1/projects/1/devices", json=request_body())
    assert (response.status_code, response.json()["status"]) == (200, "registered")
    assert "tx_hash" not in response.json()
    assert len(registrar.requests) == 1
    status = client.get(f"/v1/projects/1/devices/{DEVICE.address}").json()
    assert status["registered"] is True and "pending_tx" not in status


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({**request_body(owner=OTHER_OWNER), "owner": OWNER}, id="signed_for_another_owner"),
        pytest.param(request_body(project=2), id="signed_for_another_project"),
        pytest.param(request_body(domain=Domain(1, DOMAIN.verifying_contract)), id="signed_on_another_chain"),
        pytest.param(request_body(device=DeviceKey.from_hex(VECTORS["valid"][1]["key"]).address), id="another_key"),
        pytest.param(request_body(signature="0x" + "11" * 32 + "22" * 32 + "1b"), id="garbage"),
        pytest.param(request_body(signature=request_body()["signature"][:-2] + "00"), id="v_0"),
    ],
)
def test_bad_signatures_never_reach_the_registrar(
    client: TestClient, registrar: RecordingRegistrar, body: dict[str, Any]
) -> None:
    assert_error(client.post("/v1/projects/1/devices", json=body), 401, "bad_signature")
    assert not registrar.requests


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{nope", "invalid_json"),
        (b'{"device":"0x00","device":"0x00","owner":"0x00"}', "invalid_json"),
        (json.dumps([request_body()]).encode(), "schema_mismatch"),
        (json.dumps({**request_body(), "extra": 1}).encode(), "schema_mismatch"),
        (json.dumps({**request_body(), "owner": {"a": 1}}).encode(), "schema_mismatch"),
        (json.dumps({k: v for k, v in request_body().items() if k != "owner"}).encode(), "schema_mismatch"),
        (json.dumps({**request_body(), "owner": "0x1234"}).encode(), "invalid_field"),
        (json.dumps({**request_body(), "owner": "0x" + "00" * 20}).encode(), "invalid_field"),
        (json.dumps({**request_body(), "device": 7}).encode(), "invalid_field"),
        (json.dumps({**request_body(), "signature": "0x1234"}).encode(), "invalid_field"),
        (json.dumps({**request_body(), "signature": "0x" + "zz" * 65}).encode(), "invalid_field"),
    ],
)
def test_malformed_requests(client: TestClient, registrar: RecordingRegistrar, raw: bytes, code: str) -> None:
    status = {"invalid_json": 400, "schema_mismatch": 422, "invalid_field": 422}[code]
    assert_error(client.post("/v1/projects/1/devices", content=raw), status, code)
    assert not registrar.requests


def test_unknown_project(client: TestClient, registrar: RecordingRegistrar) -> None:
    assert_error(client.post("/v1/projects/9/devices", json=request_body(project=9)), 404, "unknown_project")
    assert not registrar.requests


def test_without_a_registrar_registration_is_disabled(store: SqliteStore) -> None:
    with TestClient(create_app(store)) as client:
        response = client.post("/v1/projects/1/devices", json=request_body())
        assert_error(response, 403, "registration_disabled")
        assert "registerDevice" in response.json()["error"]["message"]
        assert_error(client.post("/v1/projects/1/devices", json=request_body(project=2)), 401, "bad_signature")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ChainUnavailableError("node down"), 503, "chain_unavailable"),
        (TransactionRevertedError("reverted: NotProjectOwner"), 502, "registration_failed"),
        (ProofstreamError("already", code="already_registered"), 409, "already_registered"),
    ],
)
def test_registrar_failures_are_reported_and_can_be_retried(
    client: TestClient, registrar: RecordingRegistrar, error: ProofstreamError, status: int, code: str
) -> None:
    registrar.error = error
    response = client.post("/v1/projects/1/devices", json=request_body())
    assert_error(response, status, code)
    assert str(error) in response.json()["error"]["message"]
    registrar.error = None
    assert client.post("/v1/projects/1/devices", json=request_body()).status_code == 202
    assert len(registrar.requests) == 2  # nothing was left pending by the failure


def test_body_limit_applies(store: SqliteStore) -> None:
    with TestClient(create_app(store, max_body_bytes=64, registrar=RecordingRegistrar())) as client:
        assert_error(client.post("/v1/projects/1/devices", json=request_body()), 413, "body_too_large")


# --- GET /v1/projects/{project}/devices/{address} ---


def test_device_status_errors(client: TestClient) -> None:
    assert_error(client.get("/v1/projects/1/devices/0x1234"), 422, "invalid_field")
    assert_error(client.get(f"/v1/projects/9/devices/{DEVICE.address}"), 404, "unknown_project")


def test_openapi_lists_the_new_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    project = "/v1/projects/{project}"
    assert {project, f"{project}/devices", f"{project}/devices/{{address}}"} <= set(paths)
