"""``proofstream attester run``: one attester of an ``attest`` project, as its own process with its own key.

    proofstream attester run --project DIR --store PATH --key-file FILE --rpc-url URL --router ADDR --chain-id N
        [--device-registry ADDR]

The project's code never runs in this process, not even at start-up: the project folder is read (and its
logic imported, to learn its outputs) by a child process, and every task's logic runs in a child too
(:mod:`proofstream.prover.isolated`). This process holds the key, talks to the chain and the store.

What the attester checks device signatures against never comes from the store: the message schema is the
project folder's own (proofstream.toml, covered by the content hash the chain holds), and the domain is the
RPC's chain id with the DeviceRegistry named by ``--device-registry`` or, without it, by the deployments
manifest in the project folder (``.proofstream/deployments-<chain id>.json``), checked against the chain.
"""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from proofstream import logs as log
from proofstream.cli.output import LogJson, fail, service_process
from proofstream.domain.schema import Schema
from proofstream.domain.w3bstream import W3bConfig
from proofstream.errors import ConfigError, ProofstreamError

__all__ = ["ProjectFacts", "attester_app", "describe_project"]

attester_app = typer.Typer(
    no_args_is_help=True, help="Attesters of attest projects: re-check each task, re-run its logic, sign the result."
)
console = Console(stderr=True)
logger = logging.getLogger(__name__)


@attester_app.callback()
def _group() -> None:
    """Attesters of attest projects: re-check each task, re-run its logic, sign the result."""
    # A callback keeps `run` a sub-command even while it is the only one (typer would fold it otherwise).


DESCRIBE_TIMEOUT_S = 60.0

_DESCRIBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from proofstream.errors import ProofstreamError
from proofstream.projects.spec import load_project
try:
    spec = load_project(sys.argv[2])
    facts = {"name": spec.name, "backend": spec.backend, "capacity": spec.capacity, "quorum": spec.quorum,
             "provers": spec.provers, "logic_path": str(spec.logic_path), "outputs": list(spec.outputs),
             "config_hash": spec.content_hash().hex(), "schema": spec.schema.to_json(),
             "w3bstream": None if spec.w3bstream is None else spec.w3bstream.to_json()}
except ProofstreamError as exc:
    facts = {"error": str(exc)}
print(json.dumps(facts))
"""
"""Loads the project in a child process: ``load_project`` imports logic.py, which must not run beside the key."""


@dataclass(frozen=True)
class ProjectFacts:
    """What an attester needs to know of its project folder."""

    name: str
    backend: str
    capacity: int
    quorum: int
    provers: int
    logic_path: Path
    outputs: tuple[str, ...]
    config_hash: bytes
    """``ProjectSpec.content_hash()``: must be the version's config hash on chain."""
    schema: Schema
    """The message schema of the folder's proofstream.toml (what its content hash covers)."""
    w3bstream: W3bConfig | None = None
    """Its ``[w3bstream]`` section, if any."""


def describe_project(path: Path) -> ProjectFacts:
    """Load the project folder ``path`` in a separate Python process; ConfigError says what to fix."""
    import proofstream

    root = str(Path(proofstream.__file__).resolve().parent.parent)
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _DESCRIBE, root, str(path)],
            capture_output=True,
            timeout=DESCRIBE_TIMEOUT_S,
            check=False,
        )
        facts = json.loads(done.stdout.decode().strip().splitlines()[-1])
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"loading the project {path} took longer than {DESCRIBE_TIMEOUT_S} s") from exc
    except (ValueError, IndexError) as exc:
        tail = done.stderr.decode(errors="replace")[-1500:]
        raise ConfigError(f"the project {path} cannot be loaded: {tail}") from exc
    if "error" in facts:
        raise ConfigError(str(facts["error"]))
    return ProjectFacts(
        name=str(facts["name"]),
        backend=str(facts["backend"]),
        capacity=int(facts["capacity"]),
        quorum=int(facts["quorum"]),
        provers=int(facts["provers"]),
        logic_path=Path(facts["logic_path"]),
        outputs=tuple(str(o) for o in facts["outputs"]),
        config_hash=bytes.fromhex(facts["config_hash"]),
        schema=Schema.from_json(facts["schema"]),
        w3bstream=None if facts.get("w3bstream") is None else W3bConfig.from_json(facts["w3bstream"]),
    )


