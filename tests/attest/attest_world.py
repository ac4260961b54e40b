"""Shared pieces of the attest tests: a tiny project logic, signed device messages, a task in a real store."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from proofstream.chain.attest import AttestVerifier
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.core import CoreContracts
from proofstream.chain.contracts.rewards import RewardDApp, RewardToken
from proofstream.chain.contracts.tasks import TaskRecord
from proofstream.chain.deploy import CoreDeployment, ProjectDeployment
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import CompilationResult
from proofstream.domain.attestation import Attestation, attest_domain, sign_digest
from proofstream.domain.eip712 import Domain
from proofstream.domain.merkle import build_tree, leaf_hash
from proofstream.domain.messages import DeviceMessage, build_message, digest, message_id, parse_body, payload_fields
from proofstream.domain.schema import Field, Schema
from proofstream.domain.tasks import task_id
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, ProjectId
from proofstream.sdk.device import DeviceKey, P256DeviceKey
from proofstream.store.ports import ProjectConfig, Store, TaskRow, TaskUpdate

RATE = 10**15
CONFIG_HASH = b"\x5a" * 32
DEVICE_KEY = "0x" + "d2" * 32
DEVICE_OWNER = Address("0x" + "0d" * 20)
"""Whom a P-256 test device is registered to in the store: the attester never reads it."""

SigningKey = DeviceKey | P256DeviceKey
"""A device key whose messages carry an EIP-712 signature: secp256k1 (recovered) or P-256 (under its key)."""
QUORUM = 2
CAPACITY = 8
DEPTH = 3
START = 1_764_300_000
TRACKER_SCHEMA = Schema(payload=(Field("lat", "uint32"), Field("lon", "uint32")))
"""The payload the attest test project's messages carry (the tracker-distance template's)."""

LOGIC = '''
"""Test logic: metres = sum of |lat steps| (from the anchor's fix when opened); refuses a latitude of 0."""
from proofstream.domain.circuit_task import TaskRecord

OUTPUTS = ("metres",)


def check(records):
    for r in records:
        if r.payload["lat"] == 0:
            raise ValueError(f"nonce {r.nonce}: latitude 0 is a broken fix")


def outputs(records, previous=None):
    fixes = ([previous] if previous is not None else []) + list(records)
    return (sum(abs(b.payload["lat"] - a.payload["lat"]) for a, b in zip(fixes, fixes[1:])),)
'''


def write_logic(folder: Path, text: str = LOGIC, name: str = "logic.py") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def expected_metres(lats: Sequence[int]) -> int:
    return sum(abs(b - a) for a, b in itertools.pairwise(lats))


def signed_message(
    key: SigningKey, domain: Domain, project: int, nonce: int, lat: int, *, config: int = 1
) -> tuple[DeviceMessage, MessageId]:
    body = key.sign_message(TRACKER_SCHEMA, domain, project, config, nonce, START + nonce, {"lat": lat, "lon": 7})
    message = parse_body(json.dumps(body).encode(), lambda _p, _c: TRACKER_SCHEMA)
    return message, message_id(digest(message, domain))


def forged_message(
    device: SigningKey, signer: SigningKey, domain: Domain, project: int, nonce: int, lat: int
) -> tuple[DeviceMessage, MessageId]:
    """A message that claims ``device`` but is signed by ``signer``: what a compromised gateway could store."""
    unsigned = build_message(TRACKER_SCHEMA, project, 1, device.address, nonce, START + nonce, {"lat": lat, "lon": 7})
    signature = signer.sign_digest(digest(unsigned, domain))
    message = build_message(
        TRACKER_SCHEMA, project, 1, device.address, nonce, START + nonce, {"lat": lat, "lon": 7}, signature
    )
    return message, message_id(digest(message, domain))


def root_of(project: int, messages: Sequence[DeviceMessage]) -> int:
    leaves = [leaf_hash(project, int(m.device, 16), m.nonce, m.timestamp, payload_fields(m)) for m in messages]
    return build_tree(leaves, DEPTH).root


@dataclass(frozen=True)
class StoredTask:
    row: TaskRow
    messages: tuple[DeviceMessage, ...]


def store_task(
    store: Store,
    *,
    chain_id: int,
    task_manager: str,
    project: int,
    domain: Domain,
    device: SigningKey,
    lats: Sequence[int],
    first_nonce: int = 0,
    forge_at: int | None = None,
    forger: SigningKey | None = None,
    assign_tx: str | None = "0x" + "aa" * 32,
) -> StoredTask:
    """Put the project config (if new), signed messages and their task into ``store``, as the gateway and the
    sequencer would (a P-256 device registered with its key, as the indexer writes it); ``forge_at`` replaces that
    message's signature with ``forger``'s."""
    if store.get_project(ProjectId(project), ConfigVersion(1)) is None:
        store.upsert_project(ProjectConfig(ProjectId(project), ConfigVersion(1), TRACKER_SCHEMA, domain))
    if isinstance(device, P256DeviceKey):
        store.upsert_device(ProjectId(project), device.address, DEVICE_OWNER, key=device.public_key)
    messages, ids = [], []
    for i, lat in enumerate(lats):
        nonce = first_nonce + i
        if forge_at == i:
            assert forger is not None
            message, mid = forged_message(device, forger, domain, project, nonce, lat)
        else:
            message, mid = signed_message(device, domain, project, nonce, lat)
        store.put_message(message, mid, 1.0)
        messages.append(message)
        ids.append(mid)
    row = TaskRow(
        id=task_id(chain_id, task_manager, project, device.address, first_nonce),
        project=ProjectId(project),
        config=ConfigVersion(1),
        device=device.address,
        first_nonce=Nonce(first_nonce),
        last_nonce=Nonce(first_nonce + len(lats) - 1),
        root=root_of(project, messages),
        created_at=1.0,
    )
    store.create_task(row, ids)
    if assign_tx is not None:
        row = store.update_task(row.id, change=TaskUpdate(assign_tx=assign_tx))
    return StoredTask(row, tuple(messages))


@dataclass(frozen=True)
class AttestWorld:
    net: Localnet
    compilation: CompilationResult
    client: ChainClient
    core: CoreContracts
    core_deployment: CoreDeployment
    project: ProjectDeployment
    verifier: AttestVerifier
    token: RewardToken
    dapp: RewardDApp
    owner: LocalAccount
    sequencer: LocalAccount
    prover: LocalAccount
    device_owner: LocalAccount
    device: DeviceKey
    attesters: tuple[LocalAccount, ...]
    """In the set: 6, 7 (registered) and 8 (not registered)."""
    outsider: LocalAccount
    """Dev account 9: a registered prover that is not in the set."""

    @property
    def domain(self) -> Domain:
        return attest_domain(self.client.chain_id, self.core_deployment.router)

    @property
    def device_domain(self) -> Domain:
        return Domain(self.client.chain_id, self.core_deployment.device_registry)

    def assign(self, first: int = 0, last: int = 7, root: int = 0x1234, project: int | None = None) -> TaskRecord:
        """Assign one task as the sequencer (built from TaskManager's ABI, whatever fields TaskInput has)."""
        abi = self.compilation.artifact("TaskManager").abi
        (function,) = [f for f in abi if f.get("name") == "assignTasks"]
        fields: dict[str, Any] = {
            "project": self.project.project if project is None else project,
            "configVersion": 1,
            "device": self.device.address,
            "firstNonce": first,
            "lastNonce": last,
            "root": root,
            "prover": self.prover.address,
        }
        task_input = tuple(fields[c["name"]] for c in function["inputs"][0]["components"])
        contract = self.client.contract(self.core_deployment.task_manager, abi, "TaskManager")
        receipt = self.client.send(contract.functions.assignTasks([task_input], 100), sender=self.sequencer)
        (log,) = [dict(contract.events.TaskAssigned().process_log(x)) for x in receipt.logs]
        return self.core.tasks.get_task(int(log["args"]["taskId"]))

    def sign(self, signer: LocalAccount, attestation: Attestation, domain: Domain | None = None) -> bytes:
        return sign_digest(bytes(signer.key), attestation.digest(domain or self.domain))

    def proof(self, signers: Sequence[LocalAccount], attestation: Attestation) -> bytes:
        """Signatures of ``signers`` in increasing address order."""
        ordered = sorted(signers, key=lambda a: int(a.address, 16))
        return b"".join(self.sign(s, attestation) for s in ordered)


__all__ = [
    "CAPACITY",
    "CONFIG_HASH",
    "DEPTH",
    "LOGIC",
    "QUORUM",
    "RATE",
    "START",
    "TRACKER_SCHEMA",
    "Address",
    "AttestWorld",
    "SigningKey",
    "StoredTask",
    "expected_metres",
    "forged_message",
    "root_of",
    "signed_message",
    "store_task",
    "write_logic",
]
