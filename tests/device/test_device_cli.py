"""``proofstream device`` (typer CliRunner) against a real gateway on a SqliteStore: new, register, status, send,
simulate, and the messages that say what to fix."""

from __future__ import annotations

import stat
import textwrap
from pathlib import Path

import pytest
from testbed import OWNER
from typer.testing import CliRunner

from device.device_world import PROJECT, LiveGateway, serve_gateway
from proofstream.cli.device import device_app
from proofstream.domain.types import Address
from proofstream.sdk.device import DeviceKey
from proofstream.sdk.state import DeviceState, state_path_for

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(device_app, list(args))
    return result.exit_code, result.output


def line(output: str, label: str) -> str:
    """The value printed after ``label`` (``address 0x...`` -> ``0x...``)."""
    return next(row.split(None, 1)[1] for row in output.splitlines() if row.startswith(label + " "))


def registered_key(gateway: LiveGateway, tmp_path: Path) -> Path:
    key = tmp_path / "device.key"
    DeviceKey.generate().save(key)
    gateway.store.upsert_device(PROJECT, DeviceKey.load(key).address, OWNER)
    return key


# --- new ---


def test_new_writes_an_owner_only_key_and_prints_address_and_did(tmp_path: Path) -> None:
    key = tmp_path / "dev.key"
    code, output = run("new", "--key", str(key), "--chain-id", "31337")
    assert code == 0, output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    address = DeviceKey.load(key).address
    assert line(output, "address") == address
    assert line(output, "did") == f"did:pkh:eip155:31337:{address}"


def test_new_asks_the_gateway_for_the_chain(live_gateway: LiveGateway, tmp_path: Path) -> None:
    key = tmp_path / "dev.key"
    code, output = run("new", "--key", str(key), "--gateway", live_gateway.url, "--project", "1")
    assert code == 0, output
    assert line(output, "did").startswith("did:pkh:eip155:31337:0x")


def test_new_refuses_to_overwrite_a_key_unless_forced(tmp_path: Path) -> None:
    key = tmp_path / "dev.key"
    assert run("new", "--key", str(key))[0] == 0
    first = DeviceKey.load(key).address
    code, output = run("new", "--key", str(key))
    assert code == 1 and "refusing to overwrite" in output
    assert DeviceKey.load(key).address == first
    state_path_for(key).write_text('{"format": 1, "projects": {"1": {"nonce": 9, "timestamp": 9}}}')
    assert run("new", "--key", str(key), "--force")[0] == 0
    assert DeviceKey.load(key).address != first
    assert not state_path_for(key).exists()  # the old key's nonces would only confuse the new one


# --- register and status ---


def test_register_then_wait_until_admitted(live_gateway: LiveGateway, tmp_path: Path) -> None:
    key = tmp_path / "dev.key"
    run("new", "--key", str(key))
    args = ("--gateway", live_gateway.url, "--project", "1", "--key", str(key))
    code, output = run("register", *args, "--owner", OWNER, "--wait", "10")
    assert code == 0, output
    assert "status  submitted tx 0x" in output and output.rstrip().endswith("status  registered")
    (request,) = live_gateway.registrar.requests
    assert (request.device, request.owner) == (DeviceKey.load(key).address, Address(OWNER))
    code, output = run("status", *args)
    assert code == 0 and line(output, "registered") == "true"


def test_register_without_a_registrar_says_who_registers(tmp_path: Path) -> None:
    key = tmp_path / "dev.key"
    run("new", "--key", str(key))
    with serve_gateway(tmp_path / "plain.db", with_registrar=False) as gateway:
        args = ("--gateway", gateway.url, "--project", "1", "--key", str(key))
        code, output = run("register", *args, "--owner", OWNER)
    assert code == 1
    assert "(registration_disabled)" in output and "DeviceRegistry.registerDevice" in output


# --- send ---


def test_send_signs_with_resumed_nonces(live_gateway: LiveGateway, tmp_path: Path) -> None:
    key = registered_key(live_gateway, tmp_path)
    args = ("--gateway", live_gateway.url, "--project", "1", "--key", str(key))
    for expected_nonce in range(3):
        code, output = run("send", *args, "lat=142345678", "lon=0xB87D155")
        assert code == 0, output
        assert line(output, "status") == "received" and line(output, "nonce") == str(expected_nonce)
        stored = live_gateway.store.get_message(line(output, "id"))  # type: ignore[arg-type]
        assert stored is not None and stored.message.payload == (142345678, 0xB87D155)
    last = DeviceState(state_path_for(key)).last(PROJECT)
    assert last is not None and last.nonce == 2


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        (["lat=1"], "missing fields ['lon']"),
        (["lat=1", "lon=2", "alt=3"], "the fields are lat (uint32), lon (uint32)"),
        (["lat=north", "lon=2"], "lat='north' is not an integer"),
        (["lat=1", "lon=4294967296"], "out of range for uint32"),
    ],
)
def test_send_explains_bad_fields(live_gateway: LiveGateway, tmp_path: Path, fields: list[str], needle: str) -> None:
    key = registered_key(live_gateway, tmp_path)
    code, output = run("send", "--gateway", live_gateway.url, "--project", "1", "--key", str(key), *fields)
    assert code == 1 and needle in output, output
    assert live_gateway.store.next_nonce(PROJECT, DeviceKey.load(key).address) == 0


