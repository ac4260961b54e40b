"""BabyJubJub device keys in the SDK and the CLI: key files, signing against tests/vectors/babyjub.json, and the
requests a device sends (a stub gateway: the real ingest verifies BabyJubJub messages in a later change)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from testbed import by_name, golden
from typer.testing import CliRunner

from proofstream.cli.device import device_app
from proofstream.domain import bjj_messages
from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import Schema
from proofstream.domain.types import Address
from proofstream.errors import ConfigError
from proofstream.sdk.device import BjjDeviceKey, Device, DeviceKey, generate_key, load_key
from proofstream.sdk.gateway import GatewayClient, ProjectInfo

VECTORS = golden("babyjub.json")
KEYS = by_name(VECTORS["keys"])
FIRST = next(m for m in VECTORS["messages"] if m["name"] == "tracker_first")
BINDING = next(b for b in VECTORS["bindings"] if b["name"] == "tracker_binding")
runner = CliRunner()


def tracker_key() -> BjjDeviceKey:
    return BjjDeviceKey.from_hex(KEYS["label_tracker"]["private_key"])


def project_json() -> dict[str, Any]:
    return {
        "project": 1,
        "config": 1,
        "configs": [1],
        "chain_id": 31337,
        "device_registry": FIRST["device_registry"],
        "domain": {
            "name": "proofstream",
            "version": "1",
            "chainId": 31337,
            "verifyingContract": FIRST["device_registry"],
        },
        "schema": FIRST["schema"],
    }


class StubGateway:
    """Answers the device API like a gateway that knows project 1 and stores whatever it is sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path, body))
        path = request.url.path
        if path == "/v1/projects/1":
            return httpx.Response(200, json=project_json())
        if path.startswith("/devices/"):
            return httpx.Response(200, json={"next_nonce": 0})
        if path == "/v1/projects/1/devices":
            return httpx.Response(202, json={"status": "submitted", "tx_hash": "0x" + "ab" * 32})
        if path == "/messages":
            return httpx.Response(202, json={"id": "0x" + "cd" * 32, "status": "received"})
        return httpx.Response(404, json={"error": {"code": "unknown", "message": path}})


def test_key_file_round_trip_and_type_detection(tmp_path: Path) -> None:
    bjj, secp = tmp_path / "bjj.key", tmp_path / "secp.key"
    key = BjjDeviceKey.generate()
    key.save(bjj)
    DeviceKey.generate().save(secp)
    assert stat.S_IMODE(bjj.stat().st_mode) == 0o600
    assert bjj.read_text().startswith("bjj:0x")
    loaded = load_key(bjj)
    assert isinstance(loaded, BjjDeviceKey)
    assert loaded.address == key.address == bjj_messages.device_id(key.public_key)
    assert BjjDeviceKey.load(bjj).public_key == key.public_key
    assert isinstance(load_key(secp), DeviceKey)
    with pytest.raises(ConfigError, match="BabyJubJub key"):
        DeviceKey.load(bjj)
    with pytest.raises(ConfigError, match="secp256k1 key"):
        BjjDeviceKey.load(secp)
    with pytest.raises(ConfigError, match="exists"):
        key.save(bjj)
    assert key.to_hex()[2:] not in repr(key)
    assert isinstance(generate_key("bjj"), BjjDeviceKey)
    with pytest.raises(ConfigError, match="unknown key type"):
        generate_key("ed25519")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="64 hex"):
        BjjDeviceKey.from_hex("bjj:0x1234")


def test_sdk_signs_the_vectors() -> None:
    key = tracker_key()
    assert key.address == FIRST["device"]
    assert "0x" + key.public_key_bytes.hex() == KEYS["label_tracker"]["public_key_hex"]
    domain = Domain(chain_id=31337, verifying_contract=Address(FIRST["device_registry"]))
    payload = {name: int(v) for (name, _), v in zip(FIRST["schema"], FIRST["payload"], strict=True)}
    body = key.sign_message(
        Schema.from_json(FIRST["schema"]), domain, 1, 1, int(FIRST["nonce"]), int(FIRST["timestamp"]), payload
    )
    assert json.dumps(body, separators=(",", ":")) == FIRST["body"]
    binding = key.sign_binding(domain, int(BINDING["project"]), BINDING["owner"])
    assert "0x" + binding.hex() == BINDING["signature"]["wire"]


def test_a_bjj_device_registers_with_its_public_key_and_sends(tmp_path: Path) -> None:
    stub = StubGateway()
    key_path = tmp_path / "device.key"
    tracker_key().save(key_path)
    client = GatewayClient(
        "http://gateway", client=httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(stub))
    )
    device = Device.open(key_path, client, 1, clock=lambda: 1764300000)
    assert device.did is None
    assert device.register(BINDING["owner"]).status == "submitted"
    registration = next(body for method, path, body in stub.requests if path == "/v1/projects/1/devices")
    assert registration == json.loads(BINDING["body"])  # key order is free in a JSON body
    result = device.send({"lat": 142345678, "lon": 193456789})
    assert result.created
    sent = next(body for method, path, body in stub.requests if path == "/messages")
    assert json.dumps(sent, separators=(",", ":")) == FIRST["body"]
    info = ProjectInfo.from_json(project_json())
    assert device.project == info


def test_cli_new_makes_a_bjj_key(tmp_path: Path) -> None:
    key = tmp_path / "dev.key"
    result = runner.invoke(device_app, ["new", "--key", str(key), "--key-type", "bjj"])
    assert result.exit_code == 0, result.output
    loaded = load_key(key)
    assert isinstance(loaded, BjjDeviceKey)
    lines = dict(row.split(None, 1) for row in result.output.splitlines() if row and not row.startswith(" "))
    assert lines["address"] == loaded.address
    assert lines["type"] == "bjj"
    assert lines["public"] == "0x" + loaded.public_key_bytes.hex()
    again = runner.invoke(device_app, ["new", "--key", str(key), "--key-type", "BJJ", "--force"])
    assert again.exit_code == 0, again.output
    assert load_key(key).address != loaded.address
