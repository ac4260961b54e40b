"""Typed wrappers over proofstream's contracts: plain Python values in, frozen dataclasses out.

One class per contract. Reads return Python values (addresses checksummed, ``None`` for "not set"); writes
return a :class:`~proofstream.chain.client.Receipt` (plus what the transaction produced, e.g. task ids); event
readers return dataclasses for the indexer. Also the two encodings the chain checks that Python must reproduce
exactly: the task id and the device-binding EIP-712 signature.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self, cast

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3.contract import Contract
from web3.contract.contract import ContractEvent
from web3.exceptions import MismatchedABI

from proofstream.chain.client import ChainClient, Receipt
from proofstream.chain.solc import CompilationResult
from proofstream.domain.anchor import Anchor
from proofstream.domain.types import Address, ConfigVersion, FieldElement, Nonce, ProjectId, TaskId
from proofstream.ports import Commitment

DAPP_GAS = 500_000
"""Router.DAPP_GAS: the gas every IDapp.process call gets, exactly (the route reverts when it cannot forward it)."""

ROUTE_GAS = 1_600_000
"""Gas limit of a route() transaction. Explicit, never estimated: a snarkjs verifier that runs short of gas in
its pairing check returns false instead of reverting. Groth16 verification with 16 public inputs, the settlement
and the anchor take about 450k, the DApp's budget DAPP_GAS * 64/63 and the Router after it 60k: this leaves a
margin of some 580k."""

EIP712_NAME = "proofstream"
EIP712_VERSION = "1"
"""The EIP-712 domain name and version shared by device bindings and device messages (docs/protocol.md)."""


class TaskStatus(enum.IntEnum):
    """TaskManager.Status, same numbering."""

    NONE = 0
    ASSIGNED = 1
    SETTLED = 2
    FAILED = 3
    EXPIRED = 4
    """Its deadline passed unrouted and someone called ``expire``: the sequencer may reassign it."""


TaskAssignment = Commitment
"""One task to assign (TaskManager.TaskInput): the pipeline's Commitment, field for field."""


@dataclass(frozen=True)
class TaskRecord:
    """A task as TaskManager stores it."""

    task_id: TaskId
    project: ProjectId
    config_version: ConfigVersion
    device: Address
    first_nonce: Nonce
    last_nonce: Nonce
    root: FieldElement
    prover: Address
    deadline: int
    """Last block number in which route() is accepted."""
    status: TaskStatus
    previous_first_nonce: Nonce | None = None
    """First nonce of the device's task assigned right before this one (None for its first task)."""


@dataclass(frozen=True)
class AssignResult:
    task_ids: tuple[TaskId, ...]
    """In the order the assignments were given."""
    receipt: Receipt


@dataclass(frozen=True)
class RouteResult:
    receipt: Receipt
    settled: bool
    """True when the DApp processed the result; False when it reverted and the task ended Failed."""
    failure_reason: bytes | None
    """The DApp's revert data when it failed."""


@dataclass(frozen=True)
class ProjectInfo:
    project: ProjectId
    owner: Address
    sequencer: Address
    dapp: Address
    current_version: ConfigVersion
    active: bool


@dataclass(frozen=True)
class EventPosition:
    """Where a log sits on chain: enough to order events and to undo them after a reorg."""

    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class TaskAssignedEvent:
    task_id: TaskId
    project: ProjectId
    device: Address
    prover: Address
    root: FieldElement
    first_nonce: Nonce
    last_nonce: Nonce
    config_version: ConfigVersion
    deadline: int
    position: EventPosition


@dataclass(frozen=True)
class VersionAddedEvent:
    project: ProjectId
    version: ConfigVersion
    config_hash: bytes
    uri: str
    verifier: Address
    position: EventPosition


@dataclass(frozen=True)
class VersionRetiredEvent:
    project: ProjectId
    version: ConfigVersion
    at_block: int
    """First block in which the version is no longer live; later than the event's block while a grace period
    runs."""
    position: EventPosition


@dataclass(frozen=True)
class TaskSettledEvent:
    task_id: TaskId
    prover: Address
    position: EventPosition


@dataclass(frozen=True)
class TaskFailedEvent:
    task_id: TaskId
    reason: bytes
    position: EventPosition


@dataclass(frozen=True)
class DeviceRegisteredEvent:
    project: ProjectId
    device: Address
    owner: Address
    position: EventPosition


