"""``proofstream project ...``: from nothing to a rewarded project on a local chain.

    new NAME --template T     scaffold a project folder
    build                     compile the circuit, set up Groth16 keys, compile the contracts
    test                      witness-only differential test of the circuit against logic.py, then tests/
    deploy --chain local|URL  show the gas, deploy the verifier and DApp, register the project
    run                       node + simulated devices on the local chain, until every task is settled
    upgrade / retire / pause / resume / status

The heavy imports (web3, the node) happen inside the commands, so ``proofstream device ...`` on a Raspberry
Pi never loads them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from proofstream.cli.output import fail, print_step, run_and_report
from proofstream.domain.schema import Field
from proofstream.errors import ProofstreamError

if TYPE_CHECKING:
    from proofstream.chain.contracts.registries import ProjectRegistry
    from proofstream.chain.deploy import DeploymentManifest, ProjectDeployment
    from proofstream.projects.build import ProjectBuild
    from proofstream.projects.session import ChainSession
    from proofstream.projects.spec import ProjectSpec

project_app = typer.Typer(no_args_is_help=True, help="Create, build, test, deploy and run a DePIN project.")
console = Console(stderr=True)

ProjectDir = Annotated[Path, typer.Option("--project", "-p", help="the project folder (default: here)")]
Chain = Annotated[str, typer.Option("--chain", help="`local` (the project's own anvil) or an RPC URL")]
KeyFile = Annotated[
    Path | None, typer.Option("--key-file", help="hex private key file for a real chain (or PROOFSTREAM_PRIVATE_KEY)")
]
Ptau = Annotated[Path | None, typer.Option("--ptau", help="a prepared powers-of-tau file to use")]


def _step(text: str) -> None:
    print_step(console, text)


def _load(project: Path) -> ProjectSpec:
    from proofstream.projects.spec import load_project

    return load_project(project)


def _build(spec: ProjectSpec, ptau: Path | None) -> ProjectBuild:
    from proofstream.projects.build import build_project

    return build_project(spec, ptau=ptau, on_step=_step)


@project_app.command()
def new(
    name: Annotated[str, typer.Argument(help="folder and project name, e.g. my-weather")],
    template: Annotated[str, typer.Option("--template", "-t", help="tracker-distance | weather-quality | uptime")],
    backend: Annotated[str | None, typer.Option(help="groth16 | attest (default: the template's)")] = None,
    directory: Annotated[Path, typer.Option("--dir", help="create the project inside this folder")] = Path(),
    signatures: Annotated[
        str | None,
        typer.Option(
            help="gateway (default: the gateway checks device signatures) | circuit (BabyJubJub devices; the "
            "circuit checks every signature, capacity 4 or less)"
        ),
    ] = None,
    capacity: Annotated[
        int | None,
        typer.Option(
            help="messages per task, a power of two (default: the template's 8; signed 4): up to 16 for "
            "tracker-distance and weather-quality, 32 for uptime, 4 signed, so the circuit fits the shipped 2^15 "
            "powers of tau; up to 64 with --backend attest (no circuit)"
        ),
    ] = None,
) -> None:
    """Scaffold a complete project: config, circuit, reference logic, DApp, generator and tests."""
    from proofstream.projects.scaffold import scaffold

    try:
        target = scaffold(name, template, directory, backend=backend, signatures=signatures, capacity=capacity)
        spec = _load(target)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    signed = ", signatures checked in the circuit" if spec.circuit_signatures else ""
    console.print(
        f"[green]created[/] {target} from template {template} (backend {spec.backend}{signed}, "
        f"capacity {spec.capacity})"
    )
    for path in sorted(target.rglob("*")):
        if path.is_file():
            console.print(f"  {path.relative_to(target)}")
    console.print(f"next: cd {target} && proofstream project build && proofstream project test")


@project_app.command()
def build(
    project: ProjectDir = Path(),
    ptau: Ptau = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the build summary as JSON on stdout")] = False,
) -> None:
    """Compile the circuit (constraints, powers of tau needed), run the Groth16 setup, compile the contracts."""
    try:
        built = _build(_load(project), ptau)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    summary = built.summary()
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    if built.artifacts is not None:
        console.print(
            f"[green]circuit[/] {summary['constraints']:,} constraints, {summary['public_signals']} public signals; "
            f"needs powers of tau 2^{summary['ptau_power_needed']}, using 2^{summary['ptau_power']} "
            f"({built.artifacts.ptau})"
        )
        if built.multi_party:
            console.print(
                f"[green]trusted setup[/]: the final key of the project's multi-party ceremony ({built.artifacts.zkey})"
            )
        else:
            console.print(
                "[yellow]trusted setup[/]: one party, one random contribution — fine for the local chain, "
                "unsafe for real funds (run `proofstream ceremony init` for a multi-party setup)"
            )
    console.print(f"[green]contracts[/] {built.spec.dapp_contract} + proofstream core compiled")
    console.print(f"config hash {summary['config_hash']}; compiler input kept at {built.standard_json_path}")


@project_app.command("test")
def test_(
    project: ProjectDir = Path(),
    examples: Annotated[int, typer.Option(help="random batches for the property test")] = 25,
    pytest_args: Annotated[list[str] | None, typer.Argument(help="extra pytest arguments for tests/")] = None,
) -> None:
    """Fast, witness-only: the circuit's outputs must equal logic.py's on random and edge-case batches."""
    from proofstream.projects.differential import run_differential

    try:
        spec = _load(project)
        if spec.backend == "groth16" or spec.circuit_path.is_file():
            _step(f"compiling {spec.circuit_path.name} (no trusted setup) and comparing it with {spec.logic_path.name}")
            report = run_differential(spec, examples=examples)
            console.print(report.describe(), highlight=False, markup=False)
            if not report.ok:
                raise typer.Exit(1)
        else:
            console.print("[yellow]no circuit[/]: attest projects run logic.py itself; running tests/ only")
    except ProofstreamError as exc:
        raise fail(exc) from exc
    tests = spec.root / "tests"
    if tests.is_dir():
        import subprocess

        _step(f"running the project's own tests in {tests}")
        args = [sys.executable, "-m", "pytest", str(tests), "-q", "-p", "no:cacheprovider", *(pytest_args or [])]
        code = subprocess.run(args, cwd=spec.root, check=False).returncode
        if code != 0:
            raise typer.Exit(code)


@project_app.command()
def deploy(
    project: ProjectDir = Path(),
    chain: Chain = "local",
    key_file: KeyFile = None,
    ptau: Ptau = None,
    attester: Annotated[
        list[str] | None, typer.Option(help="address of an attesting prover (attest, real chain; repeat)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask before sending transactions")] = False,
    force_unsafe_setup: Annotated[
        bool, typer.Option(help="deploy a single-party Groth16 setup to a non-local chain anyway")
    ] = False,
) -> None:
    """Show the chain id and gas, deploy the verifier and the DApp, register the project, write the manifest."""
    from proofstream.projects.deploy import (
        deploy_built_project,
        estimate_deployment,
        require_safe_setup,
        snapshot_version,
        write_manifest,
    )

    try:
        spec = _load(project)
        built = _build(spec, ptau)
        with open_chain_for(spec, chain, key_file) as session:
            console.print(f"chain id [bold]{session.client.chain_id}[/] at {session.rpc_url}")
            manifest = session.manifest()
            if manifest is not None and manifest.projects:
                done = manifest.projects[0]
                console.print(
                    f"[green]already deployed[/]: project {done.project} (see {session.manifest_path}); "
                    "use `proofstream project upgrade` to register a new version"
                )
                return
            if require_safe_setup(built, local=session.local, force=force_unsafe_setup):
                console.print("[bold yellow]warning[/]: deploying a single-party setup; unsafe for real funds")
            attesters = _attesters(spec, session, attester)

            def rehearse(client: object) -> object:
                from proofstream.chain.client import ChainClient

                assert isinstance(client, ChainClient)
                return deploy_built_project(
                    client,
                    built,
                    manifest,
                    owner=session.roles.owner,
                    sequencer=session.roles.sequencer.address,
                    attesters=attesters,
                )

            _step("rehearsing the deployment on a fork of the chain to measure its gas")
            estimate = estimate_deployment(session.rpc_url, session.client.chain_id, rehearse, session.roles.owner)
            console.print(
                f"gas estimate: [bold]{estimate.gas:,}[/] gas at {estimate.gas_price_wei / 1e9:.3g} gwei "
                f"= {estimate.cost_wei / 1e18:.6f} ETH, from {session.roles.owner.address}"
            )
            if not session.local and not yes:
                typer.confirm("send these transactions?", abort=True)
            manifest, deployment = deploy_built_project(
                session.client,
                built,
                manifest,
                owner=session.roles.owner,
                sequencer=session.roles.sequencer.address,
                attesters=attesters,
                on_step=_step,
            )
            snapshot_version(spec, spec.state_dir, session.client.chain_id, 1)
            write_manifest(session.manifest_path, manifest)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    console.print(
        f"[green]deployed[/] project {deployment.project}: verifier {deployment.verifier}, "
        f"{spec.dapp_contract} {deployment.reward_dapp}, token {deployment.reward_token}"
    )
    console.print(f"manifest {session.manifest_path}; compiler input {built.standard_json_path}")


def _key(key_file: Path | None) -> str | None:
    return str(key_file) if key_file is not None else None


def _attesters(spec: ProjectSpec, session: ChainSession, given: list[str] | None) -> list[str]:
    from proofstream.projects.deploy import local_attesters

    if spec.backend != "attest":
        return []
    if given:
        return list(given)
    if session.local:
        return list(local_attesters(spec.provers))
    raise typer.BadParameter("an attest project on a real chain needs its provers: pass --attester ADDRESS")


@project_app.command()
def run(
    project: ProjectDir = Path(),
    devices: Annotated[int, typer.Option(min=1, max=200, help="simulated devices")] = 5,
    messages: Annotated[int, typer.Option(min=1, max=1000, help="signed messages per device")] = 16,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON on stdout")] = False,
) -> None:
    """Run the project on its local chain with simulated devices until every task is settled."""
    from proofstream.simulation import run_project

    try:
        spec = _load(project)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    run_and_report(
        console,
        devices * messages,
        as_json,
        lambda hooks: run_project(spec, devices=devices, messages=messages, data_dir=spec.state_dir, progress=hooks),
    )


@project_app.command()
def pause(project: ProjectDir = Path(), chain: Chain = "local", key_file: KeyFile = None) -> None:
    """Stop new tasks and settlements of the project until `resume`."""
    _lifecycle(project, chain, key_file, "pause")


@project_app.command()
def resume(project: ProjectDir = Path(), chain: Chain = "local", key_file: KeyFile = None) -> None:
    """Let a paused project take tasks and settle them again."""
    _lifecycle(project, chain, key_file, "resume")


def _lifecycle(project: Path, chain: str, key_file: Path | None, action: str) -> None:
    try:
        with _deployed(project, chain, key_file) as on:
            receipt = getattr(on.registry, action)(on.deployment.project, sender=on.session.roles.owner)
            active = on.registry.is_active(on.deployment.project)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    console.print(f"[green]{action}d[/] project {on.deployment.project} (tx {receipt.tx_hash}); active: {active}")


@project_app.command()
def manufacturer(
    address: Annotated[str, typer.Argument(help="the manufacturer's signing address")],
    remove: Annotated[bool, typer.Option("--remove", help="stop it from issuing vouchers")] = False,
    project: ProjectDir = Path(),
    chain: Chain = "local",
    key_file: KeyFile = None,
) -> None:
    """Let a manufacturer's key sign device vouchers for the project (`proofstream device voucher`), or stop it."""
    from proofstream.chain.contracts.registries import DeviceRegistry

    try:
        checked = str(Field("address", "address").check(address))
        with _deployed(project, chain, key_file) as on:
            devices = DeviceRegistry.at(on.session.client, on.manifest.core.device_registry, on.built.compilation)
            project_id = on.deployment.project
            receipt = devices.set_manufacturer(project_id, checked, not remove, sender=on.session.roles.owner)
            allowed = devices.is_manufacturer(project_id, checked)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    console.print(
        f"manufacturer {checked} of project {project_id}: {'allowed' if allowed else 'removed'} (tx {receipt.tx_hash})"
    )


