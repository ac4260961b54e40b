"""docs/vectors/device-messages.json (the firmware authors' vectors) against the Python SDK and the gateway: every
intermediate value, every signature, every expected HTTP outcome; and the file is what its generator makes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient
from testbed import OWNER, REPO, RecordingRegistrar, by_name

from proofstream.domain.eip712 import (
    DOMAIN_MEMBERS,
    Domain,
    domain_separator,
    encode_type,
    encode_value,
    hash_struct,
    type_hash,
)
from proofstream.domain.messages import SECP256K1_N, digest, message_id, parse_body, to_body
from proofstream.domain.schema import Schema
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.ingest.errors import STATUS_OF_CODE
from proofstream.ingest.http import create_app
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import ProjectConfig
from proofstream.store.sqlite import SqliteStore

FILE = REPO / "docs" / "vectors" / "device-messages.json"
VECTORS: dict[str, Any] = json.loads(FILE.read_text())
D = VECTORS["domain"]
DOMAIN = Domain(D["domain"]["chainId"], Address(D["domain"]["verifyingContract"]))
SCHEMAS = {p["project"]: Schema.from_json(p["schema"]) for p in VECTORS["gateway"]["projects"]}
BINDING_MEMBERS = (("project", "uint64"), ("device", "address"), ("owner", "address"))


@pytest.mark.parametrize("script", ["messages.py", "device_messages.py", "w3bstream.py"])
def test_the_files_are_what_the_generators_make(script: str) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "vectors" / script), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_domain_separator_step_by_step() -> None:
    assert encode_type("EIP712Domain", DOMAIN_MEMBERS) == D["type_string"]
    assert "0x" + type_hash("EIP712Domain", DOMAIN_MEMBERS).hex() == D["type_hash"]
    values = {"name": DOMAIN.name, "version": DOMAIN.version, "chainId": DOMAIN.chain_id}
    values["verifyingContract"] = DOMAIN.verifying_contract
    for name, type_ in DOMAIN_MEMBERS:
        assert "0x" + encode_value(type_, values[name]).hex() == D["encoded"][name]
    assert "0x" + domain_separator(DOMAIN).hex() == D["separator"]


@pytest.mark.parametrize("vector", VECTORS["messages"], ids=lambda v: str(v["name"]))
def test_message_vectors_step_by_step(vector: dict[str, Any]) -> None:
    key = DeviceKey.from_hex(vector["private_key"])
    assert key.address == vector["address"]
    values = {f["name"]: f["value"] for f in vector["fields"]}
    schema = SCHEMAS[values["project"]]
    assert schema.to_json() == vector["schema"]
    members = [(f.name, f.type) for f in schema.fields]
    assert [(f["name"], f["type"]) for f in vector["fields"]] == members
    assert encode_type("Message", members) == vector["type_string"]
    assert "0x" + type_hash("Message", members).hex() == vector["type_hash"]
    for field in vector["fields"]:
        assert "0x" + encode_value(field["type"], field["value"]).hex() == field["encoded"], field["name"]
    ordered = [values[name] for name, _ in members]
    assert "0x" + hash_struct("Message", members, ordered).hex() == vector["struct_hash"]
    assert vector["digest_preimage"] == "0x1901" + D["separator"][2:] + vector["struct_hash"][2:]
    payload = {f.name: values[f.name] for f in schema.payload}
    project, config, nonce, timestamp = (int(values[name]) for name in ("project", "config", "nonce", "timestamp"))
    body = key.sign_message(schema, DOMAIN, project, config, nonce, timestamp, payload)
    signature = vector["signature"]
    assert body["signature"] == signature["hex"] == signature["r"] + signature["s"][2:] + f"{signature['v']:02x}"
    assert signature["low_s"] and signature["v"] in (27, 28)
    message = parse_body(vector["http"]["body"].encode(), lambda project, config: SCHEMAS[project])
    assert to_body(message).decode() == vector["http"]["body"]
    assert "0x" + digest(message, DOMAIN).hex() == vector["digest"]
    assert message_id(digest(message, DOMAIN)) == vector["id"]


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS["registrations"] if "type_hash" in v], ids=lambda v: str(v["name"])
)
def test_registration_vectors_step_by_step(vector: dict[str, Any]) -> None:
    assert encode_type("DeviceBinding", BINDING_MEMBERS) == vector["type_string"]
    assert "0x" + type_hash("DeviceBinding", BINDING_MEMBERS).hex() == vector["type_hash"]
    values = [vector["project"], vector["device"], vector["owner"]]
    assert "0x" + hash_struct("DeviceBinding", BINDING_MEMBERS, values).hex() == vector["struct_hash"]
    key = DeviceKey.from_hex(vector["private_key"])
    assert "0x" + key.sign_binding(DOMAIN, vector["project"], vector["owner"]).hex() == vector["signature"]["hex"]


# --- what the gateway answers ---


@contextmanager
def gateway(tmp_path: Path) -> Iterator[TestClient]:
    """A fresh gateway in the state the file's ``gateway`` section describes."""
    with SqliteStore(tmp_path / "vectors.db") as store:
        for project in VECTORS["gateway"]["projects"]:
            config = ProjectConfig(
                ProjectId(project["project"]), ConfigVersion(project["config"]), SCHEMAS[project["project"]], DOMAIN
            )
            store.upsert_project(config)
        for device in VECTORS["gateway"]["devices"]:
            store.upsert_device(ProjectId(device["project"]), Address(device["device"]), OWNER)
        with TestClient(create_app(store, registrar=RecordingRegistrar())) as client:
            yield client


