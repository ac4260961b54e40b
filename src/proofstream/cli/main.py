"""The ``proofstream`` command. Errors print what to fix, never a bare traceback.

Sub-commands import what they need when they run: ``proofstream device ...`` works with the light
``proofstream[device]`` install (no web3, no web server, no Node), the rest needs ``proofstream[node]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from proofstream.cli.attest import attester_app
from proofstream.cli.ceremony import ceremony_app
from proofstream.cli.device import device_app
from proofstream.cli.output import LogJson, fail, print_step, run_and_report_all, service_process
from proofstream.cli.project import project_app
from proofstream.cli.receipt import receipt_app
from proofstream.errors import ProofstreamError

if TYPE_CHECKING:
    from proofstream.simulation import Progress as RunProgress
    from proofstream.simulation import RunSummary

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Verifiable off-chain compute for DePIN.")
app.add_typer(project_app, name="project")
app.add_typer(device_app, name="device")
app.add_typer(attester_app, name="attester")
app.add_typer(receipt_app, name="receipt")
app.add_typer(ceremony_app, name="ceremony")
console = Console(stderr=True)


@app.command()
def node(
    settings_file: Annotated[Path | None, typer.Option("--settings", help="TOML settings file")] = None,
    project: Annotated[
        Path | None,
        typer.Option("--project", "-p", help="project folder (default: the demo's, tracker-distance at capacity 16)"),
    ] = None,
    store_url: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="the store (store.url): sqlite:///PATH or postgresql://USER@HOST[:PORT]/DB (default: SQLite)",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    log_json: LogJson = False,
) -> None:
    """Run the gateway, sequencer, prover, submitter and indexer in one process until interrupted."""
    from dataclasses import replace

    from proofstream.demo import demo_project
    from proofstream.node import Node
    from proofstream.projects.spec import load_project
    from proofstream.settings import load_settings

    stop = service_process(verbose, log_json)
    try:
        settings = load_settings(settings_file)
        spec = load_project(project) if project is not None else demo_project()
        if project is not None and not settings_file:
            # A project's node keeps its chain, store and deployments in the project's own .proofstream/.
            settings = replace(settings, data_dir=str(spec.state_dir))
        if store_url is not None:
            settings = replace(settings, store=replace(settings.store, url=store_url))
        running = Node(settings, project=spec, on_step=lambda s: print_step(console, s)).start()
    except ProofstreamError as exc:
        raise fail(exc) from exc
    console.print(
        f"[green]proofstream node ready[/]: gateway {running.gateway_url}, project {running.deployment.project}"
    )
    # A line a supervisor (or a test) can wait for.
    print(f"READY {running.gateway_url} project={running.deployment.project}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


@app.command()
def demo(
    devices: Annotated[int, typer.Option(min=1, max=200, help="simulated GPS trackers (secp256k1 keys)")] = 10,
    messages: Annotated[
        int, typer.Option(min=1, max=1000, help="signed fixes per device (32: two full tasks of 16 each)")
    ] = 32,
    signed_devices: Annotated[
        int,
        typer.Option(
            min=0, max=50, help="then trackers with BabyJubJub keys, signatures checked in the circuit (0: skip)"
        ),
    ] = 2,
    signed_messages: Annotated[int, typer.Option(min=1, max=200, help="signed fixes per BabyJubJub tracker")] = 8,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON on stdout")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="keep the store and chain state here")] = None,
) -> None:
    """The whole pipeline on a local chain: devices -> gateway -> proofs -> rewards, with a summary; first for
    devices whose signatures the gateway checks, then for devices whose signatures the proof checks."""
    from proofstream.demo import run_demo, run_signed_demo

    log_file = Path(data_dir).resolve() / "proofstream-demo.log" if data_dir else None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO if log_file else logging.WARNING,
        filename=str(log_file) if log_file else None,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    runs: list[tuple[str, int, Callable[[RunProgress], RunSummary]]] = [
        (
            "secp256k1 devices: the gateway checks each signature",
            devices * messages,
            lambda hooks: run_demo(devices=devices, messages=messages, data_dir=data_dir, progress=hooks),
        )
    ]
    if signed_devices:
        runs.append(
            (
                "BabyJubJub devices: the proof checks each signature",
                signed_devices * signed_messages,
                lambda hooks: run_signed_demo(
                    devices=signed_devices,
                    messages=signed_messages,
                    data_dir=data_dir / "signed" if data_dir else None,
                    progress=hooks,
                ),
            )
        )
    run_and_report_all(console, runs, as_json)


if __name__ == "__main__":
    app()
