"""Start-up wiring: from settings, a project folder and a chain, every part a node runs, composed once.

:func:`wire` builds each live config version, deploys on the chain this node started (or reads the manifest of
a deployment made beforehand), registers the prover, opens the store and composes the roles over their ports.
It starts no thread: :class:`proofstream.node.Node` runs what it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from proofstream import logs as log
from proofstream.attester.launcher import AttesterLaunch
from proofstream.chain.attest import AttestVerifier
from proofstream.chain.book import ChainBook
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.core import CoreContracts
from proofstream.chain.contracts.rewards import RewardDApp, RewardToken
from proofstream.chain.deploy import DeploymentManifest, ProjectDeployment, attach_core
from proofstream.chain.roles import Roles
from proofstream.chain.solc import CompilationResult
from proofstream.domain.batching import BatchPolicy
from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import Schema
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ConfigError
from proofstream.indexer.service import Indexer
from proofstream.ingest.w3bstream import W3bProject, W3bProjects
from proofstream.node.stores import StoreLocation, parse_store_url
from proofstream.projects.build import ProjectBuild, build_project
from proofstream.projects.circuit import ProjectCircuit
from proofstream.projects.deploy import (
    deploy_built_project,
    local_attesters,
    manifest_path,
    read_manifest,
    snapshot_version,
    version_dir,
    write_manifest,
)
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.prover.attest import AttestBackend
from proofstream.prover.groth16 import Groth16Backend
from proofstream.prover.isolated import IsolatedLogic
from proofstream.prover.ports import ProverBackend
from proofstream.prover.service import DeferringBackend, DeviceSigning, ProverWorker
from proofstream.prover.warm import choose_prover
from proofstream.sequencer.service import Sequencer
from proofstream.settings import Settings
from proofstream.store.ports import ProjectConfig, Store
from proofstream.submitter.service import Submitter

logger = logging.getLogger(__name__)

OnStep = Callable[[str], None]


@dataclass(frozen=True)
class ChainAccess:
    """The chain a node runs against and who it acts as there."""

    client: ChainClient
    roles: Roles
    local: bool
    """True only for the anvil this node started: the one fact every local-only shortcut is decided on."""


@dataclass(frozen=True)
class Pipeline:
    """The roles, composed over one store and one task book."""

    sequencer: Sequencer
    provers: list[ProverWorker]
    """One worker per live config version; ``prover.workers`` threads tick them all."""
    submitter: Submitter
    indexer: Indexer
    backends: list[ProverBackend] = field(default_factory=list)
    """The workers' backends: some keep processes (the warm Groth16 prover) that :meth:`close` stops."""

    def close(self) -> None:
        """Stop the backends' processes; call it once no prover thread runs."""
        for backend in self.backends:
            if isinstance(backend, Groth16Backend):
                backend.close()


@dataclass(frozen=True)
class Wiring:
    """Everything a running node holds, built before anything runs."""

    chain: ChainAccess
    build: ProjectBuild
    """The project folder as it is now."""
    manifest: DeploymentManifest
    deployment: ProjectDeployment
    core: CoreContracts
    token: RewardToken
    dapp: RewardDApp
    """The project's reward DApp: rewards accrue there per device until claimed."""
    versions: dict[ConfigVersion, ProjectBuild]
    """Every live config version, built from the files it was deployed with."""
    store: Store
    store_location: StoreLocation
    """Where ``store`` is (``store.url``): what the node's attester processes are told to open."""
    pipeline: Pipeline
    late_limit_s: int
    """The batch window plus its grace: the gateway's clock window never refuses a message this late."""

    @property
    def schema(self) -> Schema:
        """What devices sign new messages under: the current version's schema."""
        return self.versions[max(self.versions)].spec.schema

    @property
    def project(self) -> ProjectId:
        return ProjectId(self.deployment.project)

    def content(self, project: ProjectId, version: ConfigVersion) -> dict[str, bytes] | None:
        """The gateway's content source: the files behind each live version's on-chain config hash."""
        build = self.versions.get(version) if project == self.project else None
        if build is None:
            return None
        vkey = build.artifacts.vkey.read_bytes() if build.artifacts is not None else None
        return build.spec.content_files(vkey)

    def w3bstream(self) -> W3bProjects:
        """What the W3bStream endpoint knows of each live version: its ``[w3bstream]`` section, if any."""
        return {
            (self.project, version): W3bProject(build.spec.w3bstream, build.spec.circuit_signatures)
            for version, build in self.versions.items()
        }

    def attester_launches(self, rpc_url: str, poll_s: float) -> list[tuple[ConfigVersion, int, AttesterLaunch]]:
        """(version, how many provers, launch) for every live attest version: what the local node runs."""
        launches = []
        for version, build in self.versions.items():
            if build.artifacts is not None:
                continue
            launch = AttesterLaunch(
                project_dir=build.spec.root,
                store=self.store_location.url,
                rpc_url=rpc_url,
                router=self.manifest.core.router,
                device_registry=self.manifest.core.device_registry,
                chain_id=self.chain.client.chain_id,
                project_id=self.deployment.project,
                poll_s=poll_s,
            )
            launches.append((version, build.spec.provers, launch))
        return launches


