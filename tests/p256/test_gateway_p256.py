"""The gateway with P-256 devices: messages verified under the key the indexer recorded, registrations checked and
handed on with the key, receipts that verify alone, and GET /did/{did} for did:pkh and did:key (a fake of the
chain's device states; tests/p256/test_p256_chain.py runs the real one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from keyed_refusals import REFUSALS, refused_body
from testbed import DOMAIN, OWNER, TASK_MANAGER, TRACKER_SCHEMA, RecordingRegistrar, golden

from proofstream.domain import p256
from proofstream.domain.did import Membership
from proofstream.domain.merkle import build_tree
from proofstream.domain.messages import digest, message_id, message_leaf, parse_body
from proofstream.domain.receipts import build_receipt, parse_receipt, verify_receipt
from proofstream.domain.tasks import task_id
from proofstream.domain.types import Address, ProjectId
from proofstream.errors import ReceiptError
from proofstream.ingest.http import create_app
from proofstream.sdk.device import DeviceKey, P256DeviceKey
from proofstream.store.sqlite import SqliteStore

VECTORS = golden("p256.json")
P256 = P256DeviceKey.from_hex(VECTORS["keys"][0]["private_key"])
UNREGISTERED = P256DeviceKey.from_hex(VECTORS["keys"][1]["private_key"])
SECP = DeviceKey(bytes([3]) * 32)
NOW = 1_764_300_100.0


class FakeStates:
    """The chain's registrations: the devices the store has, each owned by OWNER and active."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def membership(self, project: ProjectId, device: Address) -> Membership | None:
        if project not in self.store.device_projects(device):
            return None
        return Membership(project, OWNER, True)


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    store.upsert_device(ProjectId(1), P256.address, OWNER, key=P256.public_key)
    store.upsert_device(ProjectId(1), SECP.address, OWNER)
    return store


@pytest.fixture
def client(store: SqliteStore, registrar: RecordingRegistrar) -> Iterator[TestClient]:
    app = create_app(store, clock=lambda: NOW, registrar=registrar, device_states=FakeStates(store))
    with TestClient(app) as client:
        yield client


def body(key: P256DeviceKey | DeviceKey, nonce: int, lat: int = 5) -> dict[str, Any]:
    return key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, nonce, 1_764_300_000 + nonce, {"lat": lat, "lon": 7})


def test_the_golden_p256_message_is_accepted_with_its_id(client: TestClient) -> None:
    vector = VECTORS["messages"][0]
    response = client.post("/messages", content=vector["http_body"])
    assert response.status_code == 202, response.text
    assert response.json()["id"] == vector["id"]
    assert client.post("/messages", content=vector["http_body"]).status_code == 200


