"""Start attesting provers as child processes of a local node, each with its own key file.

On the local chain the node plays every role, attesters included, so that ``proofstream project run`` works
with nothing else started. Each attester is a separate ``proofstream attester run`` process: its own key, its
own copy of the project's code, and the shared store. On a real chain operators run them on their own machines.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from proofstream import logs as log
from proofstream.errors import ProverError

__all__ = ["AttesterLaunch", "AttesterProcesses"]

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0
"""An attester loads the project in a child process and asks the chain a few questions before READY."""


@dataclass(frozen=True)
class AttesterLaunch:
    project_dir: Path
    store: str
    """The node's store, as ``attester run --store`` takes it: a SQLite file's path or a ``store.url``."""
    rpc_url: str
    router: str
    device_registry: str
    """The DeviceRegistry devices sign under (each attester checks it against the chain)."""
    chain_id: int
    project_id: int
    poll_s: float = 0.5


class AttesterProcesses:
    """A group of attester processes; ``stop()`` ends them all (SIGTERM, then SIGKILL)."""

    def __init__(self, launch: AttesterLaunch, keys: Sequence[str], work_dir: Path) -> None:
        self._launch = launch
        self._keys = list(keys)
        self._work_dir = work_dir
        self._processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> AttesterProcesses:
        self._work_dir.mkdir(parents=True, exist_ok=True)
        for index, key in enumerate(self._keys):
            key_file = self._work_dir / f"attester-{index}.key"
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(key.removeprefix("0x") + "\n")
            self._processes.append(self._spawn(index, key_file))
        for index, process in enumerate(self._processes):
            self._wait_ready(index, process)
        log.info(logger, "attesters started", count=len(self._processes), path=self._launch.project_dir)
        return self

    def _spawn(self, index: int, key_file: Path) -> subprocess.Popen[bytes]:
        launch = self._launch
        args = [
            sys.executable,
            "-m",
            "proofstream.cli.main",
            "attester",
            "run",
            "--project",
            str(launch.project_dir),
            "--store",
            launch.store,
            "--key-file",
            str(key_file),
            "--rpc-url",
            launch.rpc_url,
            "--router",
            launch.router,
            "--device-registry",
            launch.device_registry,
            "--chain-id",
            str(launch.chain_id),
            "--project-id",
            str(launch.project_id),
            "--poll",
            str(launch.poll_s),
        ]
        # stderr to a file: an unread pipe would block a chatty attester once it filled up.
        with (self._work_dir / f"attester-{index}.log").open("ab") as stderr:
            return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL)

    def _wait_ready(self, index: int, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith(b"READY attester"):
                return
            if not line and process.poll() is not None:
                break
        self.stop()
        log_file = self._work_dir / f"attester-{index}.log"
        tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        raise ProverError(f"attester {index} did not start (log {log_file}):\n{tail}", code="attester_start")

    def stop(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self._processes.clear()
