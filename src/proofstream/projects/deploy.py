"""``proofstream project deploy``: put a built project on a chain, after showing what it will cost.

The deployment is first rehearsed on an anvil fork of the target chain, which measures the gas exactly
without spending anything; then it is sent for real. The result is a deployments manifest per chain id in the
project's ``.proofstream/`` folder, next to the compiler's standard-JSON input (for explorer verification) and
a snapshot of the project files of each config version (what the content hash covers, served by the gateway).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from proofstream import logs as log
from proofstream.chain.accounts import dev_account
from proofstream.chain.attest import deploy_attest_verifier
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.registries import ProjectRegistry
from proofstream.chain.deploy import (
    DeploymentManifest,
    ProjectDeployment,
    deploy_core,
    deploy_groth16_verifier,
    deploy_project,
)
from proofstream.chain.localnet import Localnet
from proofstream.domain.types import Address
from proofstream.errors import ChainUnavailableError, ConfigError
from proofstream.projects.build import ProjectBuild
from proofstream.projects.ceremony import CEREMONY_DIR, TRANSCRIPT_FILE, read_transcript
from proofstream.projects.spec import ProjectSpec

__all__ = [
    "LOCAL_ATTESTER_FIRST",
    "DeployEstimate",
    "connect",
    "deploy_built_project",
    "estimate_deployment",
    "local_attesters",
    "manifest_path",
    "read_manifest",
    "require_safe_setup",
    "snapshot_version",
    "upgrade_project",
    "version_dir",
    "write_manifest",
]

logger = logging.getLogger(__name__)


def require_safe_setup(build: ProjectBuild, *, local: bool, force: bool) -> bool:
    """Refuse a single-party Groth16 setup on a real (non-local) chain unless ``force``; True when an unsafe
    setup goes ahead because it was forced (the caller says so loudly).

    A setup counts as multi-party only when the project's finalized ceremony transcript names the very key being
    deployed (``ProjectBuild.multi_party``; docs/projects.md, Trusted setup ceremony)."""
    if local or not build.single_party_setup:
        return False
    if not force:
        raise ConfigError(
            "this project's Groth16 keys come from a single-party setup: whoever ran it could forge proofs. Run a "
            "multi-party ceremony for real funds (`proofstream ceremony init --ptau FILE`, docs/projects.md), or "
            "pass --force-unsafe-setup for a testnet",
            code="unsafe_setup",
        )
    log.warning(logger, "deploying a single-party Groth16 setup to a non-local chain (forced); unsafe for real funds")
    return True


def manifest_path(state_dir: Path, chain_id: int) -> Path:
    return state_dir / f"deployments-{chain_id}.json"


def read_manifest(path: Path, client: ChainClient) -> DeploymentManifest | None:
    """The manifest at ``path`` if the chain still has its contracts (a reset local chain has none)."""
    if not path.exists():
        return None
    manifest = DeploymentManifest.from_json(path.read_text())
    if not client.code_at(manifest.core.router):
        log.warning(logger, "the chain has no contracts at the manifest's addresses; it was reset", path=path)
        return None
    return manifest


def write_manifest(path: Path, manifest: DeploymentManifest) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(manifest.to_json() + "\n")
    tmp.replace(path)


def connect(rpc_url: str, account: LocalAccount) -> ChainClient:
    """A client for ``rpc_url``, or a ChainUnavailableError that says what to check."""
    try:
        return ChainClient(rpc_url, account)
    except ChainUnavailableError as exc:
        raise ChainUnavailableError(
            f"cannot reach the chain at {rpc_url} ({exc}). Check the URL and that the node is running and "
            "reachable from here, or deploy to a local chain with `--chain local`"
        ) from exc


def version_dir(state_dir: Path, chain_id: int, version: int) -> Path:
    """Where the files of a deployed config version are kept (see :func:`snapshot_version`)."""
    return state_dir / "versions" / str(chain_id) / str(version)


def snapshot_version(spec: ProjectSpec, state_dir: Path, chain_id: int, version: int) -> Path:
    """Copy the project's files as deployed for ``version``: what its tasks are proven and checked against,
    and what the gateway serves so anyone can recompute the version's content hash."""
    target = version_dir(state_dir, chain_id, version)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in (spec.config_path, spec.logic_path, spec.generator_path, spec.dapp_path, spec.circuit_path):
        if path.is_file():
            shutil.copy2(path, target / path.name)
    _snapshot_ceremony(spec.root / CEREMONY_DIR, target / CEREMONY_DIR)
    return target


def _snapshot_ceremony(source: Path, target: Path) -> None:
    """A finalized ceremony's transcript, final key and verification key: the version's setup, kept with it."""
    if not (source / TRANSCRIPT_FILE).is_file():
        return
    transcript = read_transcript(source)
    if transcript.final is None:
        return
    target.mkdir(parents=True)
    for name in (TRANSCRIPT_FILE, str(transcript.final["zkey"]), str(transcript.final["vkey"])):
        shutil.copy2(source / name, target / name)


