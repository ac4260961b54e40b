"""A project whose circuit checks the device signatures, end to end on anvil with real Groth16 proofs: BabyJubJub
devices registered on chain, messages over HTTP, the indexer's copy of each key, proofs of signed tasks that the
Router verifies against the key the registry holds, rewards minted; and a deactivated device's task, proven, is
refused at route time, as is a proven task of a secp256k1 device (the wrong kind of device for a signed project)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from proofstream.chain.accounts import dev_account
from proofstream.chain.contracts.registries import sign_device_binding
from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.circuits.signed import sign_task
from proofstream.domain import bjj_messages
from proofstream.domain.anchor import Anchor
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.eddsa import EddsaKey
from proofstream.domain.eip712 import Domain
from proofstream.domain.layout import batch_root
from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.types import Address, FieldElement, Nonce, ProjectId
from proofstream.errors import TransactionRevertedError
from proofstream.node import Node
from proofstream.projects.circuit import ProjectCircuit
from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.prover.groth16 import Groth16Backend
from proofstream.settings import GatewaySettings, Settings
from proofstream.simulation import run_project

pytestmark = [pytest.mark.slow, pytest.mark.chain]


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> ProjectSpec:
    return load_project(
        scaffold("signed-tracker-distance", "tracker-distance", tmp_path_factory.mktemp("e2e"), signatures="circuit")
    )


def test_a_signed_project_runs_end_to_end_and_every_task_settles(spec: ProjectSpec, tmp_path: Path) -> None:
    summary = run_project(spec, devices=2, messages=6, data_dir=tmp_path / "run")
    assert summary.tasks and all(t.status == "settled" for t in summary.tasks), summary.tasks
    for device in summary.devices:
        assert device.accepted == 6
        assert device.proven == device.reference
        assert device.tokens_wei == device.proven * summary.rate_per_unit_wei
    assert any(d.proven > 0 for d in summary.devices)
    for task in summary.tasks:
        print(
            f"signed task: {task.messages} message(s), {task.constraints} constraints, proven in "
            f"{task.prove_seconds} s, route gas {task.route_gas}"
        )


@pytest.fixture(scope="module")
def node(spec: ProjectSpec, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    settings = Settings(data_dir=str(tmp_path_factory.mktemp("node")), gateway=GatewaySettings(port=0))
    with Node(settings, project=spec, env={}) as running:
        yield running


def _device(node: Node, seed: int) -> tuple[EddsaKey, Address, str]:
    key, owner = EddsaKey(bytes([seed]) * 32), Account.create().address
    project = node.deployment.project
    domain = Domain(node.client.chain_id, node.manifest.core.device_registry)
    binding = bjj_messages.sign_binding(key, domain, project, owner)
    r8x, r8y, s = (int.from_bytes(binding[i : i + 32], "big") for i in (0, 32, 64))
    node.core.devices.register_bjj_device(project, *key.public, owner, r8x, r8y, s, sender=dev_account(0))
    return key, bjj_messages.device_id(key.public), owner


def _proven_task(node: Node, key: EddsaKey, device: Address, seed: int) -> tuple[int, list[int], Anchor, bytes]:
    """Assign a 4-message task of ``device`` on chain (as the sequencer would) and prove it, signed by ``key``."""
    project = ProjectId(node.deployment.project)
    circuit = ProjectCircuit.of(node.project)
    readings = node.project.generator().readings(random.Random(seed), seed, 4, 1_700_000_000)
    records = tuple(TaskRecord(i, t, p) for i, (t, p) in enumerate(readings))
    root = batch_root(project, int(device, 16), records, circuit.schema_fields, circuit.depth)
    config = node.core.projects.current_version(project)
    prover = node.roles.prover
    assignment = TaskCommitment(
        project=project,
        config=config,
        device=device,
        first_nonce=Nonce(0),
        last_nonce=Nonce(records[-1].nonce),
        root=FieldElement(root),
        prover=Address(prover.address),
    )
    task_id = node.core.tasks.assign_tasks([assignment], 100, sender=node.roles.sequencer).task_ids[0]
    task = CircuitTask(
        project,
        task_id,
        int(device, 16),
        int(prover.address, 16),
        root,
        records,
        config=config,
        anchor=node.core.tasks.anchor_of(project, device),
    )
    registry = int(node.manifest.core.device_registry, 16)
    signed = sign_task(task, key, node.client.chain_id, registry, circuit.schema_fields)
    assert node.build.artifacts is not None
    proof = Groth16Backend(circuit, node.build.artifacts).prove(signed)
    n_out = len(node.project.outputs)
    signals = proof.public_signals
    assert signals[-5:] == (node.client.chain_id, registry, config, *key.public)
    return task_id, list(signals[:n_out]), Anchor(signals[n_out + 9], signals[n_out + 10]), proof.calldata


def test_the_router_settles_a_signed_task_and_refuses_one_of_a_deactivated_device(node: Node) -> None:
    key, device, owner = _device(node, 41)
    task_id, outputs, last, proof = _proven_task(node, key, device, 41)
    result = node.core.router.route(task_id, outputs, last, proof, sender=node.roles.prover)
    assert result.settled and node.core.tasks.get_task(task_id).status is TaskStatus.SETTLED
    assert node.token.balance_of(owner) == outputs[0] * node.deployment.rate_per_unit
    print(f"route of a signed 4-message task: {result.receipt.gas_used} gas")

    key, device, owner = _device(node, 42)
    task_id, outputs, last, proof = _proven_task(node, key, device, 42)
    node.core.devices.deactivate_device(node.deployment.project, device, sender=dev_account(0))
    with pytest.raises(TransactionRevertedError, match="DeviceNotActive"):
        node.core.router.route(task_id, outputs, last, proof, sender=node.roles.prover)
    assert node.core.tasks.get_task(task_id).status is TaskStatus.ASSIGNED
    assert node.token.balance_of(owner) == 0


def test_a_proof_against_another_key_than_the_registered_one_does_not_verify(node: Node) -> None:
    # Device 43 is registered with key 43, but its task's messages were signed by key 44 (a witness exists for
    # key 44 as a public input): the Router supplies key 43, so the proof is refused.
    _, device, owner = _device(node, 43)
    task_id, outputs, last, proof = _proven_task(node, EddsaKey(bytes([44]) * 32), device, 43)
    with pytest.raises(TransactionRevertedError, match="InvalidProof"):
        node.core.router.route(task_id, outputs, last, proof, sender=node.roles.prover)
    assert node.token.balance_of(owner) == 0


def test_a_secp256k1_devices_task_cannot_settle_in_a_signed_project(node: Node) -> None:
    """The operator registers a secp256k1 device (its binding is real) and proves its task with a BabyJubJub key
    of its own choosing: the registry holds no BabyJubJub key for the device, so the Router hands the signed
    verifier no signature inputs and the route reverts."""
    device, owner = Account.create(), Account.create().address
    project = node.deployment.project
    binding = sign_device_binding(device, node.client.chain_id, node.manifest.core.device_registry, project, owner)
    node.core.devices.register_device(project, device.address, owner, binding, sender=dev_account(0))
    assert node.core.devices.is_active(project, device.address)
    assert node.core.devices.bjj_key_of(project, device.address) is None
    task_id, outputs, last, proof = _proven_task(node, EddsaKey(bytes([45]) * 32), Address(device.address), 45)
    with pytest.raises(TransactionRevertedError, match="PublicInputCount"):
        node.core.router.route(task_id, outputs, last, proof, sender=node.roles.prover)
    assert node.core.tasks.get_task(task_id).status is TaskStatus.ASSIGNED
    assert node.token.balance_of(owner) == 0
