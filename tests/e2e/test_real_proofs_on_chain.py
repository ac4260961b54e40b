"""The Router with real Groth16 proofs of the tracker-distance template's circuit, on anvil, through a running
node's deployment: what settles, and each forgery the issue lists, rejected by the contracts or the circuit."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from proofstream.chain.accounts import dev_account
from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.circuits.witness import calculate_witness
from proofstream.demo import demo_project
from proofstream.domain.anchor import Anchor
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.eip712 import Domain
from proofstream.domain.layout import batch_root, circuit_inputs
from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.types import Address, FieldElement, Nonce, ProjectId
from proofstream.errors import CircuitError, ProverError, TransactionRevertedError
from proofstream.node import Node
from proofstream.projects.circuit import ProjectCircuit
from proofstream.prover.groth16 import Groth16Backend, Groth16Proof
from proofstream.prover.warm import WarmProver, fast_prover_installed
from proofstream.sdk.device import DeviceKey
from proofstream.settings import GatewaySettings, Settings
from proofstream.templates.tracker_distance import logic

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    data = tmp_path_factory.mktemp("node")
    settings = Settings(data_dir=str(data), gateway=GatewaySettings(port=0))
    with Node(settings, project=demo_project(), env={}) as running:
        yield running


class World:
    """Registers devices and assigns tasks straight on chain, as the sequencer would, to forge around it."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.project = ProjectId(node.deployment.project)
        assert node.build.artifacts is not None, "the demo project is a Groth16 project"
        self.circuit = ProjectCircuit.of(node.project)
        self.backend = Groth16Backend(self.circuit, node.build.artifacts)
        self.prover = node.roles.prover
        self._devices: dict[str, str] = {}

    def device(self, seed: int) -> tuple[DeviceKey, str]:
        key, owner = DeviceKey.generate(), Account.create().address
        domain = Domain(self.node.client.chain_id, self.node.manifest.core.device_registry)
        self.node.core.devices.register_device(
            self.project, key.address, owner, key.sign_binding(domain, self.project, owner), sender=dev_account(0)
        )
        self._devices[owner] = key.address
        return key, owner

    def claimed(self, owner: str) -> int:
        """The owner's token balance once its device's accrued rewards are claimed (anyone may send the claim)."""
        self.node.dapp.claim([self._devices[owner]], sender=dev_account(0))
        return self.node.token.balance_of(owner)

    def fixes(self, seed: int, count: int, first_nonce: int = 0) -> list[TaskRecord]:
        """``count`` fixes of simulated tracker ``seed`` from the template's generator, nonces from
        ``first_nonce``."""
        readings = self.node.project.generator().readings(random.Random(seed), seed, count, 1_700_000_000)
        return [TaskRecord(first_nonce + i, timestamp, payload) for i, (timestamp, payload) in enumerate(readings)]

    def root(self, device: str, fixes: list[TaskRecord]) -> int:
        return batch_root(self.project, int(device, 16), fixes, self.circuit.schema_fields, self.circuit.depth)

    def assign(self, device: str, fixes: list[TaskRecord]) -> int:
        root = self.root(device, fixes)
        assignment = TaskCommitment(
            project=self.project,
            config=self.node.core.projects.current_version(self.project),
            device=Address(device),
            first_nonce=Nonce(fixes[0].nonce),
            last_nonce=Nonce(fixes[-1].nonce),
            root=FieldElement(root),
            prover=Address(self.prover.address),
        )
        result = self.node.core.tasks.assign_tasks([assignment], 100, sender=self.node.roles.sequencer)
        return result.task_ids[0]

    def prove(
        self,
        task_id: int,
        device: str,
        fixes: list[TaskRecord],
        previous: TaskRecord | None = None,
        backend: Groth16Backend | None = None,
    ) -> Groth16Proof:
        """Prove against the device's anchor as the chain holds it (``previous``: the anchor's message), with the
        snarkjs CLI unless another ``backend`` is given."""
        root = self.root(device, fixes)
        task = CircuitTask(
            self.project,
            task_id,
            int(device, 16),
            int(self.prover.address, 16),
            root,
            tuple(fixes),
            config=self.node.core.projects.current_version(self.project),
            anchor=self.node.core.tasks.anchor_of(self.project, device),
            previous=previous,
        )
        return (backend or self.backend).prove(task)

    def route(self, task_id: int, outputs: list[int], proof: Groth16Proof, sender: LocalAccount | None = None) -> None:
        n = len(proof.public_signals)
        last = Anchor(proof.public_signals[n - 2], proof.public_signals[n - 1])
        self.node.core.router.route(task_id, outputs, last, proof.calldata, sender=sender or self.prover)


@pytest.fixture(scope="module")
def world(node: Node) -> World:
    return World(node)


def _reverts_with(name: str) -> pytest.RaisesExc[TransactionRevertedError]:
    return pytest.raises(TransactionRevertedError, match=name)


def test_a_valid_proof_settles_and_mints_metres_times_rate(world: World) -> None:
    key, owner = world.device(1)
    fixes = world.fixes(1, 8)
    task = world.assign(key.address, fixes)
    proof = world.prove(task, key.address, fixes)
    metres = proof.public_signals[0]
    assert (metres,) == logic.outputs(fixes, None)
    assert metres > 0
    world.route(task, [metres], proof)
    assert world.node.core.tasks.get_task(task).status is TaskStatus.SETTLED
    assert world.claimed(owner) == metres * world.node.deployment.rate_per_unit


