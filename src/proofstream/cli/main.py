"""``proofstream node`` and ``proofstream demo``. Errors print what to fix, never a bare traceback."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from proofstream.demo import DemoSummary, run_demo
from proofstream.demo import Progress as DemoProgress
from proofstream.errors import ProofstreamError
from proofstream.node import Node
from proofstream.settings import load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Verifiable off-chain compute for DePIN.")
console = Console(stderr=True)


def _fail(exc: BaseException) -> typer.Exit:
    code = exc.code if isinstance(exc, ProofstreamError) else type(exc).__name__
    console.print(f"[bold red]error[/] ({code}): {exc}")
    return typer.Exit(1)


@app.command()
def node(
    settings_file: Annotated[Path | None, typer.Option("--settings", help="TOML settings file")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the gateway, sequencer, prover, submitter and indexer in one process until interrupted."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        settings = load_settings(settings_file)
        running = Node(settings, on_step=lambda s: console.print(f"[cyan]•[/] {s}")).start()
    except ProofstreamError as exc:
        raise _fail(exc) from exc
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
    devices: Annotated[int, typer.Option(min=1, max=200, help="simulated GPS trackers")] = 10,
    messages: Annotated[int, typer.Option(min=1, max=1000, help="signed fixes per device")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON on stdout")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="keep the store and chain state here")] = None,
) -> None:
    """The whole pipeline on a local chain: devices -> gateway -> proofs -> rewards, with a summary."""
    log_file = Path(data_dir or ".").resolve() / "proofstream-demo.log" if data_dir else None
    logging.basicConfig(
        level=logging.INFO if log_file else logging.WARNING,
        filename=str(log_file) if log_file else None,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
    ) as bars:
        sent = bars.add_task("messages accepted", total=devices * messages)
        proven = bars.add_task("tasks proven", total=None)
        settled = bars.add_task("tasks settled", total=None)

        def on_tasks(p: int, s: int, total: int) -> None:
            bars.update(proven, completed=p, total=total)
            bars.update(settled, completed=s, total=total)

        hooks = DemoProgress(
            step=lambda s: bars.console.print(f"[cyan]•[/] {s}"),
            sent=lambda done, total: bars.update(sent, completed=done),
            tasks=on_tasks,
        )
        try:
            summary = run_demo(devices=devices, messages=messages, data_dir=data_dir, progress=hooks)
        except (ProofstreamError, TimeoutError, ValueError) as exc:
            raise _fail(exc) from exc
    if as_json:
        sys.stdout.write(json.dumps(summary.to_json(), indent=2) + "\n")
    else:
        _print_summary(summary)


def _print_summary(summary: DemoSummary) -> None:
    # Piped output gets a table wide enough to read rather than rich's 80-column default.
    out = Console() if sys.stdout.isatty() else Console(width=150)
    devices = Table(title=f"Devices (project {summary.project}, chain {summary.chain_id})")
    for column in ("device", "owner", "accepted", "metres (proven)", "metres (reference)", "tokens (on chain)"):
        devices.add_column(column, justify="right" if column != "device" and column != "owner" else "left")
    for d in summary.devices:
        devices.add_row(
            _short(d.device),
            _short(d.owner),
            str(d.accepted),
            str(d.metres),
            str(d.reference_metres),
            f"{d.tokens:.3f}",
        )
    out.print(devices)
    tasks = Table(title="Tasks")
    for column in (
        "task",
        "device",
        "status",
        "msgs",
        "metres",
        "constraints",
        "prove s",
        "route tx",
        "gas route",
        "gas assign",
    ):
        tasks.add_column(column)
    for t in summary.tasks:
        tasks.add_row(
            _short(hex(int(t.task_id))),
            _short(t.device),
            t.status if not t.reason else f"{t.status}: {t.reason}",
            str(t.messages),
            str(t.metres),
            str(t.constraints),
            f"{t.prove_seconds:.2f}" if t.prove_seconds is not None else "-",
            _short(t.route_tx or "-"),
            str(t.route_gas or "-"),
            str(t.assign_gas or "-"),
        )
    out.print(tasks)
    total = sum(d.tokens for d in summary.devices)
    ok = all(d.metres == d.reference_metres for d in summary.devices)
    out.print(
        f"{len(summary.tasks)} tasks, {total:.3f} tokens minted at {summary.rate_per_metre_wei / 1e18:g} per metre; "
        f"proofs {'match' if ok else '[red]DO NOT match[/]'} the Python reference; {summary.seconds:.1f} s"
    )


def _short(text: str) -> str:
    return text if len(text) <= 13 else f"{text[:8]}…{text[-4:]}"


if __name__ == "__main__":
    app()
