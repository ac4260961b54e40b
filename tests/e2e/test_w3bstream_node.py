"""W3bStream firmware moved without reflashing: a client written from docs/protocol.md ("W3bStream endpoint")
posts v0.25 tasks to a running node on anvil, and they settle like any message: batched, attested by the
project's attesters (each re-checks the signed request kept in the envelope), routed, paid. A replay is refused."""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_keys.datatypes import PrivateKey

from proofstream.domain.eip712 import Domain
from proofstream.node import Node
from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import load_project
from proofstream.sdk.device import DeviceKey
from proofstream.settings import ChainSettings, GatewaySettings, Settings

pytestmark = pytest.mark.chain

SECTION = """
[w3bstream]
timestamp = "ts"
signed_keys = ["ts"]

[w3bstream.keys]
quality = "link.quality"
"""


def w3b_task(key: bytes, project: int, nonce: int, payload: dict[str, Any]) -> str:
    """docs/protocol.md's recipe: sha256 of the body as Go marshals it without the signature, then sha256 of
    that hash and each signed key's value as a little-endian uint64; sign it, send r || s."""
    packed = json.dumps(payload, separators=(",", ":"))
    signed = f'{{"nonce":{nonce},"projectID":"{project}","projectVersion":"1","payload":{packed}}}'.encode()
    digest = hashlib.sha256(hashlib.sha256(signed).digest() + payload["ts"].to_bytes(8, "little")).digest()
    sig = PrivateKey(key).sign_msg_hash(digest)
    signature = "0x" + sig.r.to_bytes(32, "big").hex() + sig.s.to_bytes(32, "big").hex()
    return json.dumps(
        {"nonce": nonce, "projectID": str(project), "projectVersion": "1", "payload": payload, "signature": signature}
    )


def test_w3bstream_tasks_settle_through_a_running_node(tmp_path: Path) -> None:
    root = scaffold("uptime", "uptime", tmp_path, backend="attest")
    config = root / "proofstream.toml"
    config.write_text(config.read_text() + SECTION)
    spec = load_project(root)
    settings = Settings(
        data_dir=str(spec.state_dir), gateway=GatewaySettings(port=0), chain=ChainSettings(poll_seconds=0.2)
    )
    device = DeviceKey.generate()
    secret = bytes.fromhex(device.to_hex()[2:])
    with Node(settings, project=spec, env={}) as node:
        project = node.deployment.project
        owner = Account.create().address
        domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
        node.core.devices.register_device(
            project, device.address, owner, device.sign_binding(domain, project, owner), sender=node.roles.owner
        )
        deadline = time.monotonic() + 60
        while not node.store.device_projects(device.address):
            assert time.monotonic() < deadline, "the indexer never saw the device"
            time.sleep(0.2)
        readings = spec.generator().readings(random.Random(3), 0, spec.capacity, int(time.time()) - 3_600)
        ids = []
        for nonce, (timestamp, payload) in enumerate(readings, start=1):
            body = {"ts": timestamp, "link": {"quality": payload["quality"]}, "uptime": payload["uptime"]}
            answer = httpx.post(f"{node.gateway_url}/v1/task", content=w3b_task(secret, project, nonce, body))
            assert answer.status_code == 200, answer.text
            ids.append(answer.json()["taskID"])
        # A replay of the first (another payload under its nonce) is a conflict, not a second reward.
        first = readings[0]
        replay = {"ts": first[0], "link": {"quality": 0}, "uptime": first[1]["uptime"]}
        refused = httpx.post(f"{node.gateway_url}/v1/task", content=w3b_task(secret, project, 1, replay))
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "nonce_conflict")

        def trail(message_id: str) -> list[dict[str, Any]]:
            states: list[dict[str, Any]] = httpx.get(f"{node.gateway_url}/v1/task/{message_id}").json()["states"]
            return states

        deadline = time.monotonic() + 240
        while not all(trail(i)[-1]["state"] in {"settled", "failed"} for i in ids):
            assert time.monotonic() < deadline, f"not settled: {[trail(i)[-1] for i in ids]}"
            time.sleep(0.5)
        final = trail(ids[-1])
        assert [s["state"] for s in final] == ["packed", "assigned", "settled"], final
        assert final[-1]["transaction_hash"].startswith("0x")
        assert node.dapp.accrued(device.address) > 0  # accrued to the device until claimed
