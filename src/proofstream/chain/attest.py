"""The ``attest`` backend on chain: the AttestVerifier wrapper, its deployment, and the attester's view of the
chain.

An attester runs on its own machine with its own key and no Solidity compiler, so :class:`AttesterChainView`
carries the few ABI fragments it calls (checked against the compiled contracts by the tests) instead of
compiling proofstream's contracts.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from proofstream import logs as log
from proofstream.attester.ports import AttestVersion, ChainTask
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts._wrapper import Wrapper
from proofstream.chain.contracts.registries import ProjectRegistry, ProverRegistry
from proofstream.chain.contracts.tasks import TaskManager, TaskRecord, TaskStatus
from proofstream.chain.solc import CompilationResult
from proofstream.domain.anchor import Anchor
from proofstream.domain.eip712 import Domain, domain_separator
from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.tasks import task_id as task_id_of
from proofstream.domain.types import Address, ConfigVersion, ProjectId, TaskId
from proofstream.errors import ChainError, ConfigError, TransactionRevertedError

__all__ = [
    "ATTESTER_ABIS",
    "AttestVerifier",
    "AttesterChainView",
    "deploy_attest_verifier",
]

logger = logging.getLogger(__name__)


class AttestVerifier(Wrapper):
    CONTRACT = "AttestVerifier"

    def verify(self, public_inputs: Sequence[int], proof: bytes) -> bool:
        return bool(self._call("verify", list(public_inputs), proof))

    def digest_of(self, public_inputs: Sequence[int]) -> bytes:
        """The digest attesters sign for the Router's public inputs ``[outputs..., project, taskId, root, ...]``."""
        return bytes(self._call("digestOf", list(public_inputs)))

    def attestation_digest(self, project: int, task_id: int, root: int, result: bytes, anchors: Sequence[int]) -> bytes:
        """``anchors``: (prevTime, prevLeaf, lastTime, lastLeaf)."""
        return bytes(self._call("attestationDigest", project, task_id, root, result, list(anchors)))

    def result_hash(self, outputs: Sequence[int]) -> bytes:
        return bytes(self._call("resultHash", list(outputs)))

    def domain_separator(self) -> bytes:
        return bytes(self._call("domainSeparator"))

    def attesters(self) -> tuple[Address, ...]:
        return tuple(Address(to_checksum_address(a)) for a in self._call("attesters"))

    def is_attester(self, account: str) -> bool:
        return bool(self._call("isAttester", to_checksum_address(account)))

    def quorum(self) -> int:
        return int(self._call("quorum"))

    def config_version(self) -> ConfigVersion:
        return ConfigVersion(int(self._call("configVersion")))

    def output_count(self) -> int:
        """The project's number of outputs: public inputs of any other length than this plus 11 are refused."""
        return int(self._call("outputCount"))

    def router(self) -> Address:
        return Address(self._call("router"))

    def provers(self) -> Address:
        return Address(self._call("provers"))


def deploy_attest_verifier(
    client: ChainClient,
    compilation: CompilationResult,
    router: str,
    prover_registry: str,
    config_version: int,
    attesters: Sequence[str],
    quorum: int,
    sender: LocalAccount | None = None,
    *,
    outputs: int,
) -> AttestVerifier:
    """Deploy an AttestVerifier for one config version of a project; register its address as that version's
    verifier (``deploy_project(..., verifier=...)`` or ``ProjectRegistry.add_version``).

    The attesters need not be registered provers yet (each attester registers itself when it starts), but a
    signature only counts once its signer is. ``outputs``: the project's number of outputs (``logic.OUTPUTS``):
    the verifier refuses public inputs of any other length.
    """
    checksummed = [to_checksum_address(a) for a in attesters]
    if not 1 <= quorum <= len(checksummed):
        raise ConfigError(f"attest quorum {quorum} must be between 1 and the number of attesters ({len(checksummed)})")
    if len({a.lower() for a in checksummed}) != len(checksummed):
        raise ConfigError("the attester list names one address twice")
    receipt = client.deploy(
        compilation.artifact(AttestVerifier.CONTRACT),
        to_checksum_address(router),
        to_checksum_address(prover_registry),
        config_version,
        outputs,
        checksummed,
        quorum,
        sender=sender,
    )
    if receipt.contract_address is None:
        raise ChainError(f"AttestVerifier deployment {receipt.tx_hash} created no contract")
    log.info(
        logger,
        "attest verifier deployed",
        address=receipt.contract_address,
        config=config_version,
        quorum=quorum,
        attesters=",".join(checksummed),
    )
    return AttestVerifier.at(client, receipt.contract_address, compilation)


# --- ABI fragments for the attester (no compiler on an attester's machine) ----------------------------------


