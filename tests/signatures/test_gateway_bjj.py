"""The gateway takes BabyJubJub-signed messages from devices registered with their key (the indexer copies it
from BjjKeyRegistered into the store), verifies them with that key, and stores them as they came; secp256k1
devices are unaffected. The prover reads the stored 96-byte signatures back for the circuit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from keyed_refusals import REFUSALS, refused_body
from testbed import DOMAIN, OWNER, TRACKER_SCHEMA, RecordingRegistrar

from proofstream.domain import eddsa
from proofstream.domain.types import Address, ProjectId
from proofstream.ingest.http import create_app
from proofstream.prover.service import DeviceSigning
from proofstream.sdk.device import BjjDeviceKey, DeviceKey
from proofstream.store.ports import TaskRow
from proofstream.store.sqlite import SqliteStore

BJJ = BjjDeviceKey(bytes([1]) * 32)
UNREGISTERED = BjjDeviceKey(bytes([2]) * 32)
SECP = DeviceKey(bytes([3]) * 32)
NOW = 1_764_300_100.0


@pytest.fixture
def store(store: SqliteStore) -> SqliteStore:
    """The tracker project with a BabyJubJub device (its key recorded) and a secp256k1 one."""
    store.upsert_device(ProjectId(1), BJJ.address, OWNER, key=BJJ.public_key)
    store.upsert_device(ProjectId(1), SECP.address, OWNER)
    return store


@pytest.fixture
def client(store: SqliteStore) -> Iterator[TestClient]:
    with TestClient(create_app(store, clock=lambda: NOW)) as client:
        yield client


def body(key: BjjDeviceKey | DeviceKey, nonce: int, lat: int = 5) -> dict[str, Any]:
    return key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, nonce, 1_764_300_000 + nonce, {"lat": lat, "lon": 7})


def test_the_store_keeps_a_bjj_key_and_an_owner_update_keeps_it(store: SqliteStore) -> None:
    assert store.device_key(ProjectId(1), BJJ.address) == BJJ.public_key
    assert store.device_key(ProjectId(1), SECP.address) is None
    assert store.device_key(ProjectId(2), BJJ.address) is None
    store.upsert_device(ProjectId(1), BJJ.address, SECP.address)
    assert store.device_key(ProjectId(1), BJJ.address) == BJJ.public_key


def test_a_bjj_message_of_a_registered_device_is_stored_and_its_resend_is_the_same(
    client: TestClient, store: SqliteStore
) -> None:
    sent = body(BJJ, 1)
    assert len(bytes.fromhex(sent["signature"][2:])) == 96
    first = client.post("/messages", json=sent)
    assert first.status_code == 202, first.text
    again = client.post("/messages", json=sent)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    stored = store.unbatched_messages(ProjectId(1))
    assert [m.message.signature.hex() for m in stored] == [sent["signature"][2:]]
    # The prover hands the stored signature and the recorded key to the circuit.
    context = DeviceSigning(DOMAIN.chain_id, int(DOMAIN.verifying_contract, 16), store).context(
        cast(TaskRow, _Row(ProjectId(1), BJJ.address)), [m.message for m in stored]
    )
    signature = eddsa.decode_signature(bytes.fromhex(sent["signature"][2:]))
    assert context.key == BJJ.public_key and context.signatures == ((*signature.r8, signature.s),)


class _Row:
    """What DeviceSigning reads of a task row."""

    def __init__(self, project: ProjectId, device: Address) -> None:
        self.project, self.device = project, device


def flip_last_bit(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 1])


@pytest.mark.parametrize(("case", "status", "code"), REFUSALS)
def test_a_bjj_message_is_refused_unless_the_registered_key_signed_it(
    client: TestClient, store: SqliteStore, case: str, status: int, code: str
) -> None:
    sent = refused_body(case, body, BJJ, UNREGISTERED, SECP.address, forge=flip_last_bit)
    response = client.post("/messages", json=sent)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert not store.unbatched_messages(ProjectId(1))


def test_secp256k1_devices_are_unaffected(client: TestClient) -> None:
    assert client.post("/messages", json=body(SECP, 1)).status_code == 202
    forged = body(SECP, 2)
    forged["payload"]["lat"] += 1
    assert client.post("/messages", json=forged).json()["error"]["code"] == "bad_signature"


def _registration(key: BjjDeviceKey, owner: str = OWNER) -> dict[str, str]:
    return {
        "device": key.address,
        "owner": owner,
        "signature": "0x" + key.sign_binding(DOMAIN, 1, owner).hex(),
        "public_key": "0x" + key.public_key_bytes.hex(),
    }


def test_a_bjj_device_registers_through_the_gateway_with_its_key(
    store: SqliteStore, registrar: RecordingRegistrar
) -> None:
    sent = registrar.requests
    with TestClient(create_app(store, clock=lambda: NOW, registrar=registrar)) as client:
        response = client.post("/v1/projects/1/devices", json=_registration(UNREGISTERED))
        assert response.status_code == 202, response.text
        assert sent[0].public_key == UNREGISTERED.public_key and len(sent[0].signature) == 96
        forged = _registration(UNREGISTERED)
        forged["owner"] = SECP.address  # signed for OWNER
        assert client.post("/v1/projects/1/devices", json=forged).json()["error"]["code"] == "bad_signature"
        wrong_key = dict(_registration(UNREGISTERED), public_key="0x" + BJJ.public_key_bytes.hex())
        assert client.post("/v1/projects/1/devices", json=wrong_key).json()["error"]["code"] == "bad_signature"
        assert len(sent) == 1
