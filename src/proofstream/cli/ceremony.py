"""``proofstream ceremony ...``: a multi-party Groth16 phase-2 ceremony for a project's circuit.

    init --ptau FILE                    initial key (contribution 0) and transcript in the project's ceremony/
    contribute IN.zkey OUT.zkey --name  one party's contribution (entropy from the OS, on snarkjs' stdin)
    verify                              snarkjs zkey verify of every key, checked against the transcript
    finalize --beacon HEX               random beacon, final key and verification key for `project build`

The logic is in :mod:`proofstream.projects.ceremony`; docs/projects.md, "Trusted setup ceremony", says who does
what.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from proofstream.cli.output import fail
from proofstream.errors import ProofstreamError

ceremony_app = typer.Typer(
    no_args_is_help=True, help="A multi-party Groth16 trusted-setup ceremony for a project's circuit."
)
console = Console(stderr=True)

ProjectDir = Annotated[Path, typer.Option("--project", "-p", help="the project folder (default: here)")]
PtauOpt = Annotated[
    Path | None, typer.Option("--ptau", help="the phase-1 file (default: where it was at `ceremony init`)")
]


def _ceremony_dir(project: Path) -> Path:
    from proofstream.projects.ceremony import CEREMONY_DIR

    return project.expanduser().resolve() / CEREMONY_DIR


def _memo() -> Path:
    from proofstream.circuits.build import default_cache_dir

    return default_cache_dir() / "file-hashes"


@ceremony_app.command()
def init(
    ptau: Annotated[Path, typer.Option("--ptau", help="a prepared phase-1 file, e.g. a Perpetual Powers of Tau file")],
    project: ProjectDir = Path(),
    name: Annotated[str, typer.Option("--name", help="who runs the setup, for the transcript")] = "coordinator",
) -> None:
    """Set up the initial key (contribution 0) of the project's circuit and start the transcript."""
    from proofstream.projects.ceremony import init_project_ceremony
    from proofstream.projects.spec import load_project

    try:
        spec = load_project(project)
        console.print(f"[cyan]•[/] compiling {spec.circuit_path.name} (cached) and running snarkjs groth16 setup")
        transcript = init_project_ceremony(spec, ptau, coordinator=name)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    head = transcript.head
    console.print(
        f"[green]ceremony started[/] in {transcript.folder}: circuit {transcript.circuit_name} "
        f"({transcript.constraints:,} constraints), phase 1 2^{transcript.ptau_power} sha256 {transcript.ptau_sha256}"
    )
    console.print(f"key #0 {head.zkey} sha256 {head.zkey_sha256}")
    console.print(
        f"next: each party runs `proofstream ceremony contribute {head.zkey} <next>.zkey --name NAME` on the "
        "latest key and sends back the new key and transcript.json"
    )


@ceremony_app.command()
def contribute(
    in_zkey: Annotated[Path, typer.Argument(help="the latest key of the chain")],
    out_zkey: Annotated[Path, typer.Argument(help="the new key (next to the transcript)")],
    name: Annotated[str, typer.Option("--name", help="your name or handle, recorded in the key and transcript")],
    transcript: Annotated[
        Path | None, typer.Option("--transcript", help="the ceremony's transcript.json (default: next to IN)")
    ] = None,
) -> None:
    """Add your contribution: entropy from the OS, handed to snarkjs on its standard input, never kept."""
    from proofstream.projects.ceremony import TRANSCRIPT_FILE, contribute

    path = transcript if transcript is not None else in_zkey.resolve().parent / TRANSCRIPT_FILE
    try:
        link = contribute(path, in_zkey, out_zkey, name)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    console.print(f"[green]contribution #{link.index}[/] by {link.name}: {link.zkey} sha256 {link.zkey_sha256}")
    console.print(f"contribution hash {link.contribution_hash}", soft_wrap=True)
    console.print("publish this hash where the other parties can see it; send the new key and transcript.json on")


@ceremony_app.command()
def verify(project: ProjectDir = Path(), ptau: PtauOpt = None) -> None:
    """Verify every key of the chain with snarkjs and against the transcript; print each contribution."""
    from proofstream.projects.ceremony import verify_ceremony

    try:
        report = verify_ceremony(_ceremony_dir(project), ptau=ptau, memo_dir=_memo())
    except ProofstreamError as exc:
        raise fail(exc) from exc
    console.print(report.describe(), highlight=False, markup=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@ceremony_app.command()
def finalize(
    beacon: Annotated[
        str,
        typer.Option("--beacon", help="hex value nobody knew before the last contribution, e.g. a future block hash"),
    ],
    iterations: Annotated[
        int, typer.Option("--iterations", help="the beacon's hash iterations, as a power of two (10..63)")
    ] = 10,
    project: ProjectDir = Path(),
    ptau: PtauOpt = None,
    name: Annotated[str, typer.Option("--name", help="the beacon's name in the transcript")] = "final beacon",
) -> None:
    """Verify, apply the beacon, verify again, export the verification key; `project build` then uses it."""
    from proofstream.projects.ceremony import finalize

    try:
        transcript = finalize(_ceremony_dir(project), beacon, iterations, name=name, ptau=ptau, memo_dir=_memo())
    except ProofstreamError as exc:
        raise fail(exc) from exc
    final = transcript.final or {}
    console.print(
        f"[green]ceremony finalized[/]: {len(transcript.contributions)} contributions + beacon; final key "
        f"{final.get('zkey')} sha256 {final.get('zkey_sha256')}, verification key {final.get('vkey')}"
    )
    console.print(
        "`proofstream project build` now uses these keys and `project deploy` counts them as a multi-party setup; "
        f"commit {transcript.folder.name}/{transcript.path.name}, {final.get('vkey')} and {final.get('zkey')}"
    )