@project_app.command()
def upgrade(
    project: ProjectDir = Path(),
    chain: Chain = "local",
    key_file: KeyFile = None,
    ptau: Ptau = None,
    grace_blocks: Annotated[
        int, typer.Option(min=0, help="blocks the previous version stays live for messages signed under it")
    ] = 1000,
    attester: Annotated[list[str] | None, typer.Option(help="attesting prover address (attest; repeat)")] = None,
    force_unsafe_setup: Annotated[
        bool, typer.Option(help="register a single-party Groth16 setup on a non-local chain anyway")
    ] = False,
) -> None:
    """Register the project as it is now as a new config version; the old one keeps working for a grace period."""
    from proofstream.projects.deploy import require_safe_setup, snapshot_version, upgrade_project

    try:
        with _deployed(project, chain, key_file, ptau) as on:
            if require_safe_setup(on.built, local=on.session.local, force=force_unsafe_setup):
                console.print("[bold yellow]warning[/]: registering a single-party setup; unsafe for real funds")
            version = upgrade_project(
                on.session.client,
                on.built,
                on.manifest,
                on.deployment,
                owner=on.session.roles.owner,
                attesters=_attesters(on.spec, on.session, attester),
                grace_blocks=grace_blocks,
                local=on.session.local,
                force_unsafe_setup=force_unsafe_setup,
                on_step=_step,
            )
            snapshot_version(on.spec, on.spec.state_dir, on.session.client.chain_id, version)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    console.print(
        f"[green]version {version}[/] of project {on.deployment.project} is current; version {version - 1} stays "
        f"live for {grace_blocks} blocks. Restart the node to prove the new version's tasks."
    )


