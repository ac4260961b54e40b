"""Versions and lifecycle of a deployed project, with a running node: upgrade while messages keep flowing (each
task is settled under the version its messages were signed with, by that version's logic), the content behind
each version's hash served by the gateway, pause and resume, and retirement of the old version.

The attest backend keeps this quick (no trusted setup per version); the version plumbing is the same for
Groth16, whose per-version verifiers tests/contracts/test_versions.py covers on chain."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from eth_account import Account

from projects.helpers import cli
from proofstream.chain.gateway import LIVE_CACHE_S
from proofstream.domain.circuit_task import TaskRecord
from proofstream.domain.eip712 import Domain
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address
from proofstream.domain.vouchers import ZERO_ADDRESS, Terms
from proofstream.errors import MessageError, ProofstreamError
from proofstream.node import Node
from proofstream.projects.circuit import reference_outputs
from proofstream.projects.deploy import version_dir
from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import ProjectSpec, hash_content, load_project
from proofstream.sdk.device import DeviceKey, GatewayClient
from proofstream.settings import ChainSettings, GatewaySettings, Settings
from proofstream.store.ports import TaskRow

pytestmark = [pytest.mark.slow, pytest.mark.chain]


def wait(condition: Callable[[], bool], what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class Devices:
    """Two simulated stations sending heartbeats from the project's generator, signed under a chosen version."""

    def __init__(self, spec: ProjectSpec, keys: list[DeviceKey]) -> None:
        self.spec = spec
        self.keys = keys
        self.clock = int(time.time()) - 10_000
        self.rng = random.Random(7)

    def send(self, node: Node, key: DeviceKey, config: int, count: int) -> None:
        domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
        readings = self.spec.generator().readings(self.rng, 0, count, self.clock)
        self.clock = readings[-1][0] + 1
        with GatewayClient(node.gateway_url) as client:
            nonce = int(client.next_nonce(node.deployment.project, key.address))
            for timestamp, payload in readings:
                body = key.sign_message(
                    self.spec.schema, domain, node.deployment.project, config, nonce, timestamp, payload
                )
                client.send(body)
                nonce += 1


def settled(node: Node) -> list[TaskRow]:
    return node.store.tasks_with_status(TaskStatus.SETTLED)


def settled_messages(node: Node) -> int:
    """Messages in settled tasks (a device's heartbeats may span more than one batching window)."""
    return sum(t.last_nonce - t.first_nonce + 1 for t in settled(node))


def records(node: Node, task: TaskRow) -> list[TaskRecord]:
    return [
        TaskRecord(m.message.nonce, m.message.timestamp, {k: int(v) for k, v in m.message.payload_dict.items()})
        for m in node.store.task_messages(task.id)
    ]


def outputs_by(logic: ModuleType, node: Node, task: TaskRow, capacity: int) -> tuple[int, ...]:
    """The reference outputs of ``task``, chained to the device's previous settled task (its anchor): the
    previous heartbeat counts when it was under the same config version."""
    before = node.store.previous_task(task.project, task.device, task.first_nonce)
    previous, prev_time = None, 0
    if before is not None and before.status is TaskStatus.SETTLED:
        last = records(node, before)[-1]
        previous, prev_time = (last if before.config == task.config else None), last.timestamp
    return reference_outputs(logic, records(node, task), capacity, previous, prev_time)


