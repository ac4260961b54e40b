"""A running node: the gateway in a uvicorn thread (and, with ``mqtt.broker_url``, the MQTT transport in its
own), the pipeline and prover loops in theirs.

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

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import uvicorn

from proofstream import logs as log
from proofstream.attester.launcher import AttesterProcesses
from proofstream.chain.accounts import DEV_PRIVATE_KEYS
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.core import CoreContracts
from proofstream.chain.contracts.rewards import RewardDApp, RewardToken
from proofstream.chain.deploy import DeploymentManifest, ProjectDeployment
from proofstream.chain.gateway import ChainDeviceStates, ChainLiveness, ChainRegistrar
from proofstream.chain.localnet import Localnet
from proofstream.chain.roles import Roles, roles_for
from proofstream.domain.schema import Schema
from proofstream.domain.types import ConfigVersion
from proofstream.errors import ConfigError, ProofstreamError
from proofstream.ingest.http import create_app
from proofstream.ingest.intake import Intake
from proofstream.ingest.mqtt import MqttGateway, admit_batched, admit_each
from proofstream.ingest.recovery import RecoveryPool
from proofstream.ingest.validation import ClockWindow
from proofstream.node.wiring import ChainAccess, Wiring, wire
from proofstream.projects.build import ProjectBuild
from proofstream.projects.deploy import LOCAL_ATTESTER_FIRST
from proofstream.projects.localchain import local_state_path, local_url_path, running_local_chain
from proofstream.projects.spec import ProjectSpec
from proofstream.settings import Settings
from proofstream.store.ports import Store

logger = logging.getLogger(__name__)

GATEWAY_START_S = 15.0


class Node:
    """Every role of proofstream in one process. ``start()``, then ``stop()`` (or use it as a context manager).

    What the node holds (``store``, ``core``, ...) is there between ``start()`` and ``stop()``; what it started
    is stopped in the reverse order, whatever point a failed start reached."""

    def __init__(
        self,
        settings: Settings,
        *,
        project: ProjectSpec,
        env: Mapping[str, str] | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.project = project
        self._env = os.environ if env is None else env
        self._on_step = on_step or (lambda _: None)
        self.data_dir = Path(settings.data_dir).expanduser().resolve()
        self._wiring: Wiring | None = None
        self._recovery: RecoveryPool | None = None
        self._resources = contextlib.ExitStack()
        self._stopping = threading.Event()
        self._flush = threading.Event()
        self._attesters: list[AttesterProcesses] = []
        self.gateway_url = ""

    # --- what a started node holds ---------------------------------------------------------------------------------

    @property
    def wiring(self) -> Wiring:
        if self._wiring is None:
            raise ConfigError("the node is not running: call start() first")
        return self._wiring

    @property
    def local_chain(self) -> bool:
        """True once this node started its own anvil."""
        return self._wiring is not None and self._wiring.chain.local

    @property
    def roles(self) -> Roles:
        return self.wiring.chain.roles

    @property
    def client(self) -> ChainClient:
        return self.wiring.chain.client

    @property
    def store(self) -> Store:
        return self.wiring.store

    @property
    def core(self) -> CoreContracts:
        return self.wiring.core

    @property
    def token(self) -> RewardToken:
        return self.wiring.token

    @property
    def dapp(self) -> RewardDApp:
        return self.wiring.dapp

    @property
    def manifest(self) -> DeploymentManifest:
        return self.wiring.manifest

    @property
    def deployment(self) -> ProjectDeployment:
        return self.wiring.deployment

    @property
    def build(self) -> ProjectBuild:
        return self.wiring.build

    @property
    def versions(self) -> dict[ConfigVersion, ProjectBuild]:
        return self.wiring.versions

    @property
    def schema(self) -> Schema:
        """What devices sign under now (the project folder's schema until the node has started)."""
        return self.project.schema if self._wiring is None else self._wiring.schema

    # --- start-up ------------------------------------------------------------------------------------------------

    def start(self) -> Node:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        local = self.settings.is_local_chain
        rpc_url = self._start_local_chain() if local else self.settings.chain.rpc_url
        assert rpc_url is not None  # settings: no rpc_url means a local chain
        roles = roles_for(self.settings, local_chain=local, env=self._env)
        chain = ChainAccess(ChainClient(rpc_url, roles.owner), roles, local)
        self._wiring = wire(self.settings, self.project, self.data_dir, chain, self._on_step)
        self._resources.callback(self._wiring.store.close)
        self._resources.callback(self._wiring.pipeline.close)  # after the loops stop (callbacks run last first)
        self._start_attesters(rpc_url)
        workers = self.settings.gateway.recovery_workers
        # One pool for both transports; closed after they stop (callbacks run last first), before the store.
        self._recovery = RecoveryPool(workers) if workers else None
        if self._recovery is not None:
            self._resources.callback(self._recovery.close)
            self._recovery.warm()
        self._start_gateway()
        self._start_mqtt()
        self._start_loops()
        log.info(logger, "node started", gateway=self.gateway_url, project=self.deployment.project, chain=rpc_url)

    def _start_local_chain(self) -> str:
        url_file = local_url_path(self.data_dir)
        running = running_local_chain(self.data_dir)
        if running is not None:
            raise ConfigError(
                f"another node already runs the local chain of {self.data_dir} at {running}: stop it first "
                f"(or, if it was killed, stop that anvil and delete {url_file})"
            )
        self._on_step("starting a local anvil chain")
        localnet = Localnet(state_path=local_state_path(self.data_dir)).start()
        self._resources.callback(url_file.unlink, missing_ok=True)
        self._resources.callback(localnet.stop)
        url_file.write_text(localnet.rpc_url + "\n")
        return localnet.rpc_url

    def _start_attesters(self, rpc_url: str) -> None:
        """On the chain this node started, run the attesting provers of every live attest version as children."""
        launches = self.wiring.attester_launches(rpc_url, self.settings.poll_seconds)
        if not launches:
            return
        if not self.local_chain or self.settings.has_key(self._env):
            log.info(logger, "attest project on a real chain: run `proofstream attester run` on each prover machine")
            return
        for version, count, launch in launches:
            self._on_step(f"starting {count} attesting provers for version {version}")
            keys = [DEV_PRIVATE_KEYS[LOCAL_ATTESTER_FIRST + i] for i in range(count)]
            group = AttesterProcesses(launch, keys, self.data_dir / "attesters" / str(version))
            self._resources.callback(group.stop)
            self._attesters.append(group.start())

    def _start_gateway(self) -> None:
        gateway = self.settings.gateway
        wiring = self.wiring
        # Anyone may ask to be registered (the node pays the gas): on by itself only on the chain this node started.
        open_registration = gateway.open_registration or self.local_chain
        registrar = ChainRegistrar(wiring.core.devices, self.roles.owner)
        app = create_app(
            wiring.store,
            max_body_bytes=gateway.max_body_bytes,
            max_batch_body_bytes=gateway.max_batch_body_bytes,
            max_batch_messages=gateway.max_batch_messages,
            registrar=registrar if open_registration or gateway.voucher_registration else None,
            owner_registration=open_registration,
            content=wiring,
            liveness=ChainLiveness(wiring.core.projects, confirmations=self.settings.confirmations),
            clock_window=self._clock_window(),
            task_manager=wiring.manifest.core.task_manager,
            w3bstream=wiring.w3bstream(),
            device_states=ChainDeviceStates(wiring.core.devices),
            recovery=self._recovery,
        )
        config = uvicorn.Config(app, host=gateway.host, port=gateway.port, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="gateway", daemon=True)
        thread.start()
        self._resources.callback(thread.join, timeout=30)
        self._resources.callback(setattr, server, "should_exit", True)
        deadline = time.monotonic() + GATEWAY_START_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the gateway could not listen on {gateway.host}:{gateway.port}")
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        self.gateway_url = f"http://{gateway.host}:{port}"

    def _clock_window(self) -> ClockWindow:
        gateway = self.settings.gateway
        return ClockWindow(gateway.max_future_seconds, max(gateway.max_past_seconds, self.wiring.late_limit_s))

    def _start_mqtt(self) -> None:
        """With ``mqtt.broker_url`` set, the MQTT transport beside HTTP: the same admission, the same store."""
        settings = self.settings.mqtt
        if not settings.broker_url:
            return
        intake = Intake(
            self.wiring.store,
            liveness=ChainLiveness(self.wiring.core.projects, confirmations=self.settings.confirmations),
            clock_window=self._clock_window(),
            recovery=self._recovery,
        )
        admit = admit_batched(intake) if settings.batch > 1 else admit_each(intake)
        subscriber = MqttGateway(
            settings, admit, max_body_bytes=self.settings.gateway.max_body_bytes, max_batch=settings.batch
        )
        # Registered after the store's close, so it stops (and stops acknowledging) before the store closes.
        self._resources.callback(subscriber.stop)
        subscriber.start()

    def _start_loops(self) -> None:
        pipeline = self.wiring.pipeline

        def pipeline_step() -> bool:
            pipeline.indexer.tick()
            created = pipeline.sequencer.tick(flush=self._flush.is_set())
            settled = pipeline.submitter.tick()
            return bool(created or settled)

        def prover_step() -> bool:
            busy = False
            for worker in pipeline.provers:  # every version's worker gets its turn, busy or not
                busy = worker.tick() is not None or busy
            return busy

        # prover.workers threads tick the same workers: a task's claim is a compare-and-set, so each thread proves
        # another task (ProverWorker.tick skips the ones another thread took).
        provers = [(f"prover-{i + 1}" if i else "prover", prover_step) for i in range(self.settings.prover.workers)]
        for name, step in (("pipeline", pipeline_step), *provers):
            thread = threading.Thread(target=self._loop, args=(name, step), name=name, daemon=True)
            thread.start()
            self._resources.callback(thread.join, timeout=30)
        self._resources.callback(self._stopping.set)

    # --- the loops -----------------------------------------------------------------------------------------------

    def _loop(self, name: str, step: Callable[[], bool]) -> None:
        while not self._stopping.is_set():
            try:
                busy = step()
            except ProofstreamError as exc:
                log.error(logger, "step failed, retrying", loop=name, code=exc.code, error=exc)
                busy = False
            except Exception:
                log.error(logger, "step crashed, retrying", loop=name, exc_info=True)
                busy = False
            if not busy:
                self._stopping.wait(self.settings.poll_seconds)

    def flush(self) -> None:
        """Cut every open batch now instead of waiting for its window to close (the demo's last step)."""
        self._flush.set()

    # --- shutdown ------------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop what was started, last first: loops, MQTT, gateway, attesters, store, the local chain. Idempotent."""
        self._stopping.set()
        self._resources.close()
        self._resources = contextlib.ExitStack()
        self._wiring = None

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
