"""What the CLI prints: errors that say what to fix, progress bars, and the run summary tables.

Imports only typer and rich at module level: ``proofstream device`` shares this module on small machines.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from proofstream.errors import ProofstreamError

if TYPE_CHECKING:
    from proofstream.simulation import Progress as RunProgress
    from proofstream.simulation import RunSummary

__all__ = [
    "LogJson",
    "fail",
    "print_run_summary",
    "print_step",
    "progress_hooks",
    "run_and_report",
    "run_and_report_all",
    "service_process",
]

_errors = Console(stderr=True)


def fail(exc: BaseException) -> typer.Exit:
    """Print ``exc`` as one readable error line (its code first) and return the exit to raise."""
    code = exc.code if isinstance(exc, ProofstreamError) else type(exc).__name__
    # escape(): messages name TOML tables like [schema], which rich would otherwise take for markup and drop.
    _errors.print(f"[bold red]error[/] ({escape(code)}): {escape(str(exc))}", highlight=False)
    return typer.Exit(1)


def print_step(console: Console, text: str) -> None:
    """One progress line (``• compiling ... against [schema]``), printed as it is."""
    console.print(f"[cyan]•[/] {escape(text)}", highlight=False)


@contextmanager
def progress_hooks(console: Console, total_messages: int, *, transient: bool) -> Iterator[RunProgress]:
    """Progress bars for a run: messages accepted, tasks proven, tasks settled."""
    from proofstream.simulation import Progress as RunProgress

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    ) as bars:
        sent = bars.add_task("messages accepted", total=total_messages)
        proven = bars.add_task("tasks proven", total=None)
        settled = bars.add_task("tasks settled", total=None)

        def on_tasks(p: int, s: int, total: int) -> None:
            bars.update(proven, completed=p, total=total)
            bars.update(settled, completed=s, total=total)

        yield RunProgress(
            step=lambda s: print_step(bars.console, s),
            sent=lambda done, _total: bars.update(sent, completed=done),
            tasks=on_tasks,
        )


LogJson = Annotated[bool, typer.Option("--log-json", help="log one JSON object per line (for a log pipeline)")]


def service_process(verbose: bool, log_json: bool = False) -> threading.Event:
    """Set up a long-running command (node, attester): log lines with time and level (``key=value`` fields, or
    one JSON object per line), and an event that SIGTERM sets so the command stops cleanly (Ctrl-C raises
    KeyboardInterrupt as usual)."""
    from proofstream.logs import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def run_and_report(
    console: Console, total_messages: int, as_json: bool, run: Callable[[RunProgress], RunSummary]
) -> None:
    """Run a project (``project run``) under progress bars, then print its summary (or JSON)."""
    summary = _run(console, total_messages, as_json, run)
    if as_json:
        sys.stdout.write(json.dumps(summary.to_json(), indent=2) + "\n")
    else:
        print_run_summary(summary)


def run_and_report_all(
    console: Console, runs: Sequence[tuple[str, int, Callable[[RunProgress], RunSummary]]], as_json: bool
) -> None:
    """Several runs one after the other (the demo's two kinds of device), each ``(title, messages, run)``; the JSON
    is ``{"runs": [{"title", "summary"}, ...]}``."""
    done: list[dict[str, object]] = []
    for title, total_messages, run in runs:
        if not as_json:
            console.print(f"[bold]{title}[/]")
        summary = _run(console, total_messages, as_json, run)
        if as_json:
            done.append({"title": title, "summary": summary.to_json()})
        else:
            print_run_summary(summary)
    if as_json:
        sys.stdout.write(json.dumps({"runs": done}, indent=2) + "\n")


def _run(console: Console, total_messages: int, as_json: bool, run: Callable[[RunProgress], RunSummary]) -> RunSummary:
    with progress_hooks(console, total_messages, transient=as_json) as hooks:
        try:
            return run(hooks)
        except (ProofstreamError, TimeoutError, ValueError) as exc:
            raise fail(exc) from exc


def print_run_summary(summary: RunSummary) -> None:
    # Piped output gets a table wide enough to read rather than rich's 80-column default.
    out = Console() if sys.stdout.isatty() else Console(width=150)
    name = summary.output_name
    devices = Table(title=f"Devices ({summary.project_name}: project {summary.project}, chain {summary.chain_id})")
    for column in ("device", "owner", "accepted", f"{name} (proven)", f"{name} (reference)", "tokens (on chain)"):
        devices.add_column(column, justify="left" if column in ("device", "owner") else "right")
    for d in summary.devices:
        devices.add_row(
            _short(d.device), _short(d.owner), str(d.accepted), str(d.proven), str(d.reference), f"{d.tokens:.3f}"
        )
    out.print(devices)
    tasks = Table(title=f"Tasks ({summary.backend})")
    for column in ("task", "device", "status", "msgs", name, "constraints", "prove s", "route tx", "gas route"):
        tasks.add_column(column)
    for t in summary.tasks:
        tasks.add_row(
            _short(hex(int(t.task_id))),
            _short(t.device),
            t.status if not t.reason else f"{t.status}: {t.reason}",
            str(t.messages),
            str(t.output),
            str(t.constraints or "-"),
            f"{t.prove_seconds:.2f}" if t.prove_seconds is not None else "-",
            _short(t.route_tx or "-"),
            str(t.route_gas or "-"),
        )
    out.print(tasks)
    gas = summary.gas()
    if gas.messages:
        out.print(
            f"gas: {gas.per_message:,} per message all in ({gas.assign:,} to assign in {gas.assign_transactions} "
            f"transaction(s), {gas.route:,} to route in {gas.route_transactions}, over {gas.messages} messages in "
            f"{gas.tasks} tasks); the claim that mints the rewards: {summary.claim_gas:,}"
        )
    total = sum(d.tokens for d in summary.devices)
    ok = all(d.proven == d.reference for d in summary.devices)
    out.print(
        f"{len(summary.tasks)} tasks, {total:.3f} tokens minted at {summary.rate_per_unit_wei / 1e18:g} per "
        f"{summary.unit}; results {'match' if ok else '[red]DO NOT match[/]'} the Python reference; "
        f"{summary.seconds:.1f} s"
    )


def _short(text: str) -> str:
    return text if len(text) <= 13 else f"{text[:8]}…{text[-4:]}"
