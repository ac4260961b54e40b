"""Deploy proofstream's core contracts and a project's own (verifier, adapter, reward token, reward DApp).

The addresses come back as dataclasses that round-trip through JSON: the deployments manifest the node, the
indexer and the CLI read to find the contracts again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from proofstream import logs as log
from proofstream.chain.client import ChainClient, Receipt
from proofstream.chain.contracts.core import CoreContracts
from proofstream.chain.contracts.registries import DeviceRegistry, ProjectRegistry, ProverRegistry
from proofstream.chain.contracts.rewards import RewardDApp, RewardToken
from proofstream.chain.contracts.router import Router
from proofstream.chain.contracts.tasks import TaskManager
from proofstream.chain.poseidon_contract import poseidon_artifact
from proofstream.chain.solc import CompilationResult, compile_core
from proofstream.circuits.batch_verifier import BATCH_VERIFIER_CONTRACT, batch_verifier_source
from proofstream.domain.types import Address, ProjectId
from proofstream.errors import ChainError, ConfigError

logger = logging.getLogger(__name__)

VERIFIER_SOURCE_NAME = "generated/verifier.sol"
"""Source unit name given to a snarkjs-exported verifier (generated at build time, never committed)."""
BATCH_VERIFIER_SOURCE_NAME = "generated/batch_verifier.sol"
"""Source unit name of the batch verifier generated from the same verifying key (circuits/batch_verifier.py)."""

MANIFEST_VERSION = 1
"""Format version of the deployments manifest."""


@dataclass(frozen=True)
class CoreDeployment:
    """Addresses of one deployment of the core contracts."""

    chain_id: int
    project_registry: Address
    device_registry: Address
    prover_registry: Address
    task_manager: Address
    router: Address
    start_block: int
    """Block of the first deployment transaction: where an indexer starts reading events."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CoreDeployment:
        try:
            return cls(
                chain_id=int(data["chain_id"]),
                project_registry=Address(str(data["project_registry"])),
                device_registry=Address(str(data["device_registry"])),
                prover_registry=Address(str(data["prover_registry"])),
                task_manager=Address(str(data["task_manager"])),
                router=Address(str(data["router"])),
                start_block=int(data["start_block"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"bad core deployment in manifest: {exc}") from exc


@dataclass(frozen=True)
class ProjectDeployment:
    """One project's id and contracts."""

    project: ProjectId
    owner: Address
    sequencer: Address
    verifier: Address
    """The IVerifier registered for config version 1 (the adapter, or the one passed in)."""
    snark_verifier: Address | None
    """The snarkjs-exported verifier behind the adapter, if this deployment compiled one."""
    n_public: int
    reward_token: Address
    reward_dapp: Address
    rate_per_unit: int
    config_hash: str
    """0x-prefixed hex of the 32-byte config hash of version 1."""
    uri: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProjectDeployment:
        try:
            snark = data.get("snark_verifier")
            return cls(
                project=ProjectId(int(data["project"])),
                owner=Address(str(data["owner"])),
                sequencer=Address(str(data["sequencer"])),
                verifier=Address(str(data["verifier"])),
                snark_verifier=Address(str(snark)) if snark else None,
                n_public=int(data["n_public"]),
                reward_token=Address(str(data["reward_token"])),
                reward_dapp=Address(str(data["reward_dapp"])),
                rate_per_unit=int(data["rate_per_unit"]),
                config_hash=str(data["config_hash"]),
                uri=str(data["uri"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"bad project deployment in manifest: {exc}") from exc


@dataclass(frozen=True)
class DeploymentManifest:
    """Everything deployed on one chain: the core and its projects."""

    core: CoreDeployment
    projects: tuple[ProjectDeployment, ...] = ()

    def with_project(self, project: ProjectDeployment) -> DeploymentManifest:
        return DeploymentManifest(core=self.core, projects=(*self.projects, project))

    def project(self, project: int) -> ProjectDeployment:
        for deployment in self.projects:
            if deployment.project == project:
                return deployment
        raise ConfigError(f"project {project} is not in the deployments manifest")

    def to_json(self) -> str:
        document = {
            "version": MANIFEST_VERSION,
            "core": self.core.to_json(),
            "projects": [p.to_json() for p in self.projects],
        }
        return json.dumps(document, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DeploymentManifest:
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"deployments manifest is not JSON: {exc}") from exc
        if not isinstance(document, dict) or document.get("version") != MANIFEST_VERSION:
            raise ConfigError(f"deployments manifest must be a JSON object with version {MANIFEST_VERSION}")
        return cls(
            core=CoreDeployment.from_json(document.get("core") or {}),
            projects=tuple(ProjectDeployment.from_json(p) for p in document.get("projects") or []),
        )


def attach_core(client: ChainClient, core: CoreDeployment, compilation: CompilationResult) -> CoreContracts:
    """Wrappers over an existing core deployment."""
    if core.chain_id != client.chain_id:
        raise ConfigError(f"deployment is for chain {core.chain_id}, the node is chain {client.chain_id}")
    tasks = TaskManager.at(client, core.task_manager, compilation)
    tasks.first_block = core.start_block
    return CoreContracts(
        projects=ProjectRegistry.at(client, core.project_registry, compilation),
        devices=DeviceRegistry.at(client, core.device_registry, compilation),
        provers=ProverRegistry.at(client, core.prover_registry, compilation),
        tasks=tasks,
        router=Router(client, core.router, compilation.artifact(Router.CONTRACT).abi, tasks),
    )


def deploy_core(
    client: ChainClient,
    *,
    compilation: CompilationResult | None = None,
    sender: LocalAccount | None = None,
) -> CoreDeployment:
    """Deploy ProjectRegistry, DeviceRegistry (with the Poseidon contract it hashes with), ProverRegistry,
    TaskManager and Router, and wire the Router in."""
    compiled = compilation or compile_core()

    def deploy(name: str, *args: Any) -> Receipt:
        return client.deploy(compiled.artifact(name), *args, sender=sender)

    projects = deploy("ProjectRegistry")
    start_block = projects.block_number
    projects_address = _address(projects)
    # DeviceRegistry hashes BabyJubJub bindings with circomlib's Poseidon(5), generated by circomlibjs at build time.
    poseidon = client.deploy(poseidon_artifact(), sender=sender)
    devices = deploy("DeviceRegistry", projects_address, _address(poseidon))
    provers = deploy("ProverRegistry")
    tasks = deploy("TaskManager", projects_address, _address(provers))
    router = deploy("Router", _address(tasks), projects_address, _address(devices))
    TaskManager.at(client, _address(tasks), compiled).set_router(_address(router), sender=sender)
    core = CoreDeployment(
        chain_id=client.chain_id,
        project_registry=projects_address,
        device_registry=_address(devices),
        prover_registry=_address(provers),
        task_manager=_address(tasks),
        router=_address(router),
        start_block=start_block,
    )
    log.info(logger, "core deployed", chain=core.chain_id, task_manager=core.task_manager, router=core.router)
    return core


def deploy_project(
    client: ChainClient,
    core: CoreDeployment,
    verifier_sol_source: str | None,
    n_public: int,
    rate: int,
    *,
    config_hash: bytes,
    uri: str,
    sequencer: str,
    verifier: str | None = None,
    owner: LocalAccount | None = None,
    token_name: str = "proofstream reward",
    token_symbol: str = "PSR",
    compilation: CompilationResult | None = None,
    dapp_contract: str = "RewardDApp",
    verifying_key: Mapping[str, Any] | None = None,
) -> ProjectDeployment:
    """Deploy a project's contracts and create the project, owned by ``owner`` (default: the client's
    account).

    ``verifier_sol_source`` is the snarkjs-exported Solidity verifier (``snarkjs zkey export
    solidityverifier``), generated at build time and compiled here together with the core (a ``compilation``
    passed in must also hold the batch verifier generated from the same key, else ``verifying_key`` gives it);
    it is put behind a
    Groth16VerifierAdapter for ``n_public`` public signals. Pass ``verifier_sol_source=None`` and
    ``verifier=<address>`` to use an IVerifier that is already deployed instead. Then: RewardToken, the DApp
    (``dapp_contract``: RewardDApp or a project's contract derived from it, with the same constructor; ``rate``
    token wei per output unit), token.setMinter(dapp), createProject, dapp.bindProject.
    """
    if len(config_hash) != 32:
        raise ConfigError("config_hash must be 32 bytes")
    if (verifier_sol_source is None) == (verifier is None):
        raise ConfigError("pass exactly one of verifier_sol_source and verifier")
    sources = None
    if verifier_sol_source is not None:
        sources = {VERIFIER_SOURCE_NAME: verifier_sol_source}
        if verifying_key is not None:
            sources[BATCH_VERIFIER_SOURCE_NAME] = batch_verifier_source(verifying_key)
    compiled = compilation or compile_core(sources)
    account = owner or client.account

    def deploy(name: str, *args: Any) -> Address:
        return _address(client.deploy(compiled.artifact(name), *args, sender=account))

    snark_verifier: Address | None = None
    if verifier_sol_source is not None:
        snark_verifier, verifier_address = deploy_groth16_verifier(client, compiled, n_public, sender=account)
    else:
        assert verifier is not None
        verifier_address = Address(verifier)
    token_address = deploy("RewardToken", token_name, token_symbol)
    dapp_address = deploy(dapp_contract, core.router, core.device_registry, token_address, rate)
    RewardToken.at(client, token_address, compiled).set_minter(dapp_address, sender=account)
    projects = ProjectRegistry.at(client, core.project_registry, compiled)
    project, _ = projects.create_project(config_hash, uri, verifier_address, dapp_address, sequencer, sender=account)
    RewardDApp.at(client, dapp_address, compiled).bind_project(project, sender=account)
    deployment = ProjectDeployment(
        project=project,
        owner=Address(account.address),
        sequencer=Address(sequencer),
        verifier=verifier_address,
        snark_verifier=snark_verifier,
        n_public=n_public,
        reward_token=token_address,
        reward_dapp=dapp_address,
        rate_per_unit=rate,
        config_hash="0x" + config_hash.hex(),
        uri=uri,
    )
    log.info(logger, "project deployed", project=project, verifier=verifier_address, dapp=dapp_address)
    return deployment


def deploy_groth16_verifier(
    client: ChainClient, compilation: CompilationResult, n_public: int, *, sender: LocalAccount | None = None
) -> tuple[Address, Address]:
    """Deploy the snarkjs verifier and the batch verifier compiled into ``compilation`` and their IVerifier adapter
    for ``n_public`` public signals; returns (snark verifier, adapter)."""
    if BATCH_VERIFIER_CONTRACT not in compilation.artifacts:
        raise ConfigError(f"the compilation has no {BATCH_VERIFIER_CONTRACT} ({BATCH_VERIFIER_SOURCE_NAME})")
    snark = _address(client.deploy(compilation.artifact(_verifier_contract_name(compilation)), sender=sender))
    batch = _address(client.deploy(compilation.artifact(BATCH_VERIFIER_CONTRACT), sender=sender))
    adapter_artifact = compilation.artifact("Groth16VerifierAdapter")
    adapter = _address(client.deploy(adapter_artifact, snark, batch, n_public, sender=sender))
    return snark, adapter


def _verifier_contract_name(compilation: CompilationResult) -> str:
    names = [a.name for a in compilation.artifacts.values() if a.source == VERIFIER_SOURCE_NAME and len(a.bytecode) > 2]
    if len(names) != 1:
        raise ConfigError(f"verifier source must define exactly one deployable contract, found {names}")
    return names[0]


def _address(receipt: Receipt) -> Address:
    if receipt.contract_address is None:
        raise ChainError(f"transaction {receipt.tx_hash} deployed no contract")
    return receipt.contract_address