def wire(settings: Settings, project: ProjectSpec, data_dir: Path, chain: ChainAccess, on_step: OnStep) -> Wiring:
    """Open the store, build, deploy (on a local chain, the first time), register the prover, compose the roles.

    The store is opened first, so a wrong ``store.url`` or an unreachable database stops the node before any
    build; it is open when this returns: the caller closes it (``wiring.store.close()``)."""
    location = parse_store_url(settings.store.url, data_dir)
    store = location.open()
    log.info(logger, "store", path=location.shown)
    try:
        return _compose(settings, project, data_dir, chain, on_step, store, location)
    except BaseException:
        store.close()
        raise


def _compose(
    settings: Settings,
    project: ProjectSpec,
    data_dir: Path,
    chain: ChainAccess,
    on_step: OnStep,
    store: Store,
    location: StoreLocation,
) -> Wiring:
    cache = Path(settings.cache_dir).expanduser() if settings.cache_dir else None
    ptau = Path(settings.prover.ptau).expanduser() if settings.prover.ptau else None

    def build(spec: ProjectSpec) -> ProjectBuild:
        return build_project(spec, cache_dir=cache, ptau=ptau, out_dir=data_dir / "build", on_step=on_step)

    current_build = build(project)
    manifest = _deployment(project, current_build, data_dir, chain, on_step)
    deployment = manifest.projects[0]
    compilation = current_build.compilation
    core = attach_core(chain.client, manifest.core, compilation)
    token = RewardToken.at(chain.client, deployment.reward_token, compilation)
    dapp = RewardDApp.at(chain.client, deployment.reward_dapp, compilation)
    versions = _live_versions(project, current_build, core, deployment, data_dir, chain.client.chain_id, build, on_step)
    prover = chain.roles.prover
    if not core.provers.is_prover(prover.address):
        core.provers.register_prover(prover.address, sender=prover)
    domain = Domain(chain.client.chain_id, manifest.core.device_registry)
    for version, version_build in versions.items():
        store.upsert_project(ProjectConfig(ProjectId(deployment.project), version, version_build.spec.schema, domain))
    current = versions[max(versions)].spec  # the deployed current version, whatever the folder holds
    window = settings.batching.window(current.window_seconds)
    pipeline = _pipeline(settings, store, chain, core, manifest, deployment, versions, current, window, compilation)
    return Wiring(
        chain=chain,
        build=current_build,
        manifest=manifest,
        deployment=deployment,
        core=core,
        token=token,
        dapp=dapp,
        versions=versions,
        store=store,
        store_location=location,
        pipeline=pipeline,
        late_limit_s=window + settings.batching.grace,
    )


def _deployment(
    project: ProjectSpec, build: ProjectBuild, data_dir: Path, chain: ChainAccess, on_step: OnStep
) -> DeploymentManifest:
    path = manifest_path(data_dir, chain.client.chain_id)
    manifest = read_manifest(path, chain.client)
    if manifest is not None and manifest.projects:
        return manifest
    if not chain.local:
        # Deploying on its own is for the chain this node started; on any other chain the operator deploys
        # (and sees the gas and the chain id first) with `proofstream project deploy --chain URL`.
        raise ConfigError(
            f"project {project.name} is not deployed on chain {chain.client.chain_id} (no {path}): "
            "run `proofstream project deploy --chain URL` first"
        )
    on_step("deploying the contracts and registering the project")
    manifest, _ = deploy_built_project(
        chain.client,
        build,
        manifest,
        owner=chain.roles.owner,
        sequencer=chain.roles.sequencer.address,
        attesters=local_attesters(project.provers) if project.backend == "attest" else (),
        on_step=on_step,
    )
    snapshot_version(project, data_dir, chain.client.chain_id, 1)
    write_manifest(path, manifest)
    return manifest


