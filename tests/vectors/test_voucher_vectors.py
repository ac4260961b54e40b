"""docs/vectors/device-vouchers.json against proofstream: the DeviceVoucher and DevicePermit type strings, member
encodings, struct hashes and digests, the SDK's signatures, and the gateway's answer to every registration body;
and the file is what its generator (eth_account, independent of proofstream) makes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from testbed import REPO, RecordingRegistrar

from proofstream.domain.eip712 import Domain, domain_separator, encode_type, encode_value, hash_struct, type_hash
from proofstream.domain.types import Address
from proofstream.domain.vouchers import MEMBERS, PERMIT_TYPE, VOUCHER_TYPE, Terms, permit_digest, voucher_digest
from proofstream.ingest.errors import STATUS_OF_CODE
from proofstream.ingest.http import create_app
from proofstream.sdk.device import DeviceKey
from proofstream.store.sqlite import SqliteStore

FILE = REPO / "docs" / "vectors" / "device-vouchers.json"
VECTORS: dict[str, Any] = json.loads(FILE.read_text())
DOMAIN = Domain(VECTORS["domain"]["chainId"], Address(VECTORS["domain"]["verifyingContract"]))
STRUCTS = {"voucher": VOUCHER_TYPE, "permit": PERMIT_TYPE, "voucher_naming_owner": VOUCHER_TYPE}


def test_the_file_is_what_the_generator_makes() -> None:
    script = REPO / "scripts" / "vectors" / "device_vouchers.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", list(STRUCTS))
def test_each_struct_step_by_step(name: str) -> None:
    vector, primary = VECTORS[name], STRUCTS[name]
    message = vector["message"]
    assert "0x" + domain_separator(DOMAIN).hex() == VECTORS["domain_separator"]
    assert encode_type(primary, MEMBERS) == vector["type_string"]
    assert "0x" + type_hash(primary, MEMBERS).hex() == vector["type_hash"]
    for member, type_ in MEMBERS:
        assert "0x" + encode_value(type_, message[member]).hex() == vector["encoded"][member]
    values = [message[member] for member, _ in MEMBERS]
    assert "0x" + hash_struct(primary, MEMBERS, values).hex() == vector["struct_hash"]
    terms = Terms(*values)
    digest = voucher_digest if primary == VOUCHER_TYPE else permit_digest
    assert "0x" + digest(DOMAIN, terms).hex() == vector["digest"]
    key = DeviceKey.from_hex(vector["key"])
    signed = key.sign_voucher(DOMAIN, terms) if primary == VOUCHER_TYPE else key.sign_permit(DOMAIN, terms)
    assert "0x" + signed.signature.hex() == vector["signature"]  # RFC 6979: the same signature


@pytest.fixture
def client(store: SqliteStore, registrar: RecordingRegistrar) -> Iterator[TestClient]:
    now = VECTORS["gateway"]["now"]
    with TestClient(create_app(store, registrar=registrar, clock=lambda: now)) as client:
        yield client


@pytest.mark.parametrize("case", VECTORS["requests"] + VECTORS["bad"], ids=lambda c: c["name"])
def test_the_gateway_answers_each_body(client: TestClient, registrar: RecordingRegistrar, case: dict[str, Any]) -> None:
    response = client.post(f"/v1/projects/{VECTORS['gateway']['project']}/devices", json=case["body"])
    if "error" in case:
        assert response.status_code == STATUS_OF_CODE[case["error"]], response.text
        assert response.json()["error"]["code"] == case["error"]
        assert not registrar.requests
    else:
        assert response.status_code == case["expect"], response.text
        (request,) = registrar.requests
        assert request.voucher is not None and request.voucher.issuer in VECTORS["gateway"]["issuers"]
