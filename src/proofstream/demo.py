"""``proofstream demo``: the node on the embedded defaults, simulated GPS trackers, and a summary read back from
the chain. Everything is real: anvil, the contracts, the circuit, snarkjs proofs, HTTP, SQLite."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account import Account

from proofstream.domain.eip712 import Domain
from proofstream.domain.tasks import FINAL, TaskStatus
from proofstream.node import Node
from proofstream.projects.tracker_distance.logic import Fix, distance_metres
from proofstream.sdk.device import DeviceKey, GatewayClient
from proofstream.settings import GatewaySettings, Settings
from proofstream.simulator import simulate_track
from proofstream.store.ports import TaskRow

FIX_INTERVAL_S = 10
"""Simulated seconds between two fixes of a device."""
DEMO_WINDOW_S = 120
"""Task window for the demo: 12 fixes, so tasks are cut at the circuit's capacity (8) first."""
TOKEN_DECIMALS = 18


@dataclass
class DeviceSummary:
    device: str
    owner: str
    accepted: int
    metres: int
    reference_metres: int
    tokens_wei: int

    @property
    def tokens(self) -> float:
        return self.tokens_wei / float(10**TOKEN_DECIMALS)


@dataclass
class TaskSummary:
    task_id: str
    device: str
    status: str
    messages: int
    metres: int | None
    constraints: int | None
    prove_seconds: float | None
    assign_tx: str | None
    assign_gas: int | None
    route_tx: str | None
    route_gas: int | None
    reason: str | None


@dataclass
class DemoSummary:
    chain_id: int
    project: int
    token: str
    rate_per_metre_wei: int
    devices: list[DeviceSummary] = field(default_factory=list)
    tasks: list[TaskSummary] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for device, raw in zip(self.devices, data["devices"], strict=True):
            raw["tokens"] = device.tokens
        return data


@dataclass
class Progress:
    """Callbacks the CLI turns into progress bars; all optional."""

    step: Callable[[str], None] = lambda _: None
    sent: Callable[[int, int], None] = lambda done, total: None
    tasks: Callable[[int, int, int], None] = lambda proven, settled, total: None


def run_demo(
    *, devices: int = 10, messages: int = 20, data_dir: Path | None = None, progress: Progress | None = None
) -> DemoSummary:
    if devices < 1 or messages < 1:
        raise ValueError("the demo needs at least one device and one message per device")
    progress = progress or Progress()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="proofstream-demo-") as tmp:
        settings = Settings(
            data_dir=str(data_dir or tmp),
            gateway=GatewaySettings(port=0),
        )
        settings = replace(settings, batching=replace(settings.batching, window_seconds=DEMO_WINDOW_S))
        node = Node(settings, env={}, on_step=progress.step)
        with node:
            summary = _drive(node, devices, messages, progress)
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


def _drive(node: Node, n_devices: int, n_messages: int, progress: Progress) -> DemoSummary:
    project = node.deployment.project
    config = node.core.projects.current_version(project)
    domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
    keys = [DeviceKey.generate() for _ in range(n_devices)]
    owners = [Account.create().address for _ in keys]

    progress.step(f"registering {n_devices} devices (each binding signed by the device key)")
    for key, owner in zip(keys, owners, strict=True):
        signature = key.sign_binding(domain, project, owner)
        node.core.devices.register_device(project, key.address, owner, signature, sender=node.roles.owner)
    _wait(lambda: all(node.store.device_projects(k.address) for k in keys), "the indexer to see the devices")

    progress.step(f"devices send {n_messages} signed fixes each over HTTP")
    start_time = int(time.time()) - n_messages * FIX_INTERVAL_S
    tracks = [simulate_track(i, n_messages, start_time=start_time, interval_s=FIX_INTERVAL_S) for i in range(n_devices)]
    total = n_devices * n_messages
    sent = [0]
    accepted = [0] * n_devices

    def run_device(index: int) -> None:
        with GatewayClient(node.gateway_url) as client:
            nonce = int(client.next_nonce(project, keys[index].address))
            for fix in tracks[index]:
                body = keys[index].sign_message(
                    node.schema, domain, project, config, nonce, fix.timestamp, {"lat": fix.lat, "lon": fix.lon}
                )
                client.send(body)
                nonce += 1
                accepted[index] += 1
                sent[0] += 1
                progress.sent(sent[0], total)

    with ThreadPoolExecutor(max_workers=min(8, n_devices)) as pool:
        list(pool.map(run_device, range(n_devices)))

    progress.step("proving and settling the tasks")
    node.flush()

    def all_final() -> bool:
        if node.store.unbatched_messages(project):
            return False
        tasks = _tasks(node)
        proven = sum(1 for t in tasks if t.proof is not None or t.status in FINAL)
        settled = sum(1 for t in tasks if t.status in FINAL)
        progress.tasks(proven, settled, len(tasks))
        return settled == len(tasks)

    _wait(all_final, "every task to settle", timeout_s=60 + 10 * total)
    return _summary(node, keys, owners, accepted)


def _tasks(node: Node) -> list[TaskRow]:
    return node.store.tasks_with_status(*TaskStatus)


def _summary(node: Node, keys: list[DeviceKey], owners: list[str], accepted: list[int]) -> DemoSummary:
    token = node.deployment.reward_token
    summary = DemoSummary(node.client.chain_id, node.deployment.project, token, node.deployment.rate_per_unit)
    tasks = sorted(_tasks(node), key=lambda t: (t.device, t.first_nonce))
    reference: dict[str, int] = {}
    for task in tasks:
        messages = node.store.task_messages(task.id)
        fixes = [
            Fix(
                m.message.nonce,
                m.message.timestamp,
                int(m.message.payload_dict["lat"]),
                int(m.message.payload_dict["lon"]),
            )
            for m in messages
        ]
        if task.status is TaskStatus.SETTLED:
            reference[task.device.lower()] = reference.get(task.device.lower(), 0) + distance_metres(fixes)
        summary.tasks.append(
            TaskSummary(
                task_id=str(task.id),
                device=task.device,
                status=str(task.status),
                messages=len(messages),
                metres=int(task.outputs[0]) if task.outputs else None,
                constraints=task.constraints,
                prove_seconds=task.prove_seconds,
                assign_tx=task.assign_tx,
                assign_gas=task.gas_assign,
                route_tx=task.route_tx,
                route_gas=task.gas_route,
                reason=task.reason,
            )
        )
    for key, owner, count in zip(keys, owners, accepted, strict=True):
        device = key.address.lower()
        proven = sum(t.metres or 0 for t in summary.tasks if t.device.lower() == device and t.status == "settled")
        summary.devices.append(
            DeviceSummary(
                device=key.address,
                owner=owner,
                accepted=count,
                metres=proven,
                reference_metres=reference.get(device, 0),
                tokens_wei=node.token.balance_of(owner),
            )
        )
    return summary


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)
