"""``proofstream device voucher`` (the issuer signs one device's voucher) and ``device register --voucher`` (the
device presents it with its permit, or alone), against a real gateway on a SqliteStore with a fake registrar."""

from __future__ import annotations

import json
from pathlib import Path

from testbed import DOMAIN, OWNER
from typer.testing import CliRunner

from device.device_world import LiveGateway
from proofstream.cli.device import device_app
from proofstream.domain.vouchers import Terms, permit_digest, voucher_digest
from proofstream.sdk.device import DeviceKey

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(device_app, list(args))
    return result.exit_code, result.output


def keys(tmp_path: Path) -> tuple[Path, Path, DeviceKey]:
    issuer, device = tmp_path / "issuer.key", tmp_path / "device.key"
    DeviceKey.generate().save(issuer)
    key = DeviceKey.generate()
    key.save(device)
    return issuer, device, key


def test_a_voucher_and_the_permit_register_through_the_gateway(live_gateway: LiveGateway, tmp_path: Path) -> None:
    issuer, device_key, key = keys(tmp_path)
    voucher_file = tmp_path / "voucher.json"
    common = ("--gateway", live_gateway.url, "--project", "1")
    code, output = run(
        "voucher", *common, "--issuer-key", str(issuer), "--device", key.address, "--nonce", "5",
        "--out", str(voucher_file),
    )  # fmt: skip
    assert code == 0, output
    assert json.loads(voucher_file.read_text())["device"] == key.address
    code, output = run("register", *common, "--owner", OWNER, "--key", str(device_key), "--voucher", str(voucher_file))
    assert code == 0, output
    assert "status  submitted" in output
    (request,) = live_gateway.registrar.requests
    assert request.voucher is not None and request.permit is not None
    assert request.voucher.issuer == DeviceKey.load(issuer).address and request.voucher.nonce == 5
    terms = request.voucher.terms(1, key.address)
    assert DeviceKey.load(issuer).sign_voucher(DOMAIN, terms).signature == request.voucher.signature
    permit = Terms(1, key.address, OWNER, request.permit.nonce, request.permit.expiry)
    assert key.sign_digest(permit_digest(DOMAIN, permit)) == request.signature


def test_a_voucher_naming_the_owner_registers_alone(live_gateway: LiveGateway, tmp_path: Path) -> None:
    issuer, _, key = keys(tmp_path)
    common = ("--gateway", live_gateway.url, "--project", "1")
    code, output = run(
        "voucher", *common, "--issuer-key", str(issuer), "--device", key.address, "--nonce", "1", "--owner", OWNER,
    )  # fmt: skip
    assert code == 0, output
    voucher_file = tmp_path / "printed.json"
    voucher_file.write_text(output)
    code, output = run("register", *common, "--owner", OWNER, "--voucher", str(voucher_file), "--voucher-only")
    assert code == 0, output
    (request,) = live_gateway.registrar.requests
    assert (request.device, request.permit, request.signature) == (key.address, None, b"")
    assert request.voucher is not None
    assert voucher_digest(DOMAIN, request.voucher.terms(1, key.address))  # a well-formed voucher


def test_a_voucher_for_another_device_or_project_is_refused_locally(live_gateway: LiveGateway, tmp_path: Path) -> None:
    issuer, device_key, _ = keys(tmp_path)
    voucher_file = tmp_path / "voucher.json"
    common = ("--gateway", live_gateway.url, "--project", "1")
    other = DeviceKey.generate().address
    run("voucher", *common, "--issuer-key", str(issuer), "--device", other, "--nonce", "1", "--out", str(voucher_file))
    code, output = run("register", *common, "--owner", OWNER, "--key", str(device_key), "--voucher", str(voucher_file))
    assert code == 1 and f"the voucher is for device {other}" in output
    code, output = run(
        "register", "--gateway", live_gateway.url, "--project", "2", "--owner", OWNER, "--voucher", str(voucher_file),
        "--voucher-only",
    )  # fmt: skip
    assert code == 1 and "not 2" in output
    code, output = run("voucher", *common, "--issuer-key", str(issuer), "--device", "0x12", "--nonce", "1")
    assert code == 1 and "invalid_field" in output
    assert not live_gateway.registrar.requests