@project_app.command()
def retire(
    version: Annotated[int, typer.Argument(help="the config version to retire (not the current one)")],
    project: ProjectDir = Path(),
    chain: Chain = "local",
    key_file: KeyFile = None,
) -> None:
    """Retire an old config version now: no new messages are taken and no new tasks assigned under it."""
    try:
        with _deployed(project, chain, key_file) as on:
            receipt = on.registry.retire_version(on.deployment.project, version, sender=on.session.roles.owner)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    console.print(f"[green]retired[/] version {version} of project {on.deployment.project} (tx {receipt.tx_hash})")


@project_app.command()
def status(project: ProjectDir = Path(), chain: Chain = "local", key_file: KeyFile = None) -> None:
    """The project's deployment on a chain: id, state, and every config version with its verifier."""
    from rich.table import Table

    try:
        with _deployed(project, chain, key_file) as on:
            registry, pid = on.registry, on.deployment.project
            current = registry.current_version(pid)
            table = Table(title=f"{on.spec.name}: project {pid} on chain {on.session.client.chain_id}")
            for column in ("version", "live", "retires at block", "verifier", "config hash"):
                table.add_column(column)
            for v in range(1, current + 1):
                retires = registry.retires_at(pid, v)
                table.add_row(
                    f"{v}{' (current)' if v == current else ''}",
                    "yes" if registry.is_live(pid, v) else "no",
                    str(retires) if retires is not None else "-",
                    registry.verifier_of(pid, v),
                    "0x" + registry.config_hash_of(pid, v).hex(),
                )
            active = registry.is_active(pid)
            local_hash = on.built.config_hash == registry.config_hash_of(pid, current)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    Console().print(table)
    console.print(
        f"{'active' if active else '[yellow]paused[/]'}; DApp {on.deployment.reward_dapp}; "
        f"the project folder {'matches' if local_hash else '[yellow]differs from[/]'} the current version"
    )


@dataclass(frozen=True)
class _Deployed:
    """A deployed project as a lifecycle command acts on it."""

    spec: ProjectSpec
    built: ProjectBuild
    session: ChainSession
    manifest: DeploymentManifest
    deployment: ProjectDeployment
    registry: ProjectRegistry


@contextmanager
def _deployed(project: Path, chain: str, key_file: Path | None, ptau: Path | None = None) -> Iterator[_Deployed]:
    """Load and build the project, connect to ``chain`` and find the project's deployment there."""
    from proofstream.chain.contracts.registries import ProjectRegistry

    spec = _load(project)
    built = _build(spec, ptau)
    with open_chain_for(spec, chain, key_file) as session:
        manifest, deployment = session.deployment()
        registry = ProjectRegistry.at(session.client, manifest.core.project_registry, built.compilation)
        yield _Deployed(spec, built, session, manifest, deployment, registry)


def open_chain_for(spec: ProjectSpec, chain: str, key_file: Path | None) -> AbstractContextManager[ChainSession]:
    from proofstream.projects.session import open_chain

    return open_chain(spec, chain, key_file=_key(key_file), env=os.environ)