def test_send_from_an_unregistered_device_says_to_register(live_gateway: LiveGateway, tmp_path: Path) -> None:
    key = tmp_path / "dev.key"
    run("new", "--key", str(key))
    code, output = run("send", "--gateway", live_gateway.url, "--project", "1", "--key", str(key), "lat=1", "lon=2")
    assert code == 1
    assert "(unknown_device)" in output and "proofstream device register" in output


def test_an_unreachable_gateway_says_to_start_the_node(tmp_path: Path) -> None:
    key = tmp_path / "dev.key"
    run("new", "--key", str(key))
    url = "http://127.0.0.1:9"  # discard port: nothing listens
    code, output = run("send", "--gateway", url, "--project", "1", "--key", str(key), "lat=1", "lon=2")
    assert code == 1
    assert f"cannot reach the gateway at {url}: is `proofstream node` running?" in output
    assert "Traceback" not in output


def test_an_unknown_project_says_where_to_find_the_id(live_gateway: LiveGateway, tmp_path: Path) -> None:
    key = registered_key(live_gateway, tmp_path)
    code, output = run("send", "--gateway", live_gateway.url, "--project", "7", "--key", str(key), "lat=1", "lon=2")
    assert code == 1 and "(unknown_project)" in output and "check --project" in output


# --- simulate ---

GENERATOR = """
import random


def readings(rng: random.Random, device: int, count: int, start: int) -> list[tuple[int, dict[str, int]]]:
    return [(start + 10 * i, {"lat": 90_000_000 + device, "lon": rng.randrange(360_000_000)}) for i in range(count)]


def edge_cases() -> list[list[tuple[int, dict[str, int]]]]:
    return [[(0, {"lat": 0, "lon": 0})]]
"""

LOGIC = """
OUTPUTS = ("fixes",)


def check(records):
    pass


def outputs(records):
    return (len(records),)
"""


def make_project(root: Path, schema: str = 'lat = "uint32"\nlon = "uint32"') -> Path:
    root.mkdir()
    (root / "proofstream.toml").write_text(
        textwrap.dedent(
            """\
            [project]
            name = "sim"
            [schema]
            {schema}
            [proof]
            backend = "attest"
            quorum = 1
            provers = 1
            """
        ).format(schema=schema)
    )
    (root / "generator.py").write_text(GENERATOR)
    (root / "logic.py").write_text(LOGIC)
    (root / "Rewards.sol").write_text("// not compiled by these tests\n")
    return root


def test_simulate_registers_devices_and_resumes_on_a_second_run(live_gateway: LiveGateway, tmp_path: Path) -> None:
    project = make_project(tmp_path / "sim")
    args = ("simulate", "--gateway", live_gateway.url, "--project", "1", "--project-dir", str(project))
    code, output = run(*args, "--devices", "2", "--messages", "3", "--owner", OWNER)
    assert code == 0, output
    assert line(output, "received") == "6"
    keys = sorted((project / ".proofstream" / "devices").glob("*.key"))
    assert len(keys) == 2 and len(live_gateway.registrar.requests) == 2
    addresses = [DeviceKey.load(k).address for k in keys]
    assert {r.device for r in live_gateway.registrar.requests} == set(addresses)
    assert all(r.owner == OWNER for r in live_gateway.registrar.requests)
    code, output = run(*args, "--devices", "2", "--messages", "3")
    assert code == 0, output
    assert line(output, "received") == "6"
    assert len(live_gateway.registrar.requests) == 2  # already registered: no new transactions
    for address in addresses:
        assert live_gateway.store.next_nonce(PROJECT, address) == 6
        assert len([m for m in live_gateway.store.unbatched_messages(PROJECT) if m.message.device == address]) == 6


def test_simulate_refuses_a_project_whose_schema_differs(live_gateway: LiveGateway, tmp_path: Path) -> None:
    project = make_project(tmp_path / "weather", 'temperature = "uint16"\nhumidity = "uint8"')
    code, output = run(
        "simulate", "--gateway", live_gateway.url, "--project", "1", "--project-dir", str(project), "--devices", "1"
    )
    assert code == 1
    assert "pass the --project-dir and --project of the project the node runs" in output
    assert not live_gateway.registrar.requests


def test_simulate_without_a_project_says_how_to_make_one(live_gateway: LiveGateway, tmp_path: Path) -> None:
    code, output = run("simulate", "--gateway", live_gateway.url, "--project", "1", "--project-dir", str(tmp_path))
    assert code == 1 and "proofstream project new" in output
