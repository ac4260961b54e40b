"""The device SDK against a real gateway: key files, DIDs, registration requests, and a nonce (and timestamp) that
resume across a restart from the state file next to the key and from the gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from testbed import DOMAIN, OWNER, TRACKER_SCHEMA, golden

from device.device_world import PROJECT, LiveGateway
from proofstream.domain.eip712 import binding_digest
from proofstream.domain.messages import recover_device
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ConfigError, MessageError, ProofstreamError
from proofstream.sdk.device import Device, DeviceKey, did_pkh
from proofstream.sdk.gateway import GatewayClient, ProjectInfo
from proofstream.sdk.state import DeviceState, state_path_for

VECTORS = golden("messages.json")
FIX = {"lat": 142345678, "lon": 193456789}


def new_key(tmp_path: Path, name: str = "device.key") -> Path:
    path = tmp_path / name
    DeviceKey.generate().save(path)
    return path


def admit(gateway: LiveGateway, key_path: Path) -> None:
    gateway.store.upsert_device(PROJECT, DeviceKey.load(key_path).address, OWNER)


# --- keys and identity ---


def test_did_pkh_is_caip10_with_a_checksummed_address() -> None:
    address = VECTORS["valid"][0]["address"]
    assert did_pkh(31337, address.lower()) == f"did:pkh:eip155:31337:{address}"


def test_loading_a_missing_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="proofstream device new"):
        DeviceKey.load(tmp_path / "absent.key")


def test_state_file_lives_next_to_the_key(tmp_path: Path) -> None:
    assert state_path_for(tmp_path / "dev.key") == tmp_path / "dev.key.state.json"


def test_state_round_trips_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    state = DeviceState(tmp_path / "k.state.json")
    assert state.last(1) is None
    state.record(1, 7, 100)
    state.record(2**64 - 1, 0, 5)
    again = DeviceState(tmp_path / "k.state.json")
    assert (again.last(1), again.last(2**64 - 1)) == (state.last(1), state.last(2**64 - 1))
    last = again.last(1)
    assert last is not None and (last.nonce, last.timestamp) == (7, 100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.state.json"]


@pytest.mark.parametrize("text", ["{", '{"format": 2, "projects": {}}', '{"format": 1, "projects": {"1": {}}}'])
def test_a_damaged_state_file_is_refused_with_what_to_do(tmp_path: Path, text: str) -> None:
    path = tmp_path / "k.state.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match="move it away"):
        DeviceState(path)


# --- the project's domain ---


def test_open_learns_the_domain_and_schema_from_the_gateway(live_gateway: LiveGateway, tmp_path: Path) -> None:
    with GatewayClient(live_gateway.url) as client:
        device = Device.open(new_key(tmp_path), client, PROJECT)
    assert device.project == ProjectInfo(PROJECT, ConfigVersion(1), TRACKER_SCHEMA, DOMAIN)
    assert device.did == f"did:pkh:eip155:{DOMAIN.chain_id}:{device.address}"


def test_a_garbled_project_description_is_reported() -> None:
    with pytest.raises(ProofstreamError) as caught:
        ProjectInfo.from_json({"project": 1, "config": 1, "schema": [["lat"]], "domain": {}})
    assert caught.value.code == "bad_gateway_response"


# --- registration ---


def test_binding_signature_matches_eth_account_vectors() -> None:
    for vector in VECTORS["bindings"]:
        key = DeviceKey.from_hex(vector["key"])
        info = ProjectInfo(ProjectId(vector["message"]["project"]), ConfigVersion(1), TRACKER_SCHEMA, DOMAIN)
        device = Device(key, info, GatewayClient("http://unused"))
        assert "0x" + device.binding_signature(vector["message"]["owner"]).hex() == vector["signature"]


def test_register_hands_the_gateway_a_request_it_verifies(live_gateway: LiveGateway, tmp_path: Path) -> None:
    with GatewayClient(live_gateway.url) as client:
        device = Device.open(new_key(tmp_path), client, PROJECT)
        assert not device.status().registered
        first = device.register(OWNER)
        assert first.status == "submitted" and first.tx_hash is not None
        assert device.register(OWNER) == first  # a retry: the same transaction, not a second one
        (request,) = live_gateway.registrar.requests
        assert (request.project, request.device, request.owner) == (PROJECT, device.address, OWNER)
        digest = binding_digest(DOMAIN, PROJECT, device.address, Address(OWNER))
        assert recover_device(digest, request.signature) == device.address
        live_gateway.store.upsert_device(PROJECT, device.address, OWNER)  # the indexer saw the event
        assert device.register(OWNER).status == "registered"
        assert device.status().registered
    assert len(live_gateway.registrar.requests) == 1


# --- nonces across restarts ---


def test_nonce_resumes_from_the_state_file_after_a_restart(live_gateway: LiveGateway, tmp_path: Path) -> None:
    key_path = new_key(tmp_path)
    admit(live_gateway, key_path)
    with GatewayClient(live_gateway.url) as client:
        device = Device.open(key_path, client, PROJECT, clock=lambda: 1_000)
        sent = [json.loads(json.dumps(device.sign(FIX))) for _ in range(3)]
        assert [b["nonce"] for b in sent] == [0, 1, 2]
        assert [b["timestamp"] for b in sent] == [1_000, 1_001, 1_002]  # one clock second, still increasing
        client.send(sent[0])  # the gateway only ever saw nonce 0: the others were lost with the power
        rebooted = Device.open(key_path, client, PROJECT, clock=lambda: 900)  # the clock went back at boot
        assert rebooted.resume() == 3
        body = rebooted.sign(FIX)
        assert (body["nonce"], body["timestamp"]) == (3, 1_003)
        assert client.send(body).created


def test_nonce_resumes_from_the_gateway_when_the_state_file_is_lost(live_gateway: LiveGateway, tmp_path: Path) -> None:
    key_path = new_key(tmp_path)
    admit(live_gateway, key_path)
    with GatewayClient(live_gateway.url) as client:
        device = Device.open(key_path, client, PROJECT)
        for _ in range(4):
            assert device.send(FIX).created
        state_path_for(key_path).unlink()
        fresh = Device.open(key_path, client, PROJECT)
        assert fresh.resume() == 4
        assert fresh.send(FIX).created  # no nonce_conflict


def test_offline_resume_uses_the_state_file_and_refuses_to_guess_without_it(
    live_gateway: LiveGateway, tmp_path: Path
) -> None:
    key_path = new_key(tmp_path)
    admit(live_gateway, key_path)
    with GatewayClient(live_gateway.url) as client:
        device = Device.open(key_path, client, PROJECT)
        device.send(FIX)
        info = device.project

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    offline = GatewayClient(
        "http://gw", client=httpx.Client(transport=httpx.MockTransport(refuse), base_url="http://gw")
    )
    state = DeviceState(state_path_for(key_path))
    assert Device(DeviceKey.load(key_path), info, offline, state=state).resume() == 1
    blank = Device(DeviceKey.load(key_path), info, offline, state=DeviceState(tmp_path / "other.state.json"))
    with pytest.raises(ProofstreamError, match="cannot reach the gateway at http://gw") as caught:
        blank.resume()
    assert caught.value.code == "gateway_unavailable"


def test_explicit_timestamps_must_increase(live_gateway: LiveGateway, tmp_path: Path) -> None:
    with GatewayClient(live_gateway.url) as client:
        device = Device.open(new_key(tmp_path), client, PROJECT)
        device.sign(FIX, timestamp=50)
        with pytest.raises(MessageError) as caught:
            device.sign(FIX, timestamp=50)
        assert caught.value.code == "stale_timestamp"
        assert device.sign(FIX, timestamp=51)["nonce"] == 1  # the refused one did not use a nonce


def test_a_payload_that_breaks_the_schema_uses_no_nonce(live_gateway: LiveGateway, tmp_path: Path) -> None:
    key_path = new_key(tmp_path)
    with GatewayClient(live_gateway.url) as client:
        device = Device.open(key_path, client, PROJECT)
        bad: dict[str, Any] = {"lat": 2**32, "lon": 0}
        with pytest.raises(MessageError):
            device.sign(bad)
        assert DeviceState(state_path_for(key_path)).last(PROJECT) is None
        assert device.sign(FIX)["nonce"] == 0
