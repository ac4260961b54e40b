"""A running node with ``mqtt.broker_url`` set takes device messages over MQTT beside HTTP: the same admission
(signature, registration on chain, clock window), the same store, the message visible through HTTP."""

from __future__ import annotations

import json
import random
import time
import uuid
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from mqtt_broker import DeviceClient, shared_broker_url, wait_until

from proofstream.domain.eip712 import Domain
from proofstream.ingest.mqtt_wire import TopicScheme
from proofstream.node import Node
from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import load_project
from proofstream.sdk.device import DeviceKey
from proofstream.settings import ChainSettings, GatewaySettings, MqttSettings, Settings

pytestmark = pytest.mark.chain


def test_a_node_with_a_broker_url_admits_mqtt_messages_into_its_store(tmp_path: Path) -> None:
    url = shared_broker_url()
    spec = load_project(scaffold("mqttnode", "uptime", tmp_path, backend="attest"))
    scheme = TopicScheme(f"pstest-{uuid.uuid4().hex[:10]}/v1")
    settings = Settings(
        data_dir=str(spec.state_dir),
        gateway=GatewaySettings(port=0),
        chain=ChainSettings(poll_seconds=0.2),
        mqtt=MqttSettings(
            broker_url=url,
            client_id=f"node-{uuid.uuid4().hex[:8]}",
            topic_prefix=scheme.prefix,
            session_expiry_seconds=60,
        ),
    )
    key, stranger = DeviceKey.generate(), DeviceKey.generate()
    with Node(settings, project=spec, env={}) as node:
        project = node.deployment.project
        domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
        owner = Account.create().address
        node.core.devices.register_device(
            project, key.address, owner, key.sign_binding(domain, project, owner), sender=node.roles.owner
        )
        wait_until(lambda: bool(node.store.device_projects(key.address)), 60, "the indexer to see the device")
        [(timestamp, payload)] = spec.generator().readings(random.Random(1), 0, 1, int(time.time()) - 5)

        def body(signer: DeviceKey, nonce: int) -> bytes:
            signed = signer.sign_message(spec.schema, domain, project, 1, nonce, timestamp + nonce, payload)
            return json.dumps(signed).encode()

        device = DeviceClient(url, scheme.results(project, "+"))
        try:
            device.publish(scheme.messages(project, key.address), body(key, 0))
            device.publish(scheme.messages(project, stranger.address), body(stranger, 0))
            results = device.wait_results(2)
        finally:
            device.close()
        accepted = next(r for r in results if r["result"] == "accepted")
        refused = next(r for r in results if r["result"] == "error")
        assert refused["error"]["code"] == "unknown_device"  # the chain's registry decides, as over HTTP
        status = httpx.get(f"{node.gateway_url}/messages/{accepted['id']}")
        assert status.status_code == 200 and status.json()["status"] == "received"
