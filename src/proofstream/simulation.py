"""Run a project end to end on the local chain: a node, simulated devices from the project's generator sending signed
messages over HTTP, and a summary read back from the chain. ``proofstream demo`` is this on the tracker-distance
template scaffolded at capacity 16 (demo.py); ``proofstream project run`` on the developer's own project. Everything
is real: anvil, the contracts, the circuit, snarkjs proofs (or attesting provers), HTTP, SQLite."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account import Account

from proofstream.domain.circuit_task import TaskRecord, record_of
from proofstream.domain.eip712 import Domain
from proofstream.domain.tasks import FINAL, TaskStatus
from proofstream.domain.types import ConfigVersion
from proofstream.node import Node
from proofstream.projects.circuit import reference_outputs
from proofstream.projects.generator import ProjectGenerator, Reading
from proofstream.projects.spec import ProjectSpec
from proofstream.sdk.device import AnyDeviceKey, BjjDeviceKey, DeviceKey, GatewayClient
from proofstream.settings import GatewaySettings, Settings
from proofstream.store.ports import TaskRow

TOKEN_DECIMALS = 18


@dataclass
class DeviceSummary:
    device: str
    owner: str
    accepted: int
    proven: int
    """Sum of the first output (what the DApp pays for) over the device's settled tasks, as proven."""
    reference: int
    """The same sum by the project's plain-Python logic over the stored messages."""
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
    output: int | None
    constraints: int | None
    prove_seconds: float | None
    assign_tx: str | None
    assign_gas: int | None
    route_tx: str | None
    route_gas: int | None
    reason: str | None


@dataclass
class RunSummary:
    project_name: str
    backend: str
    chain_id: int
    project: int
    token: str
    rate_per_unit_wei: int
    unit: str
    output_name: str
    devices: list[DeviceSummary] = field(default_factory=list)
    tasks: list[TaskSummary] = field(default_factory=list)
    claim_gas: int = 0
    """Gas of the one claim transaction that mints every device's accrued rewards to its owner (not a task's)."""
    seconds: float = 0.0

    def gas(self) -> GasSummary:
        """The gas of every assign and route transaction of the run, over its messages (the tasks' shares add up
        to each transaction's gas: a batch's gas is shared among its tasks)."""
        assign = sum(t.assign_gas or 0 for t in self.tasks)
        route = sum(t.route_gas or 0 for t in self.tasks)
        return GasSummary(
            messages=sum(t.messages for t in self.tasks),
            tasks=len(self.tasks),
            assign=assign,
            route=route,
            assign_transactions=len({t.assign_tx for t in self.tasks if t.assign_tx}),
            route_transactions=len({t.route_tx for t in self.tasks if t.route_tx}),
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for device, raw in zip(self.devices, data["devices"], strict=True):
            raw["tokens"] = device.tokens
        gas = self.gas()
        data["gas"] = {**asdict(gas), "per_message": gas.per_message}
        return data


@dataclass(frozen=True)
class GasSummary:
    messages: int
    tasks: int
    assign: int
    route: int
    assign_transactions: int
    route_transactions: int

    @property
    def per_message(self) -> int:
        """All in: assign and route gas over the messages the tasks held (0 without messages)."""
        return round((self.assign + self.route) / self.messages) if self.messages else 0


@dataclass
class Progress:
    """Callbacks the CLI turns into progress bars; all optional."""

    step: Callable[[str], None] = lambda _: None
    sent: Callable[[int, int], None] = lambda done, total: None
    tasks: Callable[[int, int, int], None] = lambda proven, settled, total: None


SIMULATION_MAX_PAST_S = 30 * 86_400
"""The gateway's ``max_past_seconds`` during a run: simulated devices replay readings that end now but may start
hours back (a weather station reads every 1 to 10 minutes), which a real device would have sent as it went."""


def run_project(
    spec: ProjectSpec,
    *,
    devices: int = 10,
    messages: int = 20,
    data_dir: Path | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
    seed: int = 0,
) -> RunSummary:
    """Start a node for ``spec`` on the local chain, drive simulated devices through it, and wait until every
    task is settled. ``data_dir`` keeps the chain and store (default: a temporary folder)."""
    if devices < 1 or messages < 1:
        raise ValueError("a run needs at least one device and one message per device")
    progress = progress or Progress()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="proofstream-run-") as tmp:
        base = settings or Settings(gateway=GatewaySettings(port=0))
        past = max(base.gateway.max_past_seconds, SIMULATION_MAX_PAST_S)
        base = replace(base, gateway=replace(base.gateway, max_past_seconds=past))
        node = Node(replace(base, data_dir=str(data_dir or tmp)), project=spec, env={}, on_step=progress.step)
        with node:
            summary = _drive(node, devices, messages, progress, seed)
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