def test_upgrade_grace_content_pause_resume_retire(tmp_path: Path) -> None:
    root = scaffold("life", "uptime", tmp_path, backend="attest")
    cli("project", "deploy", "--project", str(root), "--chain", "local")
    spec = load_project(root)
    settings = Settings(
        data_dir=str(spec.state_dir),
        # The stations replay heartbeats from hours ago (Devices.clock): widen the gateway's clock window.
        gateway=GatewaySettings(port=0, max_past_seconds=86_400),
        chain=ChainSettings(poll_seconds=0.2),
    )
    station_a, station_b = DeviceKey.generate(), DeviceKey.generate()
    devices = Devices(spec, [station_a, station_b])

    # --- version 1 running; its content is served and hashes to what the chain holds --------------------------
    with Node(settings, project=spec, env={}) as node:
        project = node.deployment.project
        domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
        for key in (station_a, station_b):
            owner = Account.create().address
            node.core.devices.register_device(
                project, key.address, owner, key.sign_binding(domain, project, owner), sender=node.roles.owner
            )
        wait(lambda: all(node.store.device_projects(k.address) for k in (station_a, station_b)), "the indexer")
        devices.send(node, station_a, 1, 8)
        node.flush()
        wait(lambda: settled_messages(node) == 8, "the version 1 task(s) to settle")

        content = httpx.get(f"{node.gateway_url}/v1/projects/{project}/versions/1/content").json()
        files = {name: text.encode() for name, text in content["files"].items()}
        assert hash_content(files) == node.core.projects.config_hash_of(project, 1)
        assert httpx.get(f"{node.gateway_url}/v1/projects/{project}/versions/9/content").status_code == 404

    # --- upgrade: version 2 counts a heartbeat only above 50 % link quality ------------------------------------
    logic_file = root / "logic.py"
    logic_file.write_text(logic_file.read_text().replace("MIN_QUALITY = 20", "MIN_QUALITY = 50"))
    upgraded = cli("project", "upgrade", "--project", str(root), "--grace-blocks", "500")
    assert "version 2" in upgraded
    status = cli("project", "status", "--project", str(root))
    assert "2 (current)" in status
    assert "matches the current version" in status

    spec = load_project(root)
    old_logic = load_project(version_dir(spec.state_dir, 31337, 1)).logic()
    new_logic = spec.logic()
    assert old_logic.MIN_QUALITY == 20 and new_logic.MIN_QUALITY == 50
    with Node(settings, project=spec, env={}) as node:
        assert set(node.versions) == {1, 2}
        # Messages keep flowing: station A still signs under version 1 (grace period), station B under 2.
        devices.send(node, station_a, 1, 8)
        devices.send(node, station_b, 2, 8)
        node.flush()
        wait(lambda: settled_messages(node) == 24, "both versions' tasks to settle")
        by_config = {int(t.config): t for t in settled(node)}
        assert set(by_config) == {1, 2}, [(t.device, t.config, t.first_nonce, t.last_nonce) for t in settled(node)]
        for task in settled(node):
            logic = old_logic if task.config == 1 else new_logic
            assert task.outputs == tuple(outputs_by(logic, node, task, spec.capacity))
        assert node.core.tasks.get_task(by_config[2].id).config == 2

        # --- pause: nothing is assigned; resume: it settles ------------------------------------------------------
        assert "paused" in cli("project", "pause", "--project", str(root))  # acts on this node's chain
        assert not node.core.projects.is_active(project)
        devices.send(node, station_b, 2, 8)
        node.flush()
        time.sleep(2)
        assert settled_messages(node) == 24
        assert len(node.store.unbatched_messages(project)) == 8
        cli("project", "resume", "--project", str(root))
        wait(lambda: settled_messages(node) == 32, "the messages sent while paused to settle after resume")

        # --- a manufacturer the owner registers vouches for a device, which registers through the gateway --------
        maker, vouched, owner = DeviceKey.generate(), DeviceKey.generate(), Address(Account.create().address)
        assert "allowed" in cli("project", "manufacturer", maker.address, "--project", str(root))
        with GatewayClient(node.gateway_url) as client:
            domain, expiry = client.project(project).domain, int(time.time()) + 600
            voucher = maker.sign_voucher(domain, Terms(project, vouched.address, ZERO_ADDRESS, 1, expiry))
            permit = vouched.sign_permit(domain, Terms(project, vouched.address, owner, 1, expiry))
            for attempt in range(3):  # the CLI just sent from the node's own key: its first nonce may be stale
                try:
                    client.register(project, vouched.address, owner, permit.signature, voucher=voucher, permit=permit)
                    break
                except ProofstreamError as exc:
                    assert exc.code == "gateway_unavailable" and attempt < 2, exc  # 502 registration_failed
            wait(lambda: client.device(project, vouched.address).registered, "the vouched device to be indexed")
        assert node.core.devices.device_owner(project, vouched.address) == owner
        assert "removed" in cli("project", "manufacturer", maker.address, "--remove", "--project", str(root))
        assert not node.core.devices.is_voucher_issuer(project, maker.address)

        # --- retire version 1: the gateway refuses new messages under it; what it took before is never lost -----
        cli("project", "retire", "1", "--project", str(root))
        assert not node.core.projects.is_live(project, 1)
        time.sleep(LIVE_CACHE_S)
        with pytest.raises(MessageError) as refused:
            devices.send(node, station_a, 1, 3)
        assert refused.value.code == "retired_config"
        devices.send(node, station_b, 2, 8)
        node.flush()
        wait(lambda: settled_messages(node) == 40, "version 2 to keep settling")
        assert not node.store.unbatched_messages(project)