def _param(type_: str, name: str = "", components: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "type": type_}
    if components is not None:
        param["components"] = components
    return param


def _function(
    name: str, inputs: Sequence[str], outputs: Sequence[dict[str, Any] | str], mutability: str = "view"
) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "inputs": [_param(t) for t in inputs],
        "outputs": [o if isinstance(o, dict) else _param(o) for o in outputs],
        "stateMutability": mutability,
    }


def _error(name: str, inputs: Sequence[str]) -> dict[str, Any]:
    return {"type": "error", "name": name, "inputs": [_param(t) for t in inputs]}


def _event(name: str, inputs: Sequence[tuple[str, str, bool]]) -> dict[str, Any]:
    """An event fragment; ``inputs`` as (type, name, indexed)."""
    return {
        "type": "event",
        "name": name,
        "anonymous": False,
        "inputs": [{"name": n, "type": t, "indexed": i} for t, n, i in inputs],
    }


_TASK_TUPLE = _param(
    "tuple",
    components=[
        _param("uint64", "project"),
        _param("uint32", "configVersion"),
        _param("address", "device"),
        _param("uint64", "firstNonce"),
        _param("uint64", "lastNonce"),
        _param("uint256", "root"),
        _param("address", "prover"),
        _param("uint64", "deadline"),
        _param("uint64", "prevFirstNonce"),
        _param("bool", "hasPrev"),
    ],
)

_TASK_EVENTS = [
    _event(
        "TaskAssigned",
        [
            ("uint256", "taskId", True),
            ("uint64", "project", True),
            ("address", "device", False),
            ("address", "prover", False),
            ("uint256", "root", False),
            ("uint64", "firstNonce", False),
            ("uint64", "lastNonce", False),
            ("uint32", "configVersion", False),
            ("uint64", "deadline", False),
            ("uint64", "prevFirstNonce", False),
            ("bool", "hasPrev", False),
        ],
    ),
    _event(
        "TaskReassigned", [("uint256", "taskId", True), ("address", "prover", False), ("uint64", "deadline", False)]
    ),
    _event(
        "AnchorAdvanced",
        [
            ("uint64", "project", True),
            ("address", "device", True),
            ("uint64", "timestamp", False),
            ("uint32", "configVersion", False),
            ("uint256", "leaf", False),
        ],
    ),
]

ATTESTER_ABIS: dict[str, list[dict[str, Any]]] = {
    "Router": [_function("taskManager", [], ["address"]), _function("projects", [], ["address"])],
    "TaskManager": [
        _function("provers", [], ["address"]),
        _function("statusOf", ["uint256"], ["uint8"]),
        {**_function("recordMatches", ["uint256"], ["bool"]), "inputs": [_param("uint256"), _TASK_TUPLE]},
        _function("anchorHashOf", ["uint64", "address"], ["bytes32"]),
        *_TASK_EVENTS,
    ],
    "ProjectRegistry": [
        _function("verifierOf", ["uint64", "uint32"], ["address"]),
        _function("configHashOf", ["uint64", "uint32"], ["bytes32"]),
        _error("UnknownProject", ["uint64"]),
        _error("UnknownVersion", ["uint64", "uint32"]),
    ],
    "ProverRegistry": [
        _function("isProver", ["address"], ["bool"]),
        _function("registerProver", ["address"], [], "nonpayable"),
        _error("ZeroAddress", []),
        _error("AlreadyRegistered", ["address"]),
    ],
    "DeviceRegistry": [_function("projects", [], ["address"]), _function("domainSeparator", [], ["bytes32"])],
    "AttestVerifier": [
        _function("isAttester", ["address"], ["bool"]),
        _function("configVersion", [], ["uint32"]),
        _function("quorum", [], ["uint256"]),
    ],
}
"""The functions and errors :class:`AttesterChainView` uses, per contract, as in the compiled ABIs."""