@dataclass(frozen=True)
class BjjKeyRegisteredEvent:
    """A device with a BabyJubJub key was registered (a DeviceRegisteredEvent comes with it)."""

    project: ProjectId
    device: Address
    ax: FieldElement
    ay: FieldElement
    position: EventPosition


@dataclass(frozen=True)
class DeviceDeactivatedEvent:
    project: ProjectId
    device: Address
    position: EventPosition


@dataclass(frozen=True)
class RewardedEvent:
    project: ProjectId
    task_id: TaskId
    device: Address
    owner: Address
    units: int
    amount: int
    position: EventPosition


# --- Encodings the chain checks -----------------------------------------------------------------------------


def device_binding_typed_data(
    chain_id: int, device_registry: str, project: int, device: str, owner: str
) -> dict[str, Any]:
    """EIP-712 typed data of DeviceBinding(uint64 project,address device,address owner), as eth_account takes
    it."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "DeviceBinding": [
                {"name": "project", "type": "uint64"},
                {"name": "device", "type": "address"},
                {"name": "owner", "type": "address"},
            ],
        },
        "primaryType": "DeviceBinding",
        "domain": {
            "name": EIP712_NAME,
            "version": EIP712_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(device_registry),
        },
        "message": {
            "project": project,
            "device": to_checksum_address(device),
            "owner": to_checksum_address(owner),
        },
    }


def sign_device_binding(
    device_key: LocalAccount, chain_id: int, device_registry: str, project: int, owner: str
) -> bytes:
    """The device key's signature (r || s || v, v in {27, 28}) binding itself to ``project`` and ``owner``."""
    typed = device_binding_typed_data(chain_id, device_registry, project, device_key.address, owner)
    signed = Account.sign_message(encode_typed_data(full_message=typed), device_key.key)
    return bytes(signed.signature)


# --- Wrappers -----------------------------------------------------------------------------------------------


class _Wrapper:
    CONTRACT: ClassVar[str]
    """The Solidity contract name, to find its ABI in a compilation."""

    def __init__(self, client: ChainClient, address: str, abi: Sequence[Mapping[str, Any]]) -> None:
        self._client = client
        self._contract: Contract = client.contract(address, abi, name=self.CONTRACT)
        self.address = Address(to_checksum_address(address))

    @classmethod
    def at(cls, client: ChainClient, address: str, compilation: CompilationResult) -> Self:
        """The wrapper of the contract at ``address``, with the ABI from ``compilation``."""
        return cls(client, address, compilation.artifact(cls.CONTRACT).abi)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"

    def _call(self, function: str, *args: Any) -> Any:
        return self._client.call(getattr(self._contract.functions, function)(*args))

    def _send(self, function: str, *args: Any, sender: LocalAccount | None, gas: int | None = None) -> Receipt:
        return self._client.send(getattr(self._contract.functions, function)(*args), sender=sender, gas=gas)

    def _event(self, name: str) -> ContractEvent:
        event: ContractEvent = getattr(self._contract.events, name)()
        return event

    def _logs(self, name: str, from_block: int, to_block: int | str) -> list[Mapping[str, Any]]:
        return self._client.get_logs(self._event(name), from_block, to_block)

    def _receipt_events(self, name: str, receipt: Receipt) -> list[Mapping[str, Any]]:
        event = self._event(name)
        decoded: list[Mapping[str, Any]] = []
        for log in receipt.logs:
            if str(to_checksum_address(log["address"])) != self.address:
                continue
            try:
                decoded.append(dict(event.process_log(cast(Any, log))))
            except MismatchedABI:
                continue  # another event of this contract
        return decoded


def _position(entry: Mapping[str, Any]) -> EventPosition:
    return EventPosition(
        block_number=int(entry["blockNumber"]),
        block_hash=entry["blockHash"].to_0x_hex(),
        tx_hash=entry["transactionHash"].to_0x_hex(),
        log_index=int(entry["logIndex"]),
    )


def _address_or_none(value: str) -> Address | None:
    return None if int(value, 16) == 0 else Address(to_checksum_address(value))