def test_a_tampered_output_is_rejected(world: World) -> None:
    key, owner = world.device(2)
    fixes = world.fixes(2, 5)
    task = world.assign(key.address, fixes)
    proof = world.prove(task, key.address, fixes)
    with _reverts_with("InvalidProof"):
        world.route(task, [proof.public_signals[0] + 1], proof)
    assert world.node.core.tasks.get_task(task).status is TaskStatus.ASSIGNED
    assert world.claimed(owner) == 0


def test_a_proof_for_another_batch_is_rejected(world: World) -> None:
    key_a, _ = world.device(3)
    key_b, owner_b = world.device(4)
    fixes_a, fixes_b = world.fixes(3, 6), world.fixes(4, 6)
    task_a = world.assign(key_a.address, fixes_a)
    task_b = world.assign(key_b.address, fixes_b)
    proof_a = world.prove(task_a, key_a.address, fixes_a)
    with _reverts_with("InvalidProof"):
        world.route(task_b, [proof_a.public_signals[0]], proof_a)
    assert world.claimed(owner_b) == 0


def test_a_task_routed_a_second_time_is_rejected(world: World) -> None:
    key, owner = world.device(5)
    fixes = world.fixes(5, 4)
    task = world.assign(key.address, fixes)
    proof = world.prove(task, key.address, fixes)
    world.route(task, [proof.public_signals[0]], proof)
    paid = world.claimed(owner)
    with _reverts_with("TaskNotAssigned"):
        world.route(task, [proof.public_signals[0]], proof)
    assert world.claimed(owner) == paid


def test_a_route_from_another_account_than_the_assigned_prover_is_rejected(world: World) -> None:
    key, _ = world.device(6)
    fixes = world.fixes(6, 4)
    task = world.assign(key.address, fixes)
    proof = world.prove(task, key.address, fixes)
    thief = dev_account(5)  # saw the proof in the mempool
    with _reverts_with("NotAssignedProver"):
        world.route(task, [proof.public_signals[0]], proof, sender=thief)
    assert world.node.core.tasks.get_task(task).status is TaskStatus.ASSIGNED


@pytest.mark.parametrize("forgery", ["reordered", "duplicated"])
def test_reordered_or_duplicated_fixes_cannot_be_proven(world: World, forgery: str, tmp_path: Path) -> None:
    key, _ = world.device(7)
    fixes = world.fixes(7, 6)
    a, b = fixes[2], fixes[3]
    if forgery == "reordered":  # zig-zag: swap two fixes (time and position) but keep nonces increasing
        fixes[2], fixes[3] = TaskRecord(a.nonce, b.timestamp, b.payload), TaskRecord(b.nonce, a.timestamp, a.payload)
    else:  # the same fix counted twice under a fresh nonce
        fixes[3] = TaskRecord(b.nonce, a.timestamp, a.payload)
    with pytest.raises(ProverError) as caught:
        world.prove(123, key.address, fixes)
    assert caught.value.code == "invalid_task"
    # A prover that skips the reference check gets no further: the circuit has no witness for the batch.
    task = CircuitTask(world.project, 123, int(key.address, 16), 1, world.root(key.address, fixes), tuple(fixes))
    artifacts = world.node.build.artifacts
    assert artifacts is not None
    with pytest.raises(CircuitError, match="Assert Failed"):
        calculate_witness(
            artifacts, circuit_inputs(task, world.circuit.schema_fields, world.circuit.depth), tmp_path / "w.wtns"
        )


def test_one_message_cannot_be_counted_in_two_tasks(world: World) -> None:
    key, _ = world.device(8)
    fixes = world.fixes(8, 8)
    world.assign(key.address, fixes[:5])
    with _reverts_with("NonceAlreadyAssigned"):
        world.assign(key.address, fixes[4:])  # nonce 4 is already in the first task
    world.assign(key.address, fixes[5:])  # the rest, after it, is fine


@pytest.mark.skipif(not fast_prover_installed(), reason="the fastprove extra (groth16py) is not installed")
def test_a_proof_from_the_fast_prover_settles_through_the_exported_verifier(world: World) -> None:
    """The fast path's calldata is what the Router takes: the snarkjs-exported verifier accepts it on chain."""
    artifacts = world.node.build.artifacts
    assert artifacts is not None
    fast = Groth16Backend(world.circuit, artifacts, WarmProver(artifacts))
    key, owner = world.device(9)
    fixes = world.fixes(9, 8)
    task = world.assign(key.address, fixes)
    try:
        proof = world.prove(task, key.address, fixes, backend=fast)
    finally:
        fast.close()
    with _reverts_with("InvalidProof"):
        world.route(task, [proof.public_signals[0] + 1], proof)
    world.route(task, [proof.public_signals[0]], proof)
    assert world.node.core.tasks.get_task(task).status is TaskStatus.SETTLED
    assert world.claimed(owner) == proof.public_signals[0] * world.node.deployment.rate_per_unit
