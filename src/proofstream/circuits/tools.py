"""The one place the circuit tools run: circom2, snarkjs and circom's witness generator, all Node scripts.

``node_modules`` is found by :func:`proofstream.toolchain.find_node_modules`. Runs go through :func:`run_node`
rather than ``toolchain.run_node_tool`` because a non-zero exit here is a verdict, not a broken tool: a
witness that breaks an assert, a proof that does not verify. The callers map it to CircuitError/ProverError
with the tool's own words, so they need the exit status and the output, not a ToolchainError.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from proofstream import logs as log
from proofstream.errors import ToolchainError
from proofstream.toolchain import find_node_modules

__all__ = [
    "NodeResult",
    "child_pipes",
    "circom2_cli",
    "node_modules",
    "run_node",
    "snarkjs_cli",
    "stop_child",
]

logger = logging.getLogger(__name__)


def node_modules() -> Path:
    """The ``node_modules`` folder holding snarkjs, circom2 and circomlib (found by proofstream.toolchain)."""
    modules = find_node_modules()
    missing = [p for p in ("snarkjs", "circom2", "circomlib") if not (modules / p).is_dir()]
    if missing:
        raise ToolchainError(f"{modules} lacks {', '.join(missing)}; run `npm ci` in the proofstream checkout")
    return modules


def snarkjs_cli(modules: Path) -> Path:
    return modules / "snarkjs" / "build" / "cli.cjs"


def circom2_cli(modules: Path) -> Path:
    return modules / "circom2" / "cli.js"


@dataclass(frozen=True, slots=True)
class NodeResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        """stdout and stderr together: snarkjs reports some failures on stdout, circom on stderr."""
        return (self.stdout + "\n" + self.stderr).strip()


def run_node(
    script: Path,
    args: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    timeout: float = 600,
    stdin: str | None = None,
) -> NodeResult:
    """Run ``node script args...``; the caller decides what a non-zero exit means for its stage.

    ``stdin`` is written to the tool's standard input (then closed): the way to hand it a secret, such as a
    ceremony contribution's entropy, that must never appear in its argv (``ps`` shows argv to every user).
    Raises ToolchainError only when node itself cannot be started or the tool hangs past ``timeout``.
    """
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("`node` is not on PATH (Node.js 20 or later is required)", code="toolchain_missing")
    argv = [node, str(script), *(str(a) for a in args)]
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"{script.name} {args[0] if args else ''} ran past {timeout} s") from exc
    except OSError as exc:
        raise ToolchainError(f"could not start node: {exc}") from exc
    seconds = time.perf_counter() - started
    log.debug(logger, "node tool ran", tool=script.name, args=args[:1], rc=done.returncode, seconds=round(seconds, 3))
    return NodeResult(done.returncode, done.stdout, done.stderr, seconds)


def child_pipes(process: subprocess.Popen[str], what: str) -> tuple[IO[str], IO[str]]:
    """The stdin and stdout of a long-lived worker that speaks one JSON line per request (the witness worker, the
    groth16py prover)."""
    if process.stdin is None or process.stdout is None:
        raise ToolchainError(f"the {what} has no pipes")
    return process.stdin, process.stdout


def stop_child(process: subprocess.Popen[str]) -> None:
    """End such a worker: close its stdin (it exits at end of input), wait, kill it if it does not go."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):  # a worker that died leaves a broken pipe and unflushed bytes
            process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()
