"""Finding and running the pinned Node tools (solc, snarkjs, circom2, anvil) from ``node_modules``.

Two functions make up the API, and every module that drives a Node tool goes through them:

- :func:`find_node_modules` says where the tools are installed;
- :func:`run_node_tool` runs one of them with a timeout and turns every failure into a
  :class:`~proofstream.errors.ToolchainError`.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from proofstream import logs as log
from proofstream.errors import ToolchainError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 300.0
"""Upper bound for one tool run: long enough for a Groth16 setup of a demo circuit, short enough to fail a
stuck run."""

_PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ToolResult:
    """What a finished tool run printed."""

    stdout: str
    stderr: str
    seconds: float


def find_node_modules(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the ``node_modules`` folder that holds proofstream's pinned Node tools.

    Looked up in this order: ``explicit`` (must exist), then the current directory and its parents, then the
    folders above this package (a source checkout keeps ``node_modules`` at the repository root).
    """
    if explicit is not None:
        path = Path(explicit).expanduser().resolve()
        if not path.is_dir():
            raise ToolchainError(f"node_modules not found at {path}")
        return path
    for start in (Path.cwd().resolve(), _PACKAGE_DIR):
        for folder in (start, *start.parents):
            candidate = folder / "node_modules"
            # A folder with no package of ours in it (e.g. an unrelated project's) is not the one we want.
            if (candidate / "snarkjs").is_dir() or (candidate / "solc").is_dir():
                return candidate
    raise ToolchainError(
        "node_modules with proofstream's Node tools not found; run `npm ci` in the proofstream checkout "
        "or pass its path explicitly"
    )


def run_node_tool(
    script: str | os.PathLike[str],
    args: Sequence[str] = (),
    *,
    node_modules: str | os.PathLike[str] | None = None,
    stdin: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cwd: str | os.PathLike[str] | None = None,
) -> ToolResult:
    """Run ``node <script> <args...>`` and return what it printed.

    ``script`` is a path relative to ``node_modules`` (``"solc/solc.js"``, ``".bin/snarkjs"``) or an absolute
    path. A missing ``node``, a non-zero exit status or a run past ``timeout_s`` raises ToolchainError that
    carries the tail of stderr.

    stdout and stderr go to temporary files rather than pipes: some tools (solcjs) call ``process.exit()``
    right after printing, which can cut off output still queued for a pipe. ``stdin`` comes from a temporary
    file too: solcjs reads it with one ``readFileSync(0)``, which fails with EAGAIN on a pipe that is momentarily
    empty, as it is when the input is larger than the pipe's buffer (64 KiB) and still being written.
    """
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("`node` is not on PATH: install Node.js 20 or later")
    modules = find_node_modules(node_modules)
    script_path = Path(script)
    if not script_path.is_absolute():
        script_path = modules / script_path
    if not script_path.exists():
        raise ToolchainError(f"Node tool not found: {script_path}")
    command = [node, str(script_path), *args]
    name = script_path.name
    started = time.monotonic()
    with tempfile.TemporaryFile() as inp, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        if stdin is not None:
            inp.write(stdin.encode())
            inp.seek(0)
        try:
            completed = subprocess.run(
                command,
                stdin=inp if stdin is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                timeout=timeout_s,
                cwd=cwd,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ToolchainError(f"{name} timed out after {timeout_s:.0f} s") from exc
        except OSError as exc:
            raise ToolchainError(f"{name} could not be started: {exc}") from exc
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    seconds = time.monotonic() - started
    log.debug(logger, "node tool finished", tool=name, rc=completed.returncode, seconds=round(seconds, 2))
    if completed.returncode != 0:
        tail = (stderr.strip() or stdout.strip())[-2000:]
        raise ToolchainError(f"{name} failed with exit status {completed.returncode}: {tail}")
    return ToolResult(stdout=stdout, stderr=stderr, seconds=seconds)
