"""The composition root: builds every role from the settings and runs them in one process.

    gateway (uvicorn thread)  ->  store (SQLite)  <-  pipeline thread: indexer -> sequencer -> submitter
                                                  <-  prover thread(s)

On a local chain (no ``chain.rpc_url``) the node starts anvil itself, deploys the contracts and registers the
project and its prover the first time, and writes a deployments manifest into the data folder; later starts
reuse it. Every loop step is wrapped so one failure is logged and retried on the next tick, never fatal.
"""

from __future__ import annotations

import hashlib
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

from proofstream.chain.accounts import dev_account
from proofstream.chain.book import ChainBook
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts import CoreContracts, RewardToken
from proofstream.chain.deploy import (
    VERIFIER_SOURCE_NAME,
    DeploymentManifest,
    ProjectDeployment,
    attach_core,
    deploy_core,
    deploy_project,
)
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import compile_core
from proofstream.domain.batching import BatchPolicy
from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import TRACKER_SCHEMA, Schema
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ConfigError, ProofstreamError
from proofstream.indexer.service import Indexer
from proofstream.ingest.http import create_app
from proofstream.projects.tracker_distance import TRACKER_DISTANCE, TrackerDistance
from proofstream.prover.circuits import CircuitArtifacts, build_circuit
from proofstream.prover.groth16 import Groth16Backend
from proofstream.prover.service import ProverWorker
from proofstream.sequencer.service import Sequencer
from proofstream.settings import Settings
from proofstream.store.ports import ProjectConfig
from proofstream.store.sqlite import SqliteStore
from proofstream.submitter.service import Submitter

logger = logging.getLogger(__name__)

LOCAL_CHAIN_ID = 31337
"""anvil's chain id: the only chain on which the well-known development accounts are used."""
DEMO_RATE = 10**15
"""Reward token wei per metre on the local chain: 1 token per kilometre."""


@dataclass(frozen=True)
class Roles:
    """The accounts the node acts as. On a real chain one operator key plays every role."""

    owner: LocalAccount
    """Deploys and owns the project; registers devices."""
    sequencer: LocalAccount
    prover: LocalAccount


def roles_for(settings: Settings, chain_id: int, env: Mapping[str, str]) -> Roles:
    """The operator's key when one is given; anvil's development accounts only on the local chain."""
    if settings.has_key(env) or chain_id != LOCAL_CHAIN_ID:
        account = Account.from_key(settings.private_key(env))
        return Roles(account, account, account)
    logger.warning("using anvil's well-known development accounts (local chain only)")
    return Roles(owner=dev_account(0), sequencer=dev_account(0), prover=dev_account(1))


