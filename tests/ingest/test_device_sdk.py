"""The device SDK: key files, signatures (against eth_account's golden vectors), the gateway client against
the real app, and that it stays light (no web3, fastapi or chain imports)."""

from __future__ import annotations

import logging
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from testbed import DOMAIN, OWNER, TRACKER_SCHEMA, golden

from proofstream.domain.messages import SECP256K1_N, recover_device
from proofstream.domain.types import Address, ProjectId
from proofstream.errors import ConfigError, MessageError, ProofstreamError
from proofstream.ingest.http import create_app
from proofstream.sdk.device import DeviceKey, GatewayClient
from proofstream.store.sqlite import SqliteStore

VECTORS = golden("messages.json")


# --- keys ---------------------------------------------------------------------------------------------------


def test_generated_keys_are_distinct_and_checksummed() -> None:
    a, b = DeviceKey.generate(), DeviceKey.generate()
    assert a.address != b.address
    assert a.address.startswith("0x") and a.address != a.address.lower()
    assert DeviceKey.from_hex(a.to_hex()).address == a.address


def test_key_file_is_owner_only_and_round_trips(tmp_path: Path) -> None:
    key = DeviceKey.generate()
    path = tmp_path / "device.key"
    key.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert DeviceKey.load(path).address == key.address


def test_save_refuses_to_overwrite_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "device.key"
    path.write_text("old")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="refusing"):
        DeviceKey.generate().save(path)
    assert path.read_text() == "old"
    key = DeviceKey.generate()
    key.save(path, overwrite=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert DeviceKey.load(path).address == key.address


def test_loading_a_readable_key_file_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "device.key"
    path.write_text(VECTORS["valid"][0]["key"])
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="proofstream.sdk.device"):
        assert DeviceKey.load(path).address == VECTORS["valid"][0]["address"]
    assert "readable by others" in caplog.text


@pytest.mark.parametrize("bad", ["", "0x12", "zz" * 32, "00" * 32, f"{SECP256K1_N:064x}"])
def test_bad_keys_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError):
        DeviceKey.from_hex(bad)


def test_repr_does_not_leak_the_secret() -> None:
    key = DeviceKey.from_hex(VECTORS["valid"][0]["key"])
    assert VECTORS["valid"][0]["key"][2:] not in repr(key)
    assert key.address in repr(key)


# --- signatures ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["bindings"], ids=lambda v: str(v["message"]["project"]))
def test_binding_signature_matches_eth_account(vector: dict[str, Any]) -> None:
    key = DeviceKey.from_hex(vector["key"])
    assert key.address == vector["message"]["device"]
    signature = key.sign_binding(DOMAIN, vector["message"]["project"], vector["message"]["owner"])
    assert "0x" + signature.hex() == vector["signature"]


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_signatures_are_low_s_and_recover(secret: bytes, message_digest: bytes) -> None:
    try:
        key = DeviceKey(secret)
    except ConfigError:
        return  # zero or above the group order: not a key
    signature = key.sign_digest(message_digest)
    assert signature[64] in (27, 28)
    assert int.from_bytes(signature[32:64], "big") <= SECP256K1_N // 2
    assert recover_device(message_digest, signature) == key.address


# --- gateway client -----------------------------------------------------------------------------------------


@pytest.fixture
def gateway(store: SqliteStore) -> Iterator[GatewayClient]:
    store.upsert_device(ProjectId(1), Address(VECTORS["valid"][0]["address"]), OWNER)
    with TestClient(create_app(store)) as http, GatewayClient("http://testserver", client=http) as client:
        yield client


def test_client_sends_and_queries(gateway: GatewayClient) -> None:
    key = DeviceKey.from_hex(VECTORS["valid"][0]["key"])
    nonce = gateway.next_nonce(1, key.address)
    assert nonce == 0
    body = key.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, nonce, 1_764_300_000, {"lat": 5, "lon": 6})
    first = gateway.send(body)
    assert (first.status, first.created) == ("received", True)
    again = gateway.send(body)
    assert (again.id, again.status, again.created) == (first.id, "received", False)
    assert gateway.status(first.id)["status"] == "received"
    assert gateway.next_nonce(1, key.address) == 1


def test_client_raises_the_gateway_code(gateway: GatewayClient) -> None:
    stranger = DeviceKey.from_hex(VECTORS["valid"][2]["key"])
    body = stranger.sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, 0, 0, {"lat": 5, "lon": 6})
    with pytest.raises(MessageError) as caught:
        gateway.send(body)
    assert caught.value.code == "unknown_device"


def test_client_maps_network_failures() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"code": "store_error", "message": "down"}})

    for handler in (refuse, broken):
        http = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://gw")
        with pytest.raises(ProofstreamError) as caught:
            GatewayClient("http://gw", client=http).next_nonce(1, "0x" + "11" * 20)
        assert caught.value.code == "gateway_unavailable"


def test_sdk_does_not_import_web3_fastapi_or_chain() -> None:
    code = (
        "import sys, proofstream.sdk.device\n"
        "heavy = sorted(m for m in sys.modules if m.startswith('proofstream.chain')"
        " or m.split('.')[0] in {'web3', 'fastapi', 'starlette', 'uvicorn'})\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
