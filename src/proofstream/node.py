"""The composition root: builds every role from the settings and runs them in one process.

    gateway (uvicorn thread)  ->  store (SQLite)  <-  pipeline thread: indexer -> sequencer -> submitter
                                                  <-  prover thread(s)

Without ``chain.rpc_url`` the node starts anvil itself; only that chain, the one this process started, counts
as local (whatever its chain id): on it the node uses anvil's public development accounts when no key is given,
deploys the contracts and registers the project and its prover the first time (writing a deployments manifest
into the data folder; later starts reuse it), opens device registration and runs the attesters. Any chain at a
``chain.rpc_url``, even an anvil with id 31337, needs the operator's key and a deployment made beforehand.
Every loop step is wrapped so one failure is logged and retried on the next tick, never fatal.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from eth_account import Account
from eth_account.signers.local import LocalAccount

from proofstream.attester.launcher import AttesterLaunch, AttesterProcesses
from proofstream.chain.accounts import DEV_PRIVATE_KEYS, dev_account
from proofstream.chain.attest import AttestVerifier
from proofstream.chain.book import ChainBook
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts import CoreContracts, RewardToken
from proofstream.chain.deploy import DeploymentManifest, ProjectDeployment, attach_core
from proofstream.chain.localnet import Localnet
from proofstream.circuits.project import ProjectCircuit
from proofstream.domain.batching import BatchPolicy
from proofstream.domain.eip712 import Domain
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ConfigError, ProofstreamError, TransactionRevertedError
from proofstream.indexer.service import Indexer
from proofstream.ingest.http import create_app
from proofstream.ingest.validation import ClockWindow
from proofstream.ports import DeviceRegistrationRequest
from proofstream.projects.build import ProjectBuild, build_project
from proofstream.projects.deploy import (
    LOCAL_ATTESTER_FIRST,
    deploy_built_project,
    local_attesters,
    manifest_path,
    read_manifest,
    snapshot_version,
    version_dir,
    write_manifest,
)
from proofstream.projects.localchain import local_state_path, local_url_path, running_local_chain
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.prover.attest import AttestBackend
from proofstream.prover.groth16 import Groth16Backend
from proofstream.prover.isolated import IsolatedLogic
from proofstream.prover.ports import ProverBackend
from proofstream.prover.service import DeviceSigning, ProverWorker
from proofstream.sequencer.service import Sequencer
from proofstream.settings import Settings
from proofstream.store.ports import ProjectConfig
from proofstream.store.sqlite import SqliteStore
from proofstream.submitter.service import Submitter

logger = logging.getLogger(__name__)

STORE_FILE = "proofstream.sqlite3"
LIVE_CACHE_S = 2.0
"""How long the gateway trusts its last answer to "is this config version live?"."""


@dataclass(frozen=True)
class Roles:
    """The accounts the node acts as. On a real chain one operator key plays every role."""

    owner: LocalAccount
    """Deploys and owns the project; registers devices."""
    sequencer: LocalAccount
    prover: LocalAccount


def roles_for(settings: Settings, *, local_chain: bool, env: Mapping[str, str]) -> Roles:
    """The operator's key when one is given; anvil's development accounts only on a local chain.

    ``local_chain`` is True only for an anvil proofstream itself started (this node, or a project command
    on the project's own ``.proofstream/`` chain), never a guess from the chain id: anyone can run a chain
    with anvil's id 31337, and the development keys are public.
    """
    if settings.has_key(env) or not local_chain:
        account = Account.from_key(settings.private_key(env))
        return Roles(account, account, account)
    logger.warning("using anvil's well-known development accounts (local chain only)")
    return Roles(owner=dev_account(0), sequencer=dev_account(0), prover=dev_account(1))


class Node:
    """Every role of proofstream in one process. ``start()``, then ``stop()`` (or use it as a context manager)."""

    def __init__(
        self,
        settings: Settings,
        *,
        project: ProjectSpec,
        env: Mapping[str, str] | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self._env = os.environ if env is None else env
        self.project = project
        self.schema = project.schema
        self._on_step = on_step or (lambda _: None)
        self.data_dir = Path(settings.data_dir).expanduser().resolve()
        self._localnet: Localnet | None = None
        self.local_chain = False
        """True once this node started its own anvil: the one fact every local-only shortcut is decided on."""
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._flush = threading.Event()
        self._server: uvicorn.Server | None = None
        self._attesters: list[AttesterProcesses] = []
        self._live_cache: dict[tuple[ProjectId, ConfigVersion], tuple[bool, float]] = {}
        self.gateway_url = ""

    # --- start-up ------------------------------------------------------------------------------------------------

    def start(self) -> Node:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        rpc_url = self.settings.chain.rpc_url
        if self.settings.is_local_chain:
            url_file = local_url_path(self.data_dir)
            running = running_local_chain(self.data_dir)
            if running is not None:
                raise ConfigError(
                    f"another node already runs the local chain of {self.data_dir} at {running}: stop it first "
                    f"(or, if it was killed, stop that anvil and delete {url_file})"
                )
            self._on_step("starting a local anvil chain")
            self._localnet = Localnet(state_path=local_state_path(self.data_dir)).start()
            rpc_url = self._localnet.rpc_url
            url_file.write_text(rpc_url + "\n")
        self.local_chain = self._localnet is not None
        self.roles = roles_for(self.settings, local_chain=self.local_chain, env=self._env)
        self.client = ChainClient(rpc_url, self.roles.owner)
        cache = Path(self.settings.cache_dir).expanduser() if self.settings.cache_dir else None
        ptau = Path(self.settings.prover.ptau).expanduser() if self.settings.prover.ptau else None
        self._cache, self._ptau = cache, ptau
        self.build: ProjectBuild = self._build(self.project)
        self.compilation = self.build.compilation
        self.manifest = self._deployment()
        self.deployment = self.manifest.projects[0]
        self.core: CoreContracts = attach_core(self.client, self.manifest.core, self.compilation)
        self.token = RewardToken.at(self.client, self.deployment.reward_token, self.compilation)
        self.versions = self._live_versions()
        self.schema = self.versions[max(self.versions)].spec.schema  # what devices sign under now
        self._register_prover()
        self._open_store()
        self._build_roles()
        self._start_attesters(rpc_url)
        self._start_gateway()
        self._start_loops()
        logger.info("node started gateway=%s project=%s chain=%s", self.gateway_url, self.deployment.project, rpc_url)
        return self

    def _build(self, spec: ProjectSpec) -> ProjectBuild:
        return build_project(
            spec, cache_dir=self._cache, ptau=self._ptau, out_dir=self.data_dir / "build", on_step=self._on_step
        )

    def _manifest_path(self) -> Path:
        return manifest_path(self.data_dir, self.client.chain_id)

    def _live_versions(self) -> dict[ConfigVersion, ProjectBuild]:
        """Every config version that still takes tasks, built from the files kept when it was deployed.

        Messages signed under an older version in its grace period are proven with that version's circuit and
        logic; the project folder as it is now serves only the version whose content hash it matches.
        """
        registry = self.core.projects
        project = self.deployment.project
        current = registry.current_version(project)
        versions: dict[ConfigVersion, ProjectBuild] = {}
        for version in range(1, current + 1):
            if not registry.is_live(project, version):
                continue
            on_chain = registry.config_hash_of(project, version)
            kept = version_dir(self.data_dir, self.client.chain_id, version)
            if self.build.config_hash == on_chain:
                versions[ConfigVersion(version)] = self.build
            elif kept.is_dir():
                if version == current:
                    self._on_step(
                        f"the project folder differs from version {version} on chain: running the deployed files "
                        f"kept in {kept}; `proofstream project upgrade` registers your changes"
                    )
                build = self._build(load_project(kept))
                if build.config_hash != on_chain:
                    raise ConfigError(f"the files kept in {kept} do not hash to version {version}'s config hash")
                versions[ConfigVersion(version)] = build
            else:
                logger.warning("no files for live version %d of project %d; its tasks wait", version, project)
        if current not in versions:
            raise ConfigError(
                f"the project folder {self.project.root} is not version {current}, the current version of project "
                f"{project} on chain {self.client.chain_id}: run `proofstream project upgrade` to register it"
            )
        capacity = versions[ConfigVersion(current)].spec.capacity
        for version, build in versions.items():
            if build.spec.capacity != capacity:
                # One sequencer cuts every version's tasks at one capacity; a circuit of another size rejects them.
                raise ConfigError(
                    f"live version {version} has capacity {build.spec.capacity} but version {current} has "
                    f"{capacity}: retire version {version} (`proofstream project retire {version}`) first"
                )
        return versions

    def _deployment(self) -> DeploymentManifest:
        path = self._manifest_path()
        manifest = read_manifest(path, self.client)
        if manifest is not None and manifest.projects:
            return manifest
        if not self.local_chain:
            # Deploying on its own is for the chain this node started; on any other chain the operator deploys
            # (and sees the gas and the chain id first) with `proofstream project deploy --chain URL`.
            raise ConfigError(
                f"project {self.project.name} is not deployed on chain {self.client.chain_id} (no {path}): "
                "run `proofstream project deploy --chain URL` first"
            )
        self._on_step("deploying the contracts and registering the project")
        manifest, _ = deploy_built_project(
            self.client,
            self.build,
            manifest,
            owner=self.roles.owner,
            sequencer=self.roles.sequencer.address,
            attesters=local_attesters(self.project.provers) if self.project.backend == "attest" else (),
            on_step=self._on_step,
        )
        snapshot_version(self.project, self.data_dir, self.client.chain_id, 1)
        write_manifest(path, manifest)
        return manifest

    def _register_prover(self) -> None:
        if not self.core.provers.is_prover(self.roles.prover.address):
            self.core.provers.register_prover(self.roles.prover.address, sender=self.roles.prover)

    def _open_store(self) -> None:
        self.store = SqliteStore(self.data_dir / STORE_FILE)
        domain = Domain(self.client.chain_id, self.manifest.core.device_registry)
        for version, build in self.versions.items():
            config = ProjectConfig(ProjectId(self.deployment.project), version, build.spec.schema, domain)
            self.store.upsert_project(config)

    def _build_roles(self) -> None:
        book = ChainBook(self.client, self.core, sequencer=self.roles.sequencer, prover=self.roles.prover)
        batching = self.settings.batching
        current = self.versions[max(self.versions)].spec  # the deployed current version, whatever the folder holds
        window = batching.window_seconds or current.window_seconds
        self._late_limit_s = window + batching.grace_seconds  # the gateway's clock window never refuses less
        self.sequencer = Sequencer(
            self.store,
            book,
            project=self.deployment.project,
            depth=current.depth,
            policy=BatchPolicy(current.capacity, window, batching.grace_seconds),
            prover=Address(self.roles.prover.address),
            deadline_blocks=self.settings.chain.deadline_blocks,
        )
        self.provers = [
            ProverWorker(
                self.store,
                self._backend(version, build),
                prover=self.roles.prover.address,
                n_public=build.spec.n_public,
                constraints=build.artifacts.constraints if build.artifacts is not None else None,
                anchors=book,
                config=version,
                signing=self._signing() if build.spec.circuit_signatures else None,
            )
            for version, build in self.versions.items()
        ]
        self.submitter = Submitter(self.store, book, deadline_blocks=self.settings.chain.deadline_blocks)
        self.indexer = Indexer(self.store, book, start_block=self.manifest.core.start_block)
        released = self.provers[0].release_orphans()
        if released:
            logger.info("released tasks a previous run left unproven count=%d", released)

    def _signing(self) -> DeviceSigning:
        """For a circuit that checks device signatures: the chain and registry they were signed under, and the
        store's copy of each device's registered BabyJubJub key (the indexer records it)."""
        return DeviceSigning(self.client.chain_id, int(self.manifest.core.device_registry, 16), self.store)

    def _backend(self, version: ConfigVersion, build: ProjectBuild) -> ProverBackend:
        if build.artifacts is not None:
            return Groth16Backend(ProjectCircuit.of(build.spec), build.artifacts)
        verifier = AttestVerifier.at(
            self.client, self.core.projects.verifier_of(self.deployment.project, version), self.compilation
        )
        return AttestBackend(
            self.store,
            IsolatedLogic(build.spec.logic_path),
            chain_id=self.client.chain_id,
            router=self.manifest.core.router,
            config_version=version,
            attesters=verifier.attesters(),
            quorum=verifier.quorum(),
            is_registered=self.core.provers.is_prover,
        )

    def _start_attesters(self, rpc_url: str) -> None:
        """On the chain this node started, run the attesting provers of every live attest version as children."""
        attest_versions = [(v, b) for v, b in self.versions.items() if b.artifacts is None]
        if not attest_versions:
            return
        if not self.local_chain or self.settings.has_key(self._env):
            logger.info("attest project on a real chain: run `proofstream attester run` on each prover machine")
            return
        for version, build in attest_versions:
            self._on_step(f"starting {build.spec.provers} attesting provers for version {version}")
            launch = AttesterLaunch(
                project_dir=build.spec.root,
                store=self.data_dir / STORE_FILE,
                rpc_url=rpc_url,
                router=self.manifest.core.router,
                device_registry=self.manifest.core.device_registry,
                chain_id=self.client.chain_id,
                project_id=self.deployment.project,
                poll_s=self.settings.chain.poll_seconds,
            )
            keys = [DEV_PRIVATE_KEYS[LOCAL_ATTESTER_FIRST + i] for i in range(build.spec.provers)]
            group = AttesterProcesses(launch, keys, self.data_dir / "attesters" / str(version))
            self._attesters.append(group.start())

    def _start_gateway(self) -> None:
        gateway = self.settings.gateway
        # Anyone may ask to be registered (the node pays the gas): on by itself only on the chain this node started.
        open_registration = gateway.open_registration or self.local_chain
        app = create_app(
            self.store,
            max_body_bytes=gateway.max_body_bytes,
            register=self._register_device if open_registration else None,
            content=self._content,
            live=self._version_live,
            clock_window=ClockWindow(gateway.max_future_seconds, max(gateway.max_past_seconds, self._late_limit_s)),
            task_manager=self.manifest.core.task_manager,
        )
        config = uvicorn.Config(app, host=gateway.host, port=gateway.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        thread = threading.Thread(target=self._server.run, name="gateway", daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the gateway could not listen on {gateway.host}:{gateway.port}")
            time.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.gateway_url = f"http://{gateway.host}:{port}"
        self._threads.append(thread)

    def _content(self, project: ProjectId, version: ConfigVersion) -> dict[str, bytes] | None:
        """The gateway's content source: the files behind each live version's on-chain config hash."""
        build = self.versions.get(version) if project == self.deployment.project else None
        if build is None:
            return None
        vkey = build.artifacts.vkey.read_bytes() if build.artifacts is not None else None
        return build.spec.content_files(vkey)

    def _version_live(self, project: ProjectId, version: ConfigVersion) -> bool:
        """The gateway's question for every new message: is its config version still live on chain? Cached a
        couple of seconds: a grace period ends at a block, and a message arriving that close to it is held back
        by the sequencer instead (never lost)."""
        now = time.monotonic()
        cached = self._live_cache.get((project, version))
        if cached is not None and now - cached[1] < LIVE_CACHE_S:
            return cached[0]
        live = self.core.projects.is_live(project, version)
        self._live_cache[(project, version)] = (live, now)
        return live

    def _register_device(self, request: DeviceRegistrationRequest) -> str:
        """The gateway's registrar: send the device's own signed binding to the DeviceRegistry as project owner."""
        try:
            if request.public_key is not None:  # a BabyJubJub device: its key is registered with it
                r8x, r8y, s = (int.from_bytes(request.signature[i : i + 32], "big") for i in (0, 32, 64))
                receipt = self.core.devices.register_bjj_device(
                    request.project, *request.public_key, request.owner, r8x, r8y, s, sender=self.roles.owner
                )
            else:
                receipt = self.core.devices.register_device(
                    request.project, request.device, request.owner, request.signature, sender=self.roles.owner
                )
        except TransactionRevertedError as exc:
            if exc.error_name == "DeviceAlreadyRegistered":
                raise ProofstreamError(str(exc), code="already_registered") from exc
            raise
        return receipt.tx_hash

    def _start_loops(self) -> None:
        for name, step in (("pipeline", self._pipeline_step), ("prover", self._prover_step)):
            thread = threading.Thread(target=self._loop, args=(name, step), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    # --- the loops -----------------------------------------------------------------------------------------------

    def _loop(self, name: str, step: Callable[[], bool]) -> None:
        while not self._stopping.is_set():
            try:
                busy = step()
            except ProofstreamError as exc:
                logger.error("%s step failed, retrying: %s", name, exc)
                busy = False
            except Exception:
                logger.exception("%s step crashed, retrying", name)
                busy = False
            if not busy:
                self._stopping.wait(self.settings.chain.poll_seconds)

    def _pipeline_step(self) -> bool:
        self.indexer.tick()
        created = self.sequencer.tick(flush=self._flush.is_set())
        settled = self.submitter.tick()
        return bool(created or settled)

    def _prover_step(self) -> bool:
        busy = False
        for worker in self.provers:  # every version's worker gets its turn, busy or not
            busy = worker.tick() is not None or busy
        return busy

    def flush(self) -> None:
        """Cut every open batch now instead of waiting for its window to close (the demo's last step)."""
        self._flush.set()

    # --- shutdown ------------------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        for thread in self._threads:
            thread.join(timeout=30)
        for group in self._attesters:
            group.stop()
        if hasattr(self, "store"):
            self.store.close()
        if self._localnet is not None:
            self._localnet.stop()
            local_url_path(self.data_dir).unlink(missing_ok=True)

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["Node", "ProjectDeployment", "Roles", "roles_for"]
