"""Receipts against a real TaskManager on anvil: a settled task's receipt verifies (library and CLI), and the chain
check catches what the receipt alone cannot (not settled, another root, another chain or TaskManager, a
TaskManager that is not the signed-for deployment's, a transaction that did not settle the task)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from chain_world import DEVICE_KEY, LAST, World
from typer.testing import CliRunner

from proofstream.chain import receipts as chain_receipts
from proofstream.chain.contracts.tasks import TaskManager
from proofstream.chain.receipts import check_task, verify_receipt_on_chain
from proofstream.cli.main import app
from proofstream.domain.anchor import Anchor
from proofstream.domain.eip712 import Domain
from proofstream.domain.merkle import build_tree
from proofstream.domain.messages import DeviceMessage, check_signature, message_id, message_leaf, parse_body
from proofstream.domain.receipts import Receipt, build_receipt
from proofstream.domain.schema import Field, Schema
from proofstream.domain.tasks import task_id
from proofstream.domain.types import Address, FieldElement, Nonce, TaskId
from proofstream.errors import ReceiptError
from proofstream.sdk.device import DeviceKey

pytestmark = pytest.mark.chain

SCHEMA = Schema(payload=(Field("lat", "uint32"), Field("lon", "uint32")))
PROOF = b"\x42" * 256
"""What the MockVerifier is handed as a proof; it accepts any."""


def signed(world: World, nonce: int) -> DeviceMessage:
    domain = Domain(world.client.chain_id, world.core_deployment.device_registry)
    body = DeviceKey.from_hex(DEVICE_KEY).sign_message(
        SCHEMA, domain, world.project_id, 1, nonce, 1_764_300_000 + nonce, {"lat": 10 + nonce, "lon": 20}
    )
    return parse_body(json.dumps(body).encode(), lambda _p, _c: SCHEMA)


def task_receipt(world: World, first: int, *, settle: bool, slot: int = 1, last: Anchor = LAST) -> Receipt:
    """Assign a task of three real signed messages (and route it, leaving anchor ``last``, when ``settle``); the
    receipt of one of them."""
    domain = Domain(world.client.chain_id, world.core_deployment.device_registry)
    messages = [signed(world, first + i) for i in range(3)]
    tree = build_tree([message_leaf(world.project_id, m) for m in messages], 3)
    record = world.assign(first, first + 2, root=FieldElement(tree.root))
    tx_hash = None
    if settle:
        routed = world.core.router.route(record.task_id, [1], last, PROOF, sender=world.prover)
        assert routed.settled
        tx_hash = routed.receipt.tx_hash
    mine = messages[slot]
    return build_receipt(
        message_id_=message_id(check_signature(mine, domain)),
        message=mine,
        domain=domain,
        leaf_index=slot,
        path=tree.inclusion_proof(slot).siblings,
        task=record.task_id,
        first_nonce=first,
        last_nonce=first + 2,
        root=tree.root,
        task_manager=world.core_deployment.task_manager,
        tx_hash=tx_hash,
    )


def code_of(receipt: Receipt, world: World) -> str:
    with pytest.raises(ReceiptError) as caught:
        check_task(receipt, world.core.tasks, world.client, world.compilation)
    return caught.value.code


def test_a_settled_tasks_receipt_verifies(world: World) -> None:
    receipt = task_receipt(world, 0, settle=True)
    verdict = verify_receipt_on_chain(receipt, world.net.rpc_url, compilation=world.compilation)
    assert verdict.task.root == receipt.root
    assert verdict.task.device == receipt.message.device


def test_the_cli_prints_ok_or_the_failure(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain_receipts, "compile_core", lambda: world.compilation)
    settled = task_receipt(world, 0, settle=True)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(settled.to_json()))
    result = CliRunner().invoke(app, ["receipt", "verify", str(good), "--rpc", world.net.rpc_url])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK message ")

    pending = tmp_path / "pending.json"
    pending.write_text(json.dumps(task_receipt(world, 3, settle=False).to_json()))
    result = CliRunner().invoke(app, ["receipt", "verify", str(pending), "--rpc", world.net.rpc_url])
    assert result.exit_code == 1
    assert "not_settled" in result.output

    tampered = settled.to_json()
    tampered["path"][0] = str(int(tampered["path"][0]) + 1)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tampered))
    result = CliRunner().invoke(app, ["receipt", "verify", str(bad), "--rpc", world.net.rpc_url])
    assert result.exit_code == 1
    assert "root_mismatch" in result.output


def test_the_chain_check_catches_what_the_receipt_alone_cannot(world: World) -> None:
    settled = task_receipt(world, 0, settle=True)
    check_task(settled, world.core.tasks, world.client, world.compilation)
    assert code_of(task_receipt(world, 3, settle=False), world) == "not_settled"
    assert code_of(replace(settled, root=settled.root + 1), world) == "root_mismatch"
    assert code_of(replace(settled, task_id=TaskId(settled.task_id + 1)), world) == "unknown_task"
    assert code_of(replace(settled, chain_id=1), world) == "wrong_chain"
    assert code_of(replace(settled, last_nonce=Nonce(settled.last_nonce + 1)), world) == "nonce_out_of_range"
    assert code_of(replace(settled, tx_hash="0x" + "00" * 32), world) == "tx_not_found"
    elsewhere = TaskManager.at(world.client, world.core_deployment.router, world.compilation)
    with pytest.raises(ReceiptError) as caught:
        check_task(settled, elsewhere, world.client, world.compilation)
    assert caught.value.code == "task_manager_mismatch"


def on_chain_code(receipt: Receipt, world: World) -> tuple[str, str]:
    with pytest.raises(ReceiptError) as caught:
        verify_receipt_on_chain(receipt, world.net.rpc_url, compilation=world.compilation)
    return caught.value.code, str(caught.value)


def test_a_fake_task_manager_that_claims_the_task_settled_is_refused(world: World) -> None:
    """A gateway names its own contract, which answers getTask with a settled record of the receipt's root and
    names the real Router: the receipt alone is consistent with it, the chain check is not."""
    honest = task_receipt(world, 0, settle=False)
    artifact = world.compilation.artifact("FakeTaskManager")
    deployed = world.client.deploy(
        artifact, world.core_deployment.router, world.core_deployment.project_registry, sender=world.other
    ).contract_address
    assert deployed is not None
    message = honest.message
    fake_id = task_id(world.client.chain_id, deployed, message.project, message.device, honest.first_nonce)
    record = (message.device, message.project, message.config, world.prover.address, honest.first_nonce, 2,
              honest.last_nonce, 10**6, 0, False, honest.root)  # fmt: skip
    world.client.send(world.client.contract(deployed, artifact.abi).functions.setTask(fake_id, record))
    forged = replace(honest, task_manager=Address(deployed), task_id=TaskId(fake_id))
    assert TaskManager.at(world.client, deployed, world.compilation).get_task(fake_id).root == honest.root
    code, text = on_chain_code(forged, world)
    assert code == "code_mismatch"
    assert f"the code at {deployed} is not proofstream's TaskManager" in text


def test_a_real_task_manager_of_another_deployment_is_refused(world: World) -> None:
    """Real TaskManager code whose Router does not name it back: not the deployment the device signed for."""
    deployed = world.client.deploy(
        world.compilation.artifact("TaskManager"),
        world.core_deployment.project_registry,
        world.core_deployment.prover_registry,
        sender=world.other,
    ).contract_address
    assert deployed is not None
    other = TaskManager.at(world.client, deployed, world.compilation)
    other.set_router(world.core_deployment.router, sender=world.other)
    honest = task_receipt(world, 0, settle=True)
    message = honest.message
    elsewhere = replace(
        honest,
        task_manager=other.address,
        task_id=task_id(world.client.chain_id, deployed, message.project, message.device, honest.first_nonce),
    )
    code, text = on_chain_code(elsewhere, world)
    assert code == "deployment_mismatch"
    assert f"'s taskManager is {world.core_deployment.task_manager}, not {other.address}" in text


def test_a_tx_hash_that_did_not_settle_the_task_is_refused(world: World) -> None:
    settled = task_receipt(world, 0, settle=True)
    another = task_receipt(world, 3, settle=True, last=replace(LAST, timestamp=LAST.timestamp + 3))
    assert code_of(replace(settled, tx_hash=another.tx_hash), world) == "not_settling_tx"
    assignment = world.core.tasks.assign_tasks([world.assignment(6, 8)], 100, sender=world.sequencer)
    assert code_of(replace(settled, tx_hash=assignment.receipt.tx_hash), world) == "not_settling_tx"