def _read_key(path: Path) -> bytes:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="utf-8").strip().removeprefix("0x")
    except OSError as exc:
        raise ConfigError(f"cannot read the key file {path}: {exc.strerror}") from exc
    if mode & 0o077:
        log.warning(logger, "attester key file is readable by others (chmod 600 it)", path=path, mode=f"{mode:o}")
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) != 32:
        raise ConfigError(f"{path} must hold a secp256k1 private key as 64 hex digits")
    return secret


def _manifest_device_registry(project: Path, chain_id: int, router: str) -> str:
    """The DeviceRegistry of the deployment in the project folder's own manifest for ``chain_id``, which must be
    the deployment of ``router``; ConfigError says to pass ``--device-registry`` when there is none."""
    from proofstream.chain.deploy import DeploymentManifest
    from proofstream.projects.deploy import manifest_path
    from proofstream.projects.spec import STATE_DIR

    path = manifest_path(project / STATE_DIR, chain_id)
    try:
        core = DeploymentManifest.from_json(path.read_text()).core
    except OSError as exc:
        raise ConfigError(
            f"no deployments manifest at {path}: pass --device-registry ADDRESS (the deployment's DeviceRegistry)"
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"the deployments manifest {path} cannot be read: {exc}") from exc
    if core.router.lower() != router.lower():
        raise ConfigError(
            f"the deployments manifest {path} is for router {core.router}, not {router}: pass --device-registry"
        )
    return str(core.device_registry)


@attester_app.command("run")
def run(
    project: Annotated[Path, typer.Option("--project", "-p", help="the attest project's folder")],
    store: Annotated[
        str,
        typer.Option("--store", help="the node's store, shared with it: its SQLite file, or its store.url"),
    ],
    key_file: Annotated[Path, typer.Option("--key-file", help="this attester's hex private key (mode 600)")],
    rpc_url: Annotated[str, typer.Option("--rpc-url", help="JSON-RPC endpoint of the chain")],
    router: Annotated[str, typer.Option("--router", help="the Router's address (the attestation domain)")],
    chain_id: Annotated[int, typer.Option("--chain-id", help="the chain id the RPC endpoint must report")],
    device_registry: Annotated[
        str | None,
        typer.Option(
            "--device-registry",
            help="the DeviceRegistry devices sign under (default: the project folder's deployments manifest)",
        ),
    ] = None,
    poll: Annotated[float, typer.Option("--poll", min=0.05, help="seconds between looks at the store")] = 1.0,
    project_id: Annotated[
        int | None,
        typer.Option(
            "--project-id",
            help="only this on-chain project (default: every project whose registered config hash is this folder's)",
        ),
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, max=5, help="runs of the logic per task (catches hash-order bugs)")] = 2,
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds the logic may run per task")] = 10.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    log_json: LogJson = False,
) -> None:
    """Attest every task of the project whose commitment is on chain, until interrupted."""
    from eth_account import Account

    from proofstream.attester.service import Attester, AttesterSettings
    from proofstream.chain.attest import AttesterChainView
    from proofstream.chain.client import ChainClient
    from proofstream.domain.types import ProjectId
    from proofstream.node.stores import parse_store_url
    from proofstream.prover.isolated import IsolatedLogic

    stop = service_process(verbose, log_json)
    try:
        facts = describe_project(project)
        if facts.backend != "attest":
            raise ConfigError(f"project {facts.name} uses the {facts.backend} backend; attesters serve attest projects")
        location = parse_store_url(store, Path.cwd())
        if not location.exists():
            raise ConfigError(f"no store at {location.shown}: start the node first (the attester shares its store)")
        secret = _read_key(key_file)
        client = ChainClient(rpc_url, Account.from_key(secret))
        if client.chain_id != chain_id:
            raise ConfigError(f"{rpc_url} is chain {client.chain_id}, not chain {chain_id}")
        registry = device_registry or _manifest_device_registry(project, chain_id, router)
        chain = AttesterChainView(client, router, registry)
        opened = location.open()
        attester = Attester(
            opened,
            chain,
            IsolatedLogic(facts.logic_path, timeout_s=timeout, repeat=repeat),
            secret,
            AttesterSettings(
                config_hash=facts.config_hash,
                capacity=facts.capacity,
                schema=facts.schema,
                w3bstream=facts.w3bstream,
                project=None if project_id is None else ProjectId(project_id),
            ),
        )
    except ProofstreamError as exc:
        raise fail(exc) from exc
    console.print(f"[green]attester ready[/]: {attester.address} for {facts.name}, chain {chain_id}")
    print(f"READY attester {attester.address}", flush=True)  # a line a supervisor (or a test) can wait for
    try:
        attester.run(stop, poll)
    except KeyboardInterrupt:
        pass
    finally:
        opened.close()