def high_s(raw: bytes) -> bytes:
    """The same signature with s replaced by n - s: valid maths, refused as malleable."""
    return raw[:32] + (p256.N - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")


@pytest.mark.parametrize(("case", "status", "code"), REFUSALS)
def test_a_p256_message_is_refused_unless_the_registered_key_signed_it(
    client: TestClient, store: SqliteStore, case: str, status: int, code: str
) -> None:
    sent = refused_body(case, body, P256, UNREGISTERED, SECP.address, forge=high_s)
    response = client.post("/messages", json=sent)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert not store.unbatched_messages(ProjectId(1))


def test_a_p256_device_registers_through_the_gateway_with_its_key(
    client: TestClient, registrar: RecordingRegistrar
) -> None:
    (vector,) = VECTORS["bindings"]
    assert UNREGISTERED.address != P256.address
    response = client.post("/v1/projects/1/devices", content=vector["http_body"])
    assert response.status_code == 200  # already indexed: nothing to send
    registration = {
        "device": UNREGISTERED.address,
        "owner": OWNER,
        "signature": "0x" + UNREGISTERED.sign_binding(DOMAIN, 1, OWNER).hex(),
        "public_key": "0x" + UNREGISTERED.public_key_bytes.hex(),
    }
    response = client.post("/v1/projects/1/devices", json=registration)
    assert response.status_code == 202, response.text
    (sent,) = registrar.requests
    assert sent.public_key == UNREGISTERED.public_key and len(sent.signature) == 64
    forged = dict(registration, owner=SECP.address)  # signed for OWNER
    assert client.post("/v1/projects/1/devices", json=forged).json()["error"]["code"] == "bad_signature"
    wrong_key = dict(registration, public_key="0x" + P256.public_key_bytes.hex())
    assert client.post("/v1/projects/1/devices", json=wrong_key).json()["error"]["code"] == "bad_signature"
    off_curve = dict(registration, public_key="0x" + UNREGISTERED.public_key_bytes[:-1].hex() + "00")
    assert client.post("/v1/projects/1/devices", json=off_curve).json()["error"]["code"] == "invalid_field"
    assert len(registrar.requests) == 1


def test_dids_of_registered_devices(client: TestClient) -> None:
    key_vector = VECTORS["keys"][0]
    response = client.get(f"/did/{key_vector['did_key']}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/did+json"
    document = response.json()
    assert document["id"] == key_vector["did_key"] == P256.did
    (method,) = document["verificationMethod"]
    assert method["type"] == "Multikey" and method["publicKeyMultibase"] == key_vector["did_key_multibase"]
    assert document["assertionMethod"] == [method["id"]]
    assert document["proofstream"] == {
        "device": P256.address,
        "key_type": "p256",
        "chain_id": DOMAIN.chain_id,
        "device_registry": DOMAIN.verifying_contract,
        "projects": [{"project": 1, "owner": OWNER, "active": True}],
    }
    pkh = f"did:pkh:eip155:{DOMAIN.chain_id}:{SECP.address.lower()}"
    document = client.get(f"/did/{pkh}").json()
    assert document["id"] == f"did:pkh:eip155:{DOMAIN.chain_id}:{SECP.address}"
    assert document["verificationMethod"][0]["blockchainAccountId"] == f"eip155:{DOMAIN.chain_id}:{SECP.address}"
    assert document["proofstream"]["key_type"] == "secp256k1"


@pytest.mark.parametrize(
    ("did", "status", "code"),
    [
        (UNREGISTERED.did, 404, "unknown_did"),
        (f"did:pkh:eip155:1:{SECP.address}", 404, "unknown_did"),  # another chain
        (f"did:pkh:eip155:{DOMAIN.chain_id}:{P256.address}", 404, "unknown_did"),  # a P-256 id is no account
        ("did:web:example.com", 400, "invalid_did"),
        ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", 400, "invalid_did"),
    ],
)
def test_a_did_of_no_registered_device_is_refused(client: TestClient, did: str, status: int, code: str) -> None:
    response = client.get(f"/did/{did}")
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text


def test_without_chain_access_no_did_is_served(store: SqliteStore) -> None:
    with TestClient(create_app(store)) as client:
        response = client.get(f"/did/{P256.did}")
    assert (response.status_code, response.json()["error"]["code"]) == (503, "chain_unavailable")


def test_a_p256_receipt_verifies_alone_under_the_key_its_device_id_names() -> None:
    sent = body(P256, 3)
    message = parse_body(json.dumps(sent).encode(), lambda _p, _c: TRACKER_SCHEMA)
    tree = build_tree([message_leaf(1, message)], 2)
    receipt = build_receipt(
        message_id_=message_id(digest(message, DOMAIN)),
        message=message,
        domain=DOMAIN,
        leaf_index=0,
        path=tree.inclusion_proof(0).siblings,
        task=task_id(DOMAIN.chain_id, TASK_MANAGER, 1, P256.address, 3),
        first_nonce=3,
        last_nonce=3,
        root=tree.root,
        task_manager=TASK_MANAGER,
        tx_hash=None,
        public_key=P256.public_key,
    ).to_json()
    assert verify_receipt(parse_receipt(receipt)).public_key == P256.public_key
    swapped = dict(receipt, public_key="0x" + UNREGISTERED.public_key_bytes.hex())
    with pytest.raises(ReceiptError) as refused:
        verify_receipt(parse_receipt(swapped))
    assert refused.value.code == "bad_signature"
