"""A running node and chain for the attack tests, and the two doors an attacker has.

- ``send``: the public HTTP API, as a registered device would use it (the gateway's rules apply).
- ``inject``: a malicious sequencer and prover that skip the gateway and the node's own pipeline, assigning tasks
  straight on chain with the node's sequencer key, proving them with the project's real circuit and routing them
  with the prover key. What stops it there is the chain (anchors, order) and the circuit, not the gateway.

Payouts are read from the reward token, in the project's output units, so a test compares what an attacker was
paid on chain with what an honest device was paid over the same wall-clock span.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.domain.anchor import Anchor
from proofstream.domain.circuit_task import CircuitTask, TaskRecord, record_of
from proofstream.domain.eip712 import Domain
from proofstream.domain.layout import batch_root
from proofstream.domain.messages import message_leaf
from proofstream.domain.tasks import FINAL, TaskCommitment
from proofstream.domain.tasks import TaskStatus as StoreStatus
from proofstream.domain.types import Address, ConfigVersion, FieldElement, Nonce, ProjectId
from proofstream.errors import ProofstreamError, ProverError, TransactionRevertedError
from proofstream.node import Node
from proofstream.projects.circuit import ProjectCircuit
from proofstream.projects.scaffold import template_dir
from proofstream.projects.spec import load_project
from proofstream.prover.groth16 import Groth16Backend
from proofstream.prover.warm import choose_prover
from proofstream.sdk.device import AnyDeviceKey, BjjDeviceKey, DeviceKey
from proofstream.settings import ChainSettings, GatewaySettings, Settings
from proofstream.simulation import register_device

SETTLE_TIMEOUT_S = 240.0


@dataclass
class Attacker:
    key: AnyDeviceKey
    owner: str
    nonce: int = 0

    @property
    def address(self) -> str:
        return self.key.address


@dataclass(frozen=True)
class Injected:
    """The outcome of one task a malicious sequencer pushed through: paid units, or why it could not settle."""

    task_id: int
    settled: bool
    reason: str | None = None


class AttackWorld:
    def __init__(self, node: Node, work: Path) -> None:
        self.node = node
        self.work = work
        self.project = ProjectId(node.deployment.project)
        assert node.build.artifacts is not None, "attack tests run Groth16 projects"
        self.circuit = ProjectCircuit.of(node.project)
        self.backend_artifacts = node.build.artifacts
        # The node's own prover choice (the warm fast path where installed): an attacker proves as fast as anyone.
        self.backend = Groth16Backend(
            self.circuit, node.build.artifacts, choose_prover(node.settings.prover.backend, node.build.artifacts)
        )
        self.domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
        self.http = httpx.Client(base_url=node.gateway_url, timeout=30)
        self._injected_last: dict[str, TaskRecord] = {}
        """The last message of each device's last injected task that settled: the anchor's opening."""

    # --- devices ------------------------------------------------------------------------------------------------

    def device(self, kind: type[DeviceKey | BjjDeviceKey] = DeviceKey) -> Attacker:
        """A fresh device with a key of ``kind`` (secp256k1 by default), registered on chain as the project owner
        and known to the gateway."""
        key, owner = kind.generate(), Account.create().address
        register_device(self.node, self.project, self.domain, key, owner)
        deadline = time.monotonic() + 30
        while self.project not in self.node.store.device_projects(Address(key.address)):
            if time.monotonic() > deadline:
                raise TimeoutError("the node's indexer did not pick up the registration")
            time.sleep(0.1)
        return Attacker(key, owner)

    def tasks_of(self, device: Attacker) -> int:
        """How many tasks the node cut of the device's messages."""
        return sum(1 for task in self.node.store.tasks_with_status(*StoreStatus) if task.device == device.address)

    def paid(self, device: Attacker) -> int:
        """What the device's owner holds, in the project's output units (token wei / rate)."""
        return self.node.token.balance_of(device.owner) // self.node.deployment.rate_per_unit

    # --- door 1: the public HTTP API ----------------------------------------------------------------------------

    def send(self, device: Attacker, timestamp: int, payload: Mapping[str, int]) -> httpx.Response:
        body = device.key.sign_message(
            self.node.schema, self.domain, self.project, self._config(), device.nonce, timestamp, dict(payload)
        )
        answer = self.http.post("/messages", json=body)
        if answer.status_code in (200, 202):
            device.nonce += 1
        return answer

    def settle(self) -> None:
        """Cut every open batch and wait until every task of the node is final."""
        self.node.flush()
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while True:
            pending = self.node.store.unbatched_messages(self.project)
            tasks = self.node.store.tasks_with_status(*(s for s in StoreStatus if s not in FINAL))
            if not pending and not tasks:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"still open after {SETTLE_TIMEOUT_S} s: {len(pending)} messages, {tasks}")
            time.sleep(0.3)

    # --- door 2: a malicious sequencer and prover ----------------------------------------------------------------

    def inject(self, device: Attacker, readings: Sequence[tuple[int, Mapping[str, int]]]) -> Injected:
        """Assign one task of ``readings`` (timestamp, payload) straight on chain, prove it against the chain's
        anchor with the real circuit (no Python-side checks) and route it. Nonces continue the device's."""
        records = [TaskRecord(device.nonce + i, t, dict(p)) for i, (t, p) in enumerate(readings)]
        device.nonce += len(records)
        device_int = int(device.address, 16)
        root = batch_root(self.project, device_int, records, self.circuit.schema_fields, self.circuit.depth)
        assignment = TaskCommitment(
            project=self.project,
            config=self._config(),
            device=Address(device.address),
            first_nonce=Nonce(records[0].nonce),
            last_nonce=Nonce(records[-1].nonce),
            root=FieldElement(root),
            prover=Address(self.node.roles.prover.address),
        )
        task_id = self.node.core.tasks.assign_tasks([assignment], 1000, sender=self.node.roles.sequencer).task_ids[0]
        anchor = self.node.core.tasks.anchor_of(self.project, device.address)
        task = CircuitTask(
            self.project,
            task_id,
            device_int,
            int(self.node.roles.prover.address, 16),
            root,
            tuple(records),
            config=self._config(),
            anchor=anchor,
            previous=self._anchor_message(device, anchor) if anchor.prev_leaf(self._config()) else None,
        )
        if task.prev_leaf and task.previous is None:
            return Injected(task_id, False, "the anchor's message is unknown")
        try:
            proof = self.backend.prove(task)
        except ProverError as exc:  # witness_failed: the circuit's own rules refused the inputs
            return Injected(task_id, False, f"circuit: {str(exc).splitlines()[0]}")
        except (ProofstreamError, ValueError) as exc:
            return Injected(task_id, False, f"prover: {exc}")
        n = len(proof.public_signals)
        last = Anchor(proof.public_signals[n - 2], proof.public_signals[n - 1])
        outputs = list(proof.public_signals[: n - 11])
        try:
            result = self.node.core.router.route(task_id, outputs, last, proof.calldata, sender=self.node.roles.prover)
        except TransactionRevertedError as exc:
            return Injected(task_id, False, f"route: {exc.error_name}")
        self._injected_last[device.address] = records[-1]
        status = self.node.core.tasks.get_task(task_id).status
        return Injected(task_id, result.settled and status is TaskStatus.SETTLED, None)

    def _anchor_message(self, device: Attacker, anchor: Anchor) -> TaskRecord | None:
        """The message behind the device's anchor: its last injected one, or the last one the node batched."""
        injected = self._injected_last.get(device.address)
        if injected is not None:
            return injected
        last_task = self.node.store.previous_task(self.project, Address(device.address), Nonce(2**64 - 1))
        if last_task is None:
            return None
        (message,) = self.node.store.task_messages(last_task.id)[-1:]
        return record_of(message.message) if message_leaf(self.project, message.message) == anchor.leaf else None

    def _config(self) -> ConfigVersion:
        return self.node.core.projects.current_version(self.project)


def attack_world(template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackWorld]:
    """A running node (anvil, gateway, sequencer, Groth16 prover, submitter) for ``template``, as a fixture body."""
    data = tmp_path_factory.mktemp(f"attack-{template}")
    settings = Settings(data_dir=str(data), gateway=GatewaySettings(port=0), chain=ChainSettings(poll_seconds=0.2))
    with Node(settings, project=load_project(template_dir(template)), env={}) as node:
        world = AttackWorld(node, data)
        yield world
        world.http.close()
        world.backend.prover.close()