class AttesterChainView:
    """The attester's view of one deployment (implements :class:`proofstream.attester.ports.AttesterChain`).

    Everything is found from the Router: its TaskManager, ProjectRegistry and, through the TaskManager, the
    ProverRegistry. Nothing on chain leads from the Router to the DeviceRegistry, so its address comes from the
    attester's own configuration (``--device-registry`` or its own deployments manifest) and is checked here: a
    DeviceRegistry of this Router's ProjectRegistry whose on-chain domain separator is the one the attester
    computes for (this chain's id, that address). The account is the attester's own; it pays only for its
    registration.
    """

    def __init__(self, client: ChainClient, router: str, device_registry: str) -> None:
        self._client = client
        self._router = Address(to_checksum_address(router))
        if not client.code_at(self._router):
            raise ConfigError(f"no contract at the router address {self._router} on chain {client.chain_id}")
        router_contract = client.contract(self._router, ATTESTER_ABIS["Router"], name="Router")
        tasks = client.call(router_contract.functions.taskManager())
        projects = client.call(router_contract.functions.projects())
        self._device_registry = _checked_device_registry(client, device_registry, Address(projects))
        self._tasks = TaskManager(client, tasks, ATTESTER_ABIS["TaskManager"])
        self._projects = ProjectRegistry(client, projects, ATTESTER_ABIS["ProjectRegistry"])
        tasks_contract = client.contract(tasks, ATTESTER_ABIS["TaskManager"], name="TaskManager")
        provers = client.call(tasks_contract.functions.provers())
        self._provers = ProverRegistry(client, provers, ATTESTER_ABIS["ProverRegistry"])

    @property
    def chain_id(self) -> int:
        return self._client.chain_id

    @property
    def router(self) -> Address:
        return self._router

    @property
    def device_registry(self) -> Address:
        return self._device_registry

    @property
    def attester(self) -> Address:
        return Address(self._client.account.address)

    def task(self, task_id: TaskId) -> ChainTask | None:
        if self._tasks.status_of(task_id) is TaskStatus.NONE:
            return None
        return chain_task(self._tasks.get_task(task_id))

    def anchor(self, project: ProjectId, device: Address) -> Anchor:
        return self._tasks.anchor_of(project, device)

    def predecessor_pending(self, task_id: TaskId) -> bool:
        if self._tasks.status_of(task_id) is TaskStatus.NONE:
            return False
        record = self._tasks.get_task(task_id)
        if record.previous_first_nonce is None:
            return False
        previous = task_id_of(
            self.chain_id, self._tasks.address, record.project, record.device, record.previous_first_nonce
        )
        return self._tasks.status_of(previous) is TaskStatus.ASSIGNED

    def version(self, project: ProjectId, config: ConfigVersion) -> AttestVersion | None:
        try:
            verifier = self._projects.verifier_of(project, config)
            config_hash = self._projects.config_hash_of(project, config)
        except TransactionRevertedError as exc:
            if exc.error_name in ("UnknownProject", "UnknownVersion"):
                return None
            raise
        # The version's verifier may be anything (a Groth16 adapter): ask it as if it were an AttestVerifier.
        probe = AttestVerifier(self._client, verifier, ATTESTER_ABIS["AttestVerifier"])
        try:
            verifier_config = probe.config_version()
            in_set = probe.is_attester(self.attester)
            quorum = probe.quorum()
        except ChainError:
            # Not an AttestVerifier: the call reverts or returns nothing decodable.
            return AttestVersion(config_hash, Address(verifier), False, None, False, 0)
        return AttestVersion(config_hash, Address(verifier), True, verifier_config, in_set, quorum)

    def ensure_registered(self) -> bool:
        if self._provers.is_prover(self.attester):
            return False
        self._provers.register_prover(self.attester, sender=self._client.account)
        log.info(logger, "attester registered as prover", attester=self.attester, registry=self._provers.address)
        return True


def _checked_device_registry(client: ChainClient, address: str, project_registry: Address) -> Address:
    """``address`` if it is a DeviceRegistry of ``project_registry`` signing under the domain (chain id of the
    RPC, ``address``); ConfigError otherwise."""
    registry = Address(to_checksum_address(address))
    where = f"the device registry address {registry} on chain {client.chain_id}"
    if not client.code_at(registry):
        raise ConfigError(f"no contract at {where}")
    contract = client.contract(registry, ATTESTER_ABIS["DeviceRegistry"], name="DeviceRegistry")
    try:
        projects = Address(to_checksum_address(client.call(contract.functions.projects())))
        separator = bytes(client.call(contract.functions.domainSeparator()))
    except ChainError as exc:
        raise ConfigError(f"{where} is not a DeviceRegistry: {exc}") from exc
    if projects != Address(to_checksum_address(project_registry)):
        raise ConfigError(
            f"{where} belongs to ProjectRegistry {projects}, not to the router's {project_registry}: "
            "another deployment's registry"
        )
    if separator != domain_separator(Domain(client.chain_id, registry)):
        raise ConfigError(f"{where} signs under another EIP-712 domain than (chain {client.chain_id}, {registry})")
    return registry


def chain_task(record: TaskRecord) -> ChainTask:
    """The attester's view of a TaskManager record: its commitment, and whether it still waits for its result."""
    commitment = {f.name: getattr(record, f.name) for f in dataclasses.fields(TaskCommitment)}
    return ChainTask(task_id=record.task_id, assigned=record.status is TaskStatus.ASSIGNED, **commitment)
