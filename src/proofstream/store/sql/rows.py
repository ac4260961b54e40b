"""How the store lays domain values out in its columns, and reads them back (0001_init.sql says why:
uint64 as zero-padded text, addresses lower-case, field elements as decimal text)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from eth_utils.address import to_checksum_address

from proofstream.domain.eip712 import Domain
from proofstream.domain.messages import parse_body
from proofstream.domain.schema import Schema
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, ProjectId, TaskId
from proofstream.errors import MessageError, StoreError
from proofstream.store.ports import (
    RECEIVED,
    MessageStatus,
    ProjectConfig,
    StoredAttestation,
    StoredMessage,
    StoredProof,
    TaskRow,
)

PROJECT_COLUMNS = "project, config, schema_json, domain_name, domain_version, chain_id, verifying_contract"
MESSAGE_COLUMNS = (
    "m.id, m.body, m.received_at, m.task_id, m.leaf_index, p.schema_json, t.status, t.reason, t.root, t.route_tx, "
    "m.envelope"
)
MESSAGE_FROM = (
    "FROM messages m JOIN projects p ON p.project = m.project AND p.config = m.config "
    "LEFT JOIN tasks t ON t.id = m.task_id"
)
"""A message with its project's schema (to parse it) and its task's status (which is the message's)."""
ATTESTATION_COLUMNS = "task_id, attester, result, outputs, signature, created_at"
TASK_COLUMNS = (
    "id, project, config, device, first_nonce, last_nonce, root, created_at, status, reason, outputs, proof, "
    "assign_tx, route_tx, gas_assign, gas_route, constraints, prove_seconds, updated_at"
)


def u64(value: int) -> str:
    """uint64 as a 20-digit zero-padded decimal: sorts like the number, needs no unsigned 64-bit column."""
    return f"{value:020d}"


def addr(address: str) -> str:
    return address.lower()


@lru_cache(maxsize=256)
def _schema(schema_json: str) -> Schema:
    return Schema.from_json(json.loads(schema_json))


def project_config(row: Sequence[Any]) -> ProjectConfig:
    project, config, schema_json, name, version, chain_id, contract = row
    return ProjectConfig(
        project=ProjectId(int(project)),
        config=ConfigVersion(config),
        schema=_schema(schema_json),
        domain=Domain(chain_id=int(chain_id), verifying_contract=Address(contract), name=name, version=version),
    )


def stored_message(row: Sequence[Any]) -> StoredMessage:
    message_id, body, received_at, task_id, leaf_index, schema_json, task_status, reason, root, route_tx, envelope = row
    schema = _schema(schema_json)
    try:
        message = parse_body(body.encode(), lambda _project, _config: schema)
    except MessageError as exc:  # only a corrupted row can get here: it was canonical when written
        raise StoreError(f"stored message {message_id} does not parse: {exc}") from exc
    status: MessageStatus = RECEIVED if task_status is None else TaskStatus(task_status)
    return StoredMessage(
        id=MessageId(message_id),
        message=message,
        received_at=received_at,
        status=status,
        task_id=None if task_id is None else TaskId(int(task_id)),
        leaf_index=leaf_index,
        root=None if root is None else int(root),
        reason=reason,
        tx_hash=route_tx,
        envelope=envelope,
    )


def attestation_values(a: StoredAttestation) -> tuple[Any, ...]:
    return (
        str(a.task_id),
        addr(a.attester),
        "0x" + a.result.hex(),
        json.dumps([str(x) for x in a.outputs]),
        "0x" + a.signature.hex(),
        a.created_at,
    )


def attestation_from_row(row: Sequence[Any]) -> StoredAttestation:
    task_id, attester, result, outputs, signature, created_at = row
    return StoredAttestation(
        task_id=TaskId(int(task_id)),
        attester=Address(to_checksum_address(attester)),
        result=bytes.fromhex(result[2:]),
        outputs=tuple(int(x) for x in json.loads(outputs)),
        signature=bytes.fromhex(signature[2:]),
        created_at=created_at,
    )


def task_values(task: TaskRow) -> tuple[Any, ...]:
    return (
        str(task.id),
        u64(task.project),
        task.config,
        addr(task.device),
        u64(task.first_nonce),
        u64(task.last_nonce),
        str(task.root),
        task.created_at,
        TaskStatus(task.status).value,
        task.reason,
        *proof_values(task.proof),
        task.assign_tx,
        task.route_tx,
        task.gas_assign,
        task.gas_route,
        task.constraints,
        task.prove_seconds,
        task.created_at if task.updated_at is None else task.updated_at,
    )


def task_row(row: Sequence[Any]) -> TaskRow:
    (
        task_id,
        project,
        config,
        device,
        first_nonce,
        last_nonce,
        root,
        created_at,
        status,
        reason,
        outputs,
        proof,
        assign_tx,
        route_tx,
        gas_assign,
        gas_route,
        constraints,
        prove_seconds,
        updated_at,
    ) = row
    return TaskRow(
        id=TaskId(int(task_id)),
        project=ProjectId(int(project)),
        config=ConfigVersion(config),
        device=Address(to_checksum_address(device)),
        first_nonce=Nonce(int(first_nonce)),
        last_nonce=Nonce(int(last_nonce)),
        root=int(root),
        created_at=created_at,
        status=TaskStatus(status),
        reason=reason,
        proof=stored_proof(TaskId(int(task_id)), outputs, proof),
        assign_tx=assign_tx,
        route_tx=route_tx,
        gas_assign=gas_assign,
        gas_route=gas_route,
        constraints=constraints,
        prove_seconds=prove_seconds,
        updated_at=updated_at,
    )


def proof_values(proof: StoredProof | None) -> tuple[str | None, str | None]:
    """The ``outputs`` and ``proof`` columns. The outputs had their own column before the proof was typed; they
    keep it, so the proof column holds what it always held and a store written earlier reads back unchanged."""
    if proof is None:
        return None, None
    data = proof.to_json()
    outputs = data.pop("outputs")
    return json.dumps(outputs), json.dumps(data)


def stored_proof(task_id: TaskId, outputs: str | None, proof: str | None) -> StoredProof | None:
    if proof is None:
        return None
    try:
        return StoredProof.from_json({**json.loads(proof), "outputs": json.loads(outputs or "[]")})
    except (KeyError, TypeError, ValueError) as exc:  # only a corrupted row can get here
        raise StoreError(f"the stored proof of task {task_id} does not parse: {exc!r}") from exc