def _drive(node: Node, n_devices: int, n_messages: int, progress: Progress, seed: int) -> RunSummary:
    spec = node.project
    project = node.deployment.project
    config = node.core.projects.current_version(project)
    domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
    # A circuit that checks the signatures needs BabyJubJub devices (EdDSA-Poseidon); otherwise secp256k1 ones.
    key_class = BjjDeviceKey if spec.circuit_signatures else DeviceKey
    keys: list[AnyDeviceKey] = [key_class.generate() for _ in range(n_devices)]
    owners = [Account.create().address for _ in keys]

    kind = "BabyJubJub " if spec.circuit_signatures else ""
    progress.step(f"registering {n_devices} {kind}devices (each binding signed by the device key)")
    for key, owner in zip(keys, owners, strict=True):
        register_device(node, project, domain, key, owner)
    _wait(lambda: all(node.store.device_projects(k.address) for k in keys), "the indexer to see the devices")

    progress.step(f"devices send {n_messages} signed messages each over HTTP")
    generator = spec.generator()  # imported once: each call of spec.generator() executes the file again
    readings = [_recent_readings(generator, seed * 1_000_003 + i, i, n_messages) for i in range(n_devices)]
    total = n_devices * n_messages
    sent = [0]
    accepted = [0] * n_devices

    def run_device(index: int) -> None:
        with GatewayClient(node.gateway_url) as client:
            nonce = int(client.next_nonce(project, keys[index].address))
            for timestamp, payload in readings[index]:
                body = keys[index].sign_message(node.schema, domain, project, config, nonce, timestamp, payload)
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


def register_device(node: Node, project: int, domain: Domain, key: AnyDeviceKey, owner: str) -> None:
    """Register ``key`` in ``project`` for ``owner`` as the project owner, with the binding the device key signs."""
    signature = key.sign_binding(domain, project, owner)
    devices, sender = node.core.devices, node.roles.owner
    if isinstance(key, BjjDeviceKey):
        ax, ay = key.public_key
        r8x, r8y, s = (int.from_bytes(signature[i : i + 32], "big") for i in (0, 32, 64))
        devices.register_bjj_device(project, ax, ay, owner, r8x, r8y, s, sender=sender)
    else:
        devices.register_device(project, key.address, owner, signature, sender=sender)


def _recent_readings(generator: ProjectGenerator, seed: int, device: int, count: int) -> list[Reading]:
    """The generator's readings for one device, ending a second ago: a gateway sees no messages from the
    future, and every batching window closes on the data's own clock. The generator is asked twice with the
    same seed, once to learn how long its readings span."""
    now = int(time.time())
    span = generator.readings(random.Random(seed), device, count, now)
    end = span[-1][0] if span else now
    return list(generator.readings(random.Random(seed), device, count, now - (end - now) - 1))


def _tasks(node: Node) -> list[TaskRow]:
    return node.store.tasks_with_status(*TaskStatus)


def _summary(node: Node, keys: list[AnyDeviceKey], owners: list[str], accepted: list[int]) -> RunSummary:
    spec = node.project
    logic = spec.logic()
    summary = RunSummary(
        project_name=spec.name,
        backend=spec.backend,
        chain_id=node.client.chain_id,
        project=node.deployment.project,
        token=node.deployment.reward_token,
        rate_per_unit_wei=node.deployment.rate_per_unit,
        unit=spec.unit,
        output_name=spec.outputs[0],
    )
    tasks = sorted(_tasks(node), key=lambda t: (t.device, t.first_nonce))
    reference: dict[str, int] = {}
    # The anchor each settled task left (its last message and config version): the next one is computed from it,
    # as the circuit does (domain/anchor.py).
    anchors: dict[str, tuple[TaskRecord, ConfigVersion]] = {}
    for task in tasks:
        messages = node.store.task_messages(task.id)
        records = [record_of(m.message) for m in messages]
        device = task.device.lower()
        if task.status is TaskStatus.SETTLED:
            prior = anchors.get(device)
            previous = prior[0] if prior is not None and prior[1] == task.config else None
            prev_time = prior[0].timestamp if prior is not None else 0
            value = reference_outputs(logic, records, spec.capacity, previous, prev_time)[0]
            reference[device] = reference.get(device, 0) + value
            anchors[device] = (records[-1], task.config)
        summary.tasks.append(
            TaskSummary(
                task_id=str(task.id),
                device=task.device,
                status=str(task.status),
                messages=len(messages),
                output=int(task.outputs[0]) if task.outputs else None,
                constraints=task.constraints,
                prove_seconds=task.prove_seconds,
                assign_tx=task.assign_tx,
                assign_gas=task.gas_assign,
                route_tx=task.route_tx,
                route_gas=task.gas_route,
                reason=task.reason,
            )
        )
    # Rewards accrue per device in the DApp: claim them (to each device's owner) before reading balances.
    summary.claim_gas = node.dapp.claim([k.address for k in keys], sender=node.roles.owner).gas_used
    for key, owner, count in zip(keys, owners, accepted, strict=True):
        device = key.address.lower()
        proven = sum(t.output or 0 for t in summary.tasks if t.device.lower() == device and t.status == "settled")
        summary.devices.append(
            DeviceSummary(
                device=key.address,
                owner=owner,
                accepted=count,
                proven=proven,
                reference=reference.get(device, 0),
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