def project_config_hash(project: TrackerDistance, artifacts: CircuitArtifacts, schema: Schema) -> bytes:
    """What the chain records as the project's content: circuit, verification key, schema and reference logic."""
    digest = hashlib.sha256()
    for part in (
        project.circuit_path.read_bytes(),
        artifacts.vkey.read_bytes(),
        repr(schema.to_json()).encode(),
        (project.circuit_path.parent / "logic.py").read_bytes(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.digest()


class Node:
    """Every role of proofstream in one process. ``start()``, then ``stop()`` (or use it as a context manager)."""

    def __init__(
        self,
        settings: Settings,
        *,
        env: Mapping[str, str] | None = None,
        project: TrackerDistance = TRACKER_DISTANCE,
        on_step: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self._env = os.environ if env is None else env
        self.project = project
        self.schema = TRACKER_SCHEMA
        self._on_step = on_step or (lambda _: None)
        self.data_dir = Path(settings.data_dir).expanduser().resolve()
        self._localnet: Localnet | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._flush = threading.Event()
        self._server: uvicorn.Server | None = None
        self.gateway_url = ""

    # --- start-up ------------------------------------------------------------------------------------------------

    def start(self) -> Node:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        rpc_url = self.settings.chain.rpc_url
        if self.settings.is_local_chain:
            self._on_step("starting a local anvil chain")
            self._localnet = Localnet(state_path=self.data_dir / "anvil-state.json").start()
            rpc_url = self._localnet.rpc_url
        probe = ChainClient(rpc_url, dev_account(0))
        self.roles = roles_for(self.settings, probe.chain_id, self._env)
        self.client = ChainClient(rpc_url, self.roles.owner)
        self._on_step("building the circuit (cached by content hash)")
        cache = Path(self.settings.cache_dir).expanduser() if self.settings.cache_dir else None
        ptau = Path(self.settings.prover.ptau).expanduser() if self.settings.prover.ptau else None
        self.artifacts = build_circuit(self.project.circuit_path, "tracker_distance", cache, ptau=ptau)
        self.compilation = compile_core({VERIFIER_SOURCE_NAME: self.artifacts.verifier_sol.read_text()})
        self.manifest = self._deployment()
        self.deployment = self.manifest.projects[0]
        self.core: CoreContracts = attach_core(self.client, self.manifest.core, self.compilation)
        self.token = RewardToken.at(self.client, self.deployment.reward_token, self.compilation)
        self._register_prover()
        self._open_store()
        self._build_roles()
        self._start_gateway()
        self._start_loops()
        logger.info("node started gateway=%s project=%s chain=%s", self.gateway_url, self.deployment.project, rpc_url)
        return self

    def _manifest_path(self) -> Path:
        return self.data_dir / f"deployments-{self.client.chain_id}.json"

    def _deployment(self) -> DeploymentManifest:
        path = self._manifest_path()
        if path.exists():
            manifest = DeploymentManifest.from_json(path.read_text())
            if self.client.code_at(manifest.core.router):
                return manifest
            logger.warning("the chain has no contracts at the manifest's addresses; deploying afresh")
        if not (self.settings.is_local_chain or self.client.chain_id == LOCAL_CHAIN_ID):
            raise ConfigError(f"no deployment of proofstream on chain {self.client.chain_id} in {path}")
        self._on_step("compiling and deploying the contracts")
        core = deploy_core(self.client, compilation=self.compilation, sender=self.roles.owner)
        project = deploy_project(
            self.client,
            core,
            self.artifacts.verifier_sol.read_text(),
            self.project.n_public,
            DEMO_RATE,
            config_hash=project_config_hash(self.project, self.artifacts, self.schema),
            uri=f"proofstream:{self.project.name}",
            sequencer=self.roles.sequencer.address,
            owner=self.roles.owner,
            compilation=self.compilation,
        )
        manifest = DeploymentManifest(core=core).with_project(project)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(manifest.to_json())
        tmp.replace(path)
        return manifest

    def _register_prover(self) -> None:
        if not self.core.provers.is_prover(self.roles.prover.address):
            self.core.provers.register_prover(self.roles.prover.address, sender=self.roles.prover)

    def _open_store(self) -> None:
        self.store = SqliteStore(self.data_dir / "proofstream.sqlite3")
        version = self.core.projects.current_version(self.deployment.project)
        self.store.upsert_project(
            ProjectConfig(
                ProjectId(self.deployment.project),
                ConfigVersion(version),
                self.schema,
                Domain(self.client.chain_id, self.manifest.core.device_registry),
            )
        )

    def _build_roles(self) -> None:
        book = ChainBook(self.client, self.core, sequencer=self.roles.sequencer, prover=self.roles.prover)
        batching = self.settings.batching
        self.sequencer = Sequencer(
            self.store,
            book,
            project=self.deployment.project,
            depth=self.project.depth,
            policy=BatchPolicy(self.project.capacity, batching.window_seconds, batching.grace_seconds),
            prover=Address(self.roles.prover.address),
            deadline_blocks=self.settings.chain.deadline_blocks,
        )
        self.prover = ProverWorker(
            self.store,
            Groth16Backend(self.project, self.artifacts),
            prover=self.roles.prover.address,
            n_public=self.project.n_public,
            constraints=self.artifacts.constraints,
        )
        self.submitter = Submitter(self.store, book)
        self.indexer = Indexer(self.store, book, start_block=self.manifest.core.start_block)
        released = self.prover.release_orphans()
        if released:
            logger.info("released tasks a previous run left unproven count=%d", released)

    def _start_gateway(self) -> None:
        gateway = self.settings.gateway
        app = create_app(self.store, max_body_bytes=gateway.max_body_bytes)
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
        return self.prover.tick() is not None

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
        if hasattr(self, "store"):
            self.store.close()
        if self._localnet is not None:
            self._localnet.stop()

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["Node", "ProjectDeployment", "Roles", "roles_for"]