class ProjectRegistry(_Wrapper):
    CONTRACT = "ProjectRegistry"

    def create_project(
        self,
        config_hash: bytes,
        uri: str,
        verifier: str,
        dapp: str,
        sequencer: str,
        *,
        sender: LocalAccount | None = None,
    ) -> tuple[ProjectId, Receipt]:
        """Create a project owned by ``sender``; returns its id (from the ProjectCreated event)."""
        receipt = self._send("createProject", config_hash, uri, verifier, dapp, sequencer, sender=sender)
        (event,) = self._receipt_events("ProjectCreated", receipt)
        return ProjectId(int(event["args"]["project"])), receipt

    def add_version(
        self,
        project: int,
        config_hash: bytes,
        uri: str,
        verifier: str,
        grace_blocks: int,
        *,
        sender: LocalAccount | None = None,
    ) -> tuple[ConfigVersion, Receipt]:
        """Add a config version, which becomes current; the previous one stays live ``grace_blocks`` more blocks
        (0: it retires in this block). ``sender`` must be the project owner. Returns the new version."""
        receipt = self._send("addVersion", project, config_hash, uri, verifier, grace_blocks, sender=sender)
        (event,) = self._receipt_events("VersionAdded", receipt)
        return ConfigVersion(int(event["args"]["version"])), receipt

    def retire_version(self, project: int, version: int, *, sender: LocalAccount | None = None) -> Receipt:
        """Retire a version other than the current one now (ends its grace period early); owner only."""
        return self._send("retireVersion", project, version, sender=sender)

    def is_live(self, project: int, version: int) -> bool:
        """Whether new tasks may be assigned under ``version`` now; False for an unknown project or version."""
        return bool(self._call("isLive", project, version))

    def retires_at(self, project: int, version: int) -> int | None:
        """First block in which ``version`` is retired, or None while no retirement is set (the current one)."""
        block = int(self._call("retiresAt", project, version))
        return block or None

    def pause(self, project: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("pause", project, sender=sender)

    def resume(self, project: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("resume", project, sender=sender)

    def set_sequencer(self, project: int, sequencer: str, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("setSequencer", project, sequencer, sender=sender)

    def project_count(self) -> int:
        return int(self._call("projectCount"))

    def owner_of(self, project: int) -> Address:
        return Address(self._call("ownerOf", project))

    def sequencer_of(self, project: int) -> Address:
        return Address(self._call("sequencerOf", project))

    def dapp_of(self, project: int) -> Address:
        return Address(self._call("dappOf", project))

    def current_version(self, project: int) -> ConfigVersion:
        return ConfigVersion(int(self._call("currentVersion", project)))

    def verifier_of(self, project: int, version: int) -> Address:
        return Address(self._call("verifierOf", project, version))

    def config_hash_of(self, project: int, version: int) -> bytes:
        return bytes(self._call("configHashOf", project, version))

    def uri_of(self, project: int, version: int) -> str:
        return str(self._call("uriOf", project, version))

    def is_active(self, project: int) -> bool:
        return bool(self._call("isActive", project))

    def version_added_events(self, from_block: int, to_block: int | str) -> list[VersionAddedEvent]:
        return [
            VersionAddedEvent(
                project=ProjectId(a["project"]),
                version=ConfigVersion(a["version"]),
                config_hash=bytes(a["configHash"]),
                uri=str(a["uri"]),
                verifier=Address(a["verifier"]),
                position=_position(e),
            )
            for e in self._logs("VersionAdded", from_block, to_block)
            for a in (e["args"],)
        ]

    def version_retired_events(self, from_block: int, to_block: int | str) -> list[VersionRetiredEvent]:
        return [
            VersionRetiredEvent(
                project=ProjectId(a["project"]),
                version=ConfigVersion(a["version"]),
                at_block=int(a["atBlock"]),
                position=_position(e),
            )
            for e in self._logs("VersionRetired", from_block, to_block)
            for a in (e["args"],)
        ]

    def get_project(self, project: int) -> ProjectInfo:
        return ProjectInfo(
            project=ProjectId(project),
            owner=self.owner_of(project),
            sequencer=self.sequencer_of(project),
            dapp=self.dapp_of(project),
            current_version=self.current_version(project),
            active=self.is_active(project),
        )


class DeviceRegistry(_Wrapper):
    CONTRACT = "DeviceRegistry"

    def register_device(
        self, project: int, device: str, owner: str, signature: bytes, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Bind ``device`` to ``project`` and ``owner``; ``sender`` must be the project owner."""
        return self._send("registerDevice", project, device, owner, signature, sender=sender)

    def register_bjj_device(
        self,
        project: int,
        ax: int,
        ay: int,
        owner: str,
        r8x: int,
        r8y: int,
        s: int,
        *,
        sender: LocalAccount | None = None,
    ) -> Receipt:
        """Bind the BabyJubJub key (ax, ay) to ``project`` and ``owner``; (r8x, r8y, s) is the key's
        EdDSA-Poseidon signature of the binding message (:meth:`bjj_binding_message`). ``sender`` must be the
        project owner. The device id is :meth:`bjj_device_id` of the key."""
        return self._send("registerBjjDevice", project, ax, ay, to_checksum_address(owner), r8x, r8y, s, sender=sender)

    def deactivate_device(self, project: int, device: str, *, sender: LocalAccount | None = None) -> Receipt:
        """Take ``device`` out of service in ``project`` for good; ``sender`` must be the project owner."""
        return self._send("deactivateDevice", project, to_checksum_address(device), sender=sender)

    def is_active(self, project: int, device: str) -> bool:
        """Registered in ``project`` and not deactivated."""
        return bool(self._call("isActive", project, to_checksum_address(device)))

    def bjj_key_of(self, project: int, device: str) -> tuple[FieldElement, FieldElement] | None:
        """The BabyJubJub key (ax, ay) of ``device`` in ``project``; None when it is not registered there or has
        a secp256k1 key."""
        ax, ay = self._call("bjjKeyOf", project, to_checksum_address(device))
        return None if ax == 0 and ay == 0 else (FieldElement(ax), FieldElement(ay))

    def bjj_device_id(self, ax: int, ay: int) -> Address:
        """The id of the device with BabyJubJub key (ax, ay): last 20 bytes of keccak256("ps.bjj" || ax || ay)."""
        return Address(to_checksum_address(self._call("bjjDeviceId", ax, ay)))

    def bjj_binding_message(self, project: int, owner: str) -> FieldElement:
        """Poseidon(BIND_TAG, chainId, registry, project, owner): what a BabyJubJub key signs to be bound."""
        return FieldElement(int(self._call("bjjBindingMessage", project, to_checksum_address(owner))))

    def poseidon(self) -> Address:
        """The Poseidon(5) contract the registry hashes BabyJubJub bindings with."""
        return Address(to_checksum_address(self._call("poseidon")))

    def device_owner(self, project: int, device: str) -> Address | None:
        return _address_or_none(self._call("deviceOwner", project, to_checksum_address(device)))

    def is_registered(self, project: int, device: str) -> bool:
        return bool(self._call("isRegistered", project, to_checksum_address(device)))

    def domain_separator(self) -> bytes:
        return bytes(self._call("domainSeparator"))

    def binding_digest(self, project: int, device: str, owner: str) -> bytes:
        return bytes(self._call("bindingDigest", project, device, owner))

    def device_registered_events(self, from_block: int, to_block: int | str) -> list[DeviceRegisteredEvent]:
        return [
            DeviceRegisteredEvent(
                project=ProjectId(e["args"]["project"]),
                device=Address(e["args"]["device"]),
                owner=Address(e["args"]["owner"]),
                position=_position(e),
            )
            for e in self._logs("DeviceRegistered", from_block, to_block)
        ]

    def bjj_key_registered_events(self, from_block: int, to_block: int | str) -> list[BjjKeyRegisteredEvent]:
        return [
            BjjKeyRegisteredEvent(
                project=ProjectId(e["args"]["project"]),
                device=Address(e["args"]["device"]),
                ax=FieldElement(e["args"]["ax"]),
                ay=FieldElement(e["args"]["ay"]),
                position=_position(e),
            )
            for e in self._logs("BjjKeyRegistered", from_block, to_block)
        ]

    def device_deactivated_events(self, from_block: int, to_block: int | str) -> list[DeviceDeactivatedEvent]:
        return [
            DeviceDeactivatedEvent(
                project=ProjectId(e["args"]["project"]),
                device=Address(e["args"]["device"]),
                position=_position(e),
            )
            for e in self._logs("DeviceDeactivated", from_block, to_block)
        ]


class ProverRegistry(_Wrapper):
    CONTRACT = "ProverRegistry"

    def register_prover(self, beneficiary: str, *, sender: LocalAccount | None = None) -> Receipt:
        """Register ``sender`` itself as a prover."""
        return self._send("registerProver", beneficiary, sender=sender)

    def is_prover(self, prover: str) -> bool:
        return bool(self._call("isProver", to_checksum_address(prover)))

    def beneficiary_of(self, prover: str) -> Address | None:
        return _address_or_none(self._call("beneficiaryOf", to_checksum_address(prover)))


class TaskManager(_Wrapper):
    CONTRACT = "TaskManager"

    def set_router(self, router: str, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("setRouter", router, sender=sender)

    def router(self) -> Address | None:
        return _address_or_none(self._call("router"))

    def assign_tasks(
        self,
        tasks: Sequence[TaskAssignment],
        deadline_blocks: int,
        *,
        sender: LocalAccount | None = None,
        gas: int | None = None,
    ) -> AssignResult:
        """Assign ``tasks`` in one transaction; ``sender`` must be their projects' sequencer."""
        inputs = [
            (
                t.project,
                t.config_version,
                to_checksum_address(t.device),
                t.first_nonce,
                t.last_nonce,
                t.root,
                to_checksum_address(t.prover),
            )
            for t in tasks
        ]
        receipt = self._send("assignTasks", inputs, deadline_blocks, sender=sender, gas=gas)
        ids = tuple(TaskId(int(e["args"]["taskId"])) for e in self._receipt_events("TaskAssigned", receipt))
        return AssignResult(task_ids=ids, receipt=receipt)

    def get_task(self, task_id: int) -> TaskRecord:
        t = self._call("getTask", task_id)
        # Solidity field order: device, project, configVersion, prover, firstNonce, status, lastNonce,
        # deadline, prevFirstNonce, hasPrev, root
        return TaskRecord(
            task_id=TaskId(task_id),
            device=Address(t[0]),
            project=ProjectId(t[1]),
            config_version=ConfigVersion(t[2]),
            prover=Address(t[3]),
            first_nonce=Nonce(t[4]),
            status=TaskStatus(t[5]),
            last_nonce=Nonce(t[6]),
            deadline=int(t[7]),
            previous_first_nonce=Nonce(t[8]) if t[9] else None,
            root=FieldElement(t[10]),
        )

    def anchor_of(self, project: int, device: str) -> Anchor:
        """The anchor the next task of (project, device) is proven against."""
        timestamp, config, leaf = self._call("anchorOf", project, to_checksum_address(device))
        return Anchor(int(timestamp), int(leaf), int(config))

    def expire(self, task_id: int, *, sender: LocalAccount | None = None) -> Receipt:
        """Anyone: end an Assigned task whose deadline has passed."""
        return self._send("expire", task_id, sender=sender)

    def release(self, task_id: int, *, sender: LocalAccount | None = None) -> Receipt:
        """The task's prover: give up an Assigned task before its deadline (it ends Expired)."""
        return self._send("release", task_id, sender=sender)

    def reassign(
        self, task_id: int, prover: str, deadline_blocks: int, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """The project's sequencer: give an Expired task to ``prover`` with a fresh deadline."""
        return self._send("reassign", task_id, to_checksum_address(prover), deadline_blocks, sender=sender)

    def task_id_of(self, project: int, device: str, first_nonce: int) -> TaskId:
        return TaskId(int(self._call("taskIdOf", project, to_checksum_address(device), first_nonce)))

    def next_nonce_of(self, project: int, device: str) -> Nonce:
        """Lowest first nonce the next task of (project, device) may have."""
        return Nonce(int(self._call("nextNonceOf", project, to_checksum_address(device))))

    def task_assigned_events(self, from_block: int, to_block: int | str) -> list[TaskAssignedEvent]:
        return [
            TaskAssignedEvent(
                task_id=TaskId(a["taskId"]),
                project=ProjectId(a["project"]),
                device=Address(a["device"]),
                prover=Address(a["prover"]),
                root=FieldElement(a["root"]),
                first_nonce=Nonce(a["firstNonce"]),
                last_nonce=Nonce(a["lastNonce"]),
                config_version=ConfigVersion(a["configVersion"]),
                deadline=int(a["deadline"]),
                position=_position(e),
            )
            for e in self._logs("TaskAssigned", from_block, to_block)
            for a in (e["args"],)
        ]


class Router(_Wrapper):
    CONTRACT = "Router"

    def route(
        self,
        task_id: int,
        outputs: Sequence[int],
        last: Anchor,
        proof: bytes,
        *,
        sender: LocalAccount | None = None,
        gas: int = ROUTE_GAS,
    ) -> RouteResult:
        """Submit a task's outputs, the anchor it leaves (its last message's timestamp and leaf) and its proof;
        ``sender`` must be the task's prover.

        A reverting DApp does not make this raise: the result says ``settled=False`` with the DApp's reason.
        """
        receipt = self._send("route", task_id, list(outputs), last.timestamp, last.leaf, proof, sender=sender, gas=gas)
        failed = self._receipt_events("TaskFailed", receipt)
        if failed:
            return RouteResult(receipt=receipt, settled=False, failure_reason=bytes(failed[0]["args"]["reason"]))
        return RouteResult(receipt=receipt, settled=True, failure_reason=None)

    def public_inputs_of(self, task_id: int, outputs: Sequence[int], last: Anchor) -> tuple[int, ...]:
        """What route() would hand the verifier now: outputs then ``domain.anchor.RECORD_INPUTS``."""
        return tuple(int(x) for x in self._call("publicInputsOf", task_id, list(outputs), last.timestamp, last.leaf))

    def task_settled_events(self, from_block: int, to_block: int | str) -> list[TaskSettledEvent]:
        return [
            TaskSettledEvent(
                task_id=TaskId(e["args"]["taskId"]),
                prover=Address(e["args"]["prover"]),
                position=_position(e),
            )
            for e in self._logs("TaskSettled", from_block, to_block)
        ]

    def task_failed_events(self, from_block: int, to_block: int | str) -> list[TaskFailedEvent]:
        return [
            TaskFailedEvent(
                task_id=TaskId(e["args"]["taskId"]), reason=bytes(e["args"]["reason"]), position=_position(e)
            )
            for e in self._logs("TaskFailed", from_block, to_block)
        ]


class RewardToken(_Wrapper):
    CONTRACT = "RewardToken"

    def name(self) -> str:
        return str(self._call("name"))

    def symbol(self) -> str:
        return str(self._call("symbol"))

    def decimals(self) -> int:
        return int(self._call("decimals"))

    def total_supply(self) -> int:
        return int(self._call("totalSupply"))

    def balance_of(self, account: str) -> int:
        return int(self._call("balanceOf", to_checksum_address(account)))

    def allowance(self, owner: str, spender: str) -> int:
        return int(self._call("allowance", to_checksum_address(owner), to_checksum_address(spender)))

    def minter(self) -> Address | None:
        return _address_or_none(self._call("minter"))

    def set_minter(self, minter: str, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("setMinter", minter, sender=sender)

    def transfer(self, to: str, amount: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("transfer", to, amount, sender=sender)

    def approve(self, spender: str, amount: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("approve", spender, amount, sender=sender)

    def transfer_from(self, owner: str, to: str, amount: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("transferFrom", owner, to, amount, sender=sender)


class RewardDApp(_Wrapper):
    CONTRACT = "RewardDApp"

    def rate_per_unit(self) -> int:
        return int(self._call("ratePerUnit"))

    def project(self) -> ProjectId | None:
        project = int(self._call("project"))
        return ProjectId(project) if project else None

    def token(self) -> Address:
        return Address(self._call("token"))

    def set_rate(self, rate_per_unit: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("setRate", rate_per_unit, sender=sender)

    def bind_project(self, project: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("bindProject", project, sender=sender)

    def rewarded_events(self, from_block: int, to_block: int | str) -> list[RewardedEvent]:
        return [
            RewardedEvent(
                project=ProjectId(a["project"]),
                task_id=TaskId(a["taskId"]),
                device=Address(a["device"]),
                owner=Address(a["owner"]),
                units=int(a["units"]),
                amount=int(a["amount"]),
                position=_position(e),
            )
            for e in self._logs("Rewarded", from_block, to_block)
            for a in (e["args"],)
        ]


@dataclass(frozen=True)
class CoreContracts:
    """The wrappers of one core deployment."""

    projects: ProjectRegistry
    devices: DeviceRegistry
    provers: ProverRegistry
    tasks: TaskManager
    router: Router


__all__ = [
    "DAPP_GAS",
    "ROUTE_GAS",
    "AssignResult",
    "BjjKeyRegisteredEvent",
    "CoreContracts",
    "DeviceDeactivatedEvent",
    "DeviceRegisteredEvent",
    "DeviceRegistry",
    "EventPosition",
    "ProjectInfo",
    "ProjectRegistry",
    "ProverRegistry",
    "RewardDApp",
    "RewardToken",
    "RewardedEvent",
    "RouteResult",
    "Router",
    "TaskAssignedEvent",
    "TaskAssignment",
    "TaskFailedEvent",
    "TaskManager",
    "TaskRecord",
    "TaskSettledEvent",
    "TaskStatus",
    "VersionAddedEvent",
    "VersionRetiredEvent",
    "device_binding_typed_data",
    "sign_device_binding",
]