def deploy_built_project(
    client: ChainClient,
    build: ProjectBuild,
    manifest: DeploymentManifest | None,
    *,
    owner: LocalAccount,
    sequencer: str,
    attesters: Sequence[str] = (),
    on_step: Callable[[str], None] | None = None,
) -> tuple[DeploymentManifest, ProjectDeployment]:
    """Deploy proofstream's core if ``manifest`` has none, then the project's verifier, token and DApp, and
    register the project (config version 1). The caller checks the setup first (:func:`require_safe_setup`)."""
    step = on_step or (lambda _: None)
    spec = build.spec
    if manifest is None:
        step("deploying proofstream's core contracts")
        manifest = DeploymentManifest(core=deploy_core(client, compilation=build.compilation, sender=owner))
    verifier: str | None = None
    if spec.backend == "attest":
        step(f"deploying the attest verifier ({spec.quorum} of {len(attesters)} provers)")
        verifier = _attest_verifier(client, build, manifest, 1, attesters, owner)
    step(f"deploying {spec.dapp_contract}, its token, and registering the project")
    deployment = deploy_project(
        client,
        manifest.core,
        build.verifier_source,
        spec.n_public,
        spec.rate,
        config_hash=build.config_hash,
        uri=f"proofstream:{spec.name}",
        sequencer=sequencer,
        verifier=verifier,
        owner=owner,
        token_name=f"{spec.name} reward",
        token_symbol=_symbol(spec.name),
        compilation=build.compilation,
        dapp_contract=spec.dapp_contract,
    )
    return manifest.with_project(deployment), deployment


def upgrade_project(
    client: ChainClient,
    build: ProjectBuild,
    manifest: DeploymentManifest,
    deployment: ProjectDeployment,
    *,
    owner: LocalAccount,
    attesters: Sequence[str] = (),
    grace_blocks: int,
    local: bool,
    force_unsafe_setup: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> int:
    """Register the built project as a new config version of ``deployment``'s project; returns the version.

    The previous version stays live for ``grace_blocks`` more blocks: messages signed under it are still batched
    and proven with its own verifier (docs/protocol.md, Versions and upgrades). Like a first deployment, a
    single-party setup goes to a chain that is not ``local`` (one proofstream started) only when forced.
    """
    require_safe_setup(build, local=local, force=force_unsafe_setup)
    step = on_step or (lambda _: None)
    spec = build.spec
    registry = ProjectRegistry.at(client, manifest.core.project_registry, build.compilation)
    current = registry.current_version(deployment.project)
    if registry.config_hash_of(deployment.project, current) == build.config_hash:
        raise ConfigError(
            f"version {current} of project {deployment.project} already has this content (config hash "
            f"0x{build.config_hash.hex()}): change the project before upgrading"
        )
    version = current + 1
    if spec.backend == "attest":
        step(f"deploying the attest verifier of version {version}")
        verifier = _attest_verifier(client, build, manifest, version, attesters, owner)
    else:
        step(f"deploying the Groth16 verifier of version {version}")
        _, verifier = deploy_groth16_verifier(client, build.compilation, spec.n_public, sender=owner)
    step(f"registering version {version} (version {current} stays live {grace_blocks} more blocks)")
    added, _ = registry.add_version(
        deployment.project, build.config_hash, f"proofstream:{spec.name}", verifier, grace_blocks, sender=owner
    )
    return int(added)


def _attest_verifier(
    client: ChainClient,
    build: ProjectBuild,
    manifest: DeploymentManifest,
    version: int,
    attesters: Sequence[str],
    owner: LocalAccount,
) -> Address:
    """Deploy the AttestVerifier of one config version: ``quorum`` of ``attesters`` must sign each result."""
    quorum = build.spec.quorum
    if len(attesters) < quorum:
        raise ConfigError(
            f"attest needs at least quorum = {quorum} attesting provers; got {len(attesters)} "
            "(pass --attester ADDRESS once per prover)"
        )
    return deploy_attest_verifier(
        client,
        build.compilation,
        router=manifest.core.router,
        prover_registry=manifest.core.prover_registry,
        config_version=version,
        attesters=list(attesters),
        quorum=quorum,
        sender=owner,
        outputs=len(build.spec.outputs),
    ).address


@dataclass(frozen=True)
class DeployEstimate:
    chain_id: int
    gas: int
    gas_price_wei: int

    @property
    def cost_wei(self) -> int:
        return self.gas * self.gas_price_wei


def estimate_deployment(
    rpc_url: str, chain_id: int, rehearse: Callable[[ChainClient], object], account: LocalAccount
) -> DeployEstimate:
    """Run ``rehearse`` against an anvil fork of ``rpc_url`` and measure the gas of every block it mined."""
    with Localnet(fork_url=rpc_url, chain_id=chain_id) as fork:
        client = ChainClient(fork.rpc_url, account)
        first = client.block_number() + 1
        gas_price = int(client.web3.eth.gas_price)
        rehearse(client)
        last = client.block_number()
        gas = sum(int(client.web3.eth.get_block(n)["gasUsed"]) for n in range(first, last + 1))
    return DeployEstimate(chain_id, gas, gas_price)


LOCAL_ATTESTER_FIRST = 2
"""anvil's development accounts 2, 3, ... attest on a local chain proofstream started (0 owns the project, 1 is
the prover)."""


def local_attesters(count: int) -> list[Address]:
    """The local chain's attesting provers: development accounts from LOCAL_ATTESTER_FIRST on."""
    return [Address(dev_account(LOCAL_ATTESTER_FIRST + i).address) for i in range(count)]


def _symbol(name: str) -> str:
    letters = "".join(part[:1] for part in name.replace("_", "-").split("-") if part).upper()
    return (letters or "PS")[:6] + "R"