def _live_versions(
    project: ProjectSpec,
    folder_build: ProjectBuild,
    core: CoreContracts,
    deployment: ProjectDeployment,
    data_dir: Path,
    chain_id: int,
    build: Callable[[ProjectSpec], ProjectBuild],
    on_step: OnStep,
) -> dict[ConfigVersion, ProjectBuild]:
    """Every config version that still takes tasks, built from the files kept when it was deployed.

    Messages signed under an older version in its grace period are proven with that version's circuit and
    logic; the project folder as it is now serves only the version whose content hash it matches.
    """
    registry = core.projects
    project_id = deployment.project
    current = registry.current_version(project_id)
    versions: dict[ConfigVersion, ProjectBuild] = {}
    for version in range(1, current + 1):
        if not registry.is_live(project_id, version):
            continue
        on_chain = registry.config_hash_of(project_id, version)
        kept = version_dir(data_dir, chain_id, version)
        if folder_build.config_hash == on_chain:
            versions[ConfigVersion(version)] = folder_build
        elif kept.is_dir():
            if version == current:
                on_step(
                    f"the project folder differs from version {version} on chain: running the deployed files "
                    f"kept in {kept}; `proofstream project upgrade` registers your changes"
                )
            kept_build = build(load_project(kept))
            if kept_build.config_hash != on_chain:
                raise ConfigError(f"the files kept in {kept} do not hash to version {version}'s config hash")
            versions[ConfigVersion(version)] = kept_build
        else:
            log.warning(logger, "no files for a live version: its tasks wait", project=project_id, config=version)
    if current not in versions:
        raise ConfigError(
            f"the project folder {project.root} is not version {current}, the current version of project "
            f"{project_id} on chain {chain_id}: run `proofstream project upgrade` to register it"
        )
    capacity = versions[ConfigVersion(current)].spec.capacity
    for version, version_build in versions.items():
        if version_build.spec.capacity != capacity:
            # One sequencer cuts every version's tasks at one capacity; a circuit of another size rejects them.
            raise ConfigError(
                f"live version {version} has capacity {version_build.spec.capacity} but version {current} has "
                f"{capacity}: retire version {version} (`proofstream project retire {version}`) first"
            )
    return versions


def _pipeline(
    settings: Settings,
    store: Store,
    chain: ChainAccess,
    core: CoreContracts,
    manifest: DeploymentManifest,
    deployment: ProjectDeployment,
    versions: Mapping[ConfigVersion, ProjectBuild],
    current: ProjectSpec,
    window: int,
    compilation: CompilationResult,
) -> Pipeline:
    roles = chain.roles
    book = ChainBook(chain.client, core, sequencer=roles.sequencer, prover=roles.prover)
    sequencer = Sequencer(
        store,
        book,
        project=deployment.project,
        depth=current.depth,
        policy=BatchPolicy(current.capacity, window, settings.batching.grace, backlog_joins=settings.batching.latency),
        prover=Address(roles.prover.address),
        deadline_blocks=settings.chain.deadline_blocks,
    )
    # For a circuit that checks device signatures: the chain and registry they were signed under, and the store's
    # copy of each device's registered BabyJubJub key (the indexer records it).
    signing = DeviceSigning(chain.client.chain_id, int(manifest.core.device_registry, 16), store)
    backends = {
        version: _backend(settings, chain, core, manifest, deployment, store, version, build, compilation)
        for version, build in versions.items()
    }
    provers = [
        ProverWorker(
            store,
            backends[version],
            prover=roles.prover.address,
            n_public=build.spec.n_public,
            constraints=build.artifacts.constraints if build.artifacts is not None else None,
            anchors=book,
            config=version,
            signing=signing if build.spec.circuit_signatures else None,
        )
        for version, build in versions.items()
    ]
    submitter = Submitter(
        store,
        book,
        deadline_blocks=settings.chain.deadline_blocks,
        max_batch=settings.chain.route_batch,
        wait_seconds=0.0 if settings.batching.latency else settings.chain.route_wait_seconds,
        chained=not any(isinstance(backend, DeferringBackend) for backend in backends.values()),
    )
    indexer = Indexer(store, book, start_block=manifest.core.start_block, confirmations=settings.confirmations)
    released = provers[0].release_orphans()
    if released:
        log.info(logger, "released tasks a previous run left unproven", count=released)
    return Pipeline(sequencer, provers, submitter, indexer, list(backends.values()))


def _backend(
    settings: Settings,
    chain: ChainAccess,
    core: CoreContracts,
    manifest: DeploymentManifest,
    deployment: ProjectDeployment,
    store: Store,
    version: ConfigVersion,
    build: ProjectBuild,
    compilation: CompilationResult,
) -> ProverBackend:
    if build.artifacts is not None:
        # Each of the prover.workers threads may prove a task of this version at once: one warm lane each.
        prover = choose_prover(settings.prover.backend, build.artifacts, lanes=settings.prover.workers)
        return Groth16Backend(ProjectCircuit.of(build.spec), build.artifacts, prover)
    # The folder build's compilation: every version runs on the contracts this node deployed or attached.
    verifier = AttestVerifier.at(chain.client, core.projects.verifier_of(deployment.project, version), compilation)
    return AttestBackend(
        store,
        IsolatedLogic(build.spec.logic_path),
        chain_id=chain.client.chain_id,
        router=manifest.core.router,
        config_version=version,
        attesters=verifier.attesters(),
        quorum=verifier.quorum(),
        is_registered=core.provers.is_prover,
    )