def post(client: TestClient, vector: dict[str, Any]) -> Any:
    if "http" in vector:
        return client.post(vector["http"]["path"], content=vector["http"]["body"].encode())
    raw = bytes.fromhex(vector["body_hex"]) if "body_hex" in vector else vector["body"].encode()
    return client.post("/messages", content=raw)


def check_outcome(response: Any, expect: dict[str, Any]) -> None:
    assert response.status_code == expect["status"], response.text
    if "code" in expect:
        assert response.json()["error"]["code"] == expect["code"]
        assert STATUS_OF_CODE[expect["code"]] == expect["status"]
    if "body" in expect:
        assert response.json() == expect["body"]
    if "status_field" in expect:
        assert response.json()["status"] == expect["status_field"]


OUTCOMES = [
    pytest.param(section, vector, id=f"{section}:{vector['name']}")
    for section in ("messages", "resends", "bad", "registrations")
    for vector in VECTORS[section]
]


@pytest.mark.parametrize(("section", "vector"), OUTCOMES)
def test_the_gateway_gives_the_expected_outcome(tmp_path: Path, section: str, vector: dict[str, Any]) -> None:
    good = by_name(VECTORS["messages"])
    with gateway(tmp_path) as client:
        for earlier in vector.get("after", []):
            assert post(client, good[earlier]).status_code == 202
        check_outcome(post(client, vector), vector["expect"])


def test_every_error_code_of_the_protocol_has_a_bad_vector() -> None:
    codes = {v["expect"]["code"] for v in VECTORS["bad"]}
    message_codes = {
        "invalid_json",
        "schema_mismatch",
        "invalid_field",
        "unsupported_version",
        "bad_signature",
        "unknown_device",
        "device_not_in_project",
        "unknown_project",
        "unknown_config",
        "nonce_conflict",
    }
    assert message_codes <= codes


def test_signing_md_quotes_only_values_from_the_file() -> None:
    """docs/signing.md walks through vectors: every long hex string it shows must be in the vector files (the
    secp256k1 one, or the BabyJubJub or P-256 one for their walkthroughs)."""
    text = (REPO / "docs" / "signing.md").read_text()
    quoted = set(re.findall(r"0x[0-9a-fA-F]{40,}", text))
    files = (
        FILE,
        *(REPO / "docs" / "vectors" / name for name in ("babyjub.json", "p256.json", "device-vouchers.json")),
    )
    known = {v for f in files for v in re.findall(r"0x[0-9a-fA-F]{40,}", f.read_text())} | {f"0x{SECP256K1_N:064X}"}
    # The P-256 walkthrough shows the whole keccak256 its device id is the tail of, from the file's X and Y.
    p256_keys = json.loads((REPO / "docs" / "vectors" / "p256.json").read_text())["keys"]
    known |= {"0x" + keccak(b"ps.p256" + bytes.fromhex(k["x"][2:] + k["y"][2:])).hex() for k in p256_keys}
    # A walkthrough may show a part of a vector's value (R8x, the first 32 bytes of a 96-byte wire signature).
    blob = " ".join(known).lower()
    assert len(quoted) >= 10
    assert all(value.lower()[2:] in blob for value in quoted), sorted(v for v in quoted if v.lower()[2:] not in blob)
