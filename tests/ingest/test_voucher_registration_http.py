"""POST /v1/projects/{p}/devices with a voucher: the voucher and the device's permit are checked by the gateway
(signatures, expiries, shape) before the registrar gets them; against a real SQLite store and a fake registrar.
What only the chain knows (the issuer's authority, fresh nonces) is tested on anvil in
tests/contracts/test_identity_attacks.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from testbed import DOMAIN, OWNER, RecordingRegistrar

from proofstream.domain.eip712 import Domain
from proofstream.domain.types import Address, ProjectId
from proofstream.domain.vouchers import ZERO_ADDRESS, Terms, Voucher, permit_digest
from proofstream.errors import ProofstreamError
from proofstream.ingest.http import create_app
from proofstream.sdk.device import DeviceKey
from proofstream.store.sqlite import SqliteStore

NOW = 1_764_300_000
MANUFACTURER = DeviceKey.from_hex("0x" + "a7" * 32)
DEVICE = DeviceKey.from_hex("0x" + "b8" * 32)


@pytest.fixture
def client(store: SqliteStore, registrar: RecordingRegistrar) -> Iterator[TestClient]:
    app = create_app(store, registrar=registrar, owner_registration=False, clock=lambda: NOW)
    with TestClient(app) as client:
        yield client


def voucher(
    owner: str = ZERO_ADDRESS, *, project: int = 1, nonce: int = 1, expiry: int = NOW + 60, domain: Domain = DOMAIN
) -> Voucher:
    return MANUFACTURER.sign_voucher(domain, Terms(project, DEVICE.address, Address(owner), nonce, expiry))


def body(
    v: Voucher | None = None, *, key: DeviceKey = DEVICE, expiry: int = NOW + 60, **override: Any
) -> dict[str, Any]:
    """A voucher registration with the device's permit to OWNER (signed by ``key``: the device's unless a test
    has another key sign it)."""
    v = v or voucher()
    signature = key.sign_digest(permit_digest(DOMAIN, Terms(1, DEVICE.address, OWNER, 9, expiry)))
    return {
        "device": DEVICE.address,
        "owner": OWNER,
        "signature": "0x" + signature.hex(),
        "nonce": 9,
        "expiry": expiry,
        "voucher": v.as_json(),
        **override,
    }


def post(client: TestClient, data: dict[str, Any]) -> Any:
    return client.post("/v1/projects/1/devices", json=data)


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


def test_a_voucher_and_the_permit_reach_the_registrar(client: TestClient, registrar: RecordingRegistrar) -> None:
    v = voucher()
    response = post(client, body(v))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "submitted"
    (request,) = registrar.requests
    assert (request.project, request.device, request.owner, request.voucher) == (ProjectId(1), DEVICE.address, OWNER, v)
    assert request.permit is not None and (request.permit.nonce, request.permit.expiry) == (9, NOW + 60)
    assert request.signature == request.permit.signature


def test_a_voucher_naming_the_owner_registers_alone(client: TestClient, registrar: RecordingRegistrar) -> None:
    v = voucher(OWNER)
    response = post(client, {"device": DEVICE.address, "owner": OWNER, "voucher": v.as_json()})
    assert response.status_code == 202, response.text
    (request,) = registrar.requests
    assert (request.voucher, request.permit, request.signature) == (v, None, b"")


def test_without_the_owner_key_online_a_plain_binding_needs_a_voucher(
    client: TestClient, registrar: RecordingRegistrar
) -> None:
    plain = {"device": DEVICE.address, "owner": OWNER, "signature": "0x" + DEVICE.sign_binding(DOMAIN, 1, OWNER).hex()}
    assert_error(post(client, plain), 403, "voucher_required")
    assert not registrar.requests


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda: body(voucher(project=2)), 401, "bad_voucher"),  # a voucher of another project
        (lambda: body(voucher(domain=Domain(1, DOMAIN.verifying_contract))), 401, "bad_voucher"),  # another chain
        (lambda: body(voucher(), voucher={**voucher().as_json(), "nonce": 2}), 401, "bad_voucher"),  # tampered
        (lambda: body(voucher(expiry=NOW - 1)), 422, "voucher_expired"),
        (lambda: body(expiry=NOW - 1), 422, "binding_expired"),
        (lambda: body(key=MANUFACTURER), 401, "bad_signature"),  # the permit not signed by the device
        (lambda: body(voucher(OWNER), owner=ZERO_ADDRESS[:-1] + "1"), 422, "invalid_field"),  # binds another owner
        (lambda: {"device": DEVICE.address, "owner": OWNER, "voucher": voucher().as_json()}, 422, "schema_mismatch"),
        (lambda: body(voucher={"issuer": MANUFACTURER.address}), 422, "schema_mismatch"),
        (lambda: body(voucher=None), 422, "schema_mismatch"),  # found by fuzzing: "voucher": null
        (lambda: body(voucher={**voucher().as_json(), "extra": 1}), 422, "schema_mismatch"),
        (lambda: body(voucher={**voucher().as_json(), "nonce": {"a": 1}}), 422, "schema_mismatch"),
        (lambda: body(voucher={**voucher().as_json(), "expiry": 2**64}), 422, "invalid_field"),
        (lambda: {k: v for k, v in body().items() if k != "nonce"}, 422, "schema_mismatch"),
    ],
)
def test_refusals_before_the_registrar(
    client: TestClient, registrar: RecordingRegistrar, make: Any, status: int, code: str
) -> None:
    assert_error(post(client, make()), status, code)
    assert not registrar.requests


@pytest.mark.parametrize(
    ("code", "status"),
    [("unauthorized_issuer", 403), ("voucher_used", 409), ("binding_used", 409), ("voucher_expired", 422)],
)
def test_the_chains_refusals_reach_the_device(
    client: TestClient, registrar: RecordingRegistrar, code: str, status: int
) -> None:
    registrar.error = ProofstreamError("reverted", code=code)
    assert_error(post(client, body()), status, code)
