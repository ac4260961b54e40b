"""Helpers for the kill-and-restart end-to-end test: the node as a child process, and a read-only view of its
SQLite store.

The node runs in its own session (process group) so a SIGKILL can take it down together with the snarkjs
processes it spawned, as a machine crash would, without touching the anvil chain the test owns.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

READY_PREFIX = "READY "


def write_settings(tmp: Path, rpc_url: str, key: str) -> Path:
    """A settings file for a node on an external chain with the operator's ``key`` (hex) in a key file, tasks cut
    at capacity only (a window of an hour), each routed in a transaction of its own (``route_batch = 1``: the kill
    must land with one route in flight and other tasks still to route, not all of them in one batch)."""
    key_file = tmp / "operator.key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    path = tmp / "node.toml"
    path.write_text(
        f'data_dir = "{tmp / "data"}"\n'
        "[gateway]\nport = 0\n"
        f'[chain]\nrpc_url = "{rpc_url}"\nkey_file = "{key_file}"\npoll_seconds = 0.2\n'
        # The test's anvil mines a block per transaction only: no confirmation would ever follow the last one.
        "confirmations = 0\nroute_batch = 1\n"
        "[batching]\nwindow_seconds = 3600\n"
    )
    return path


def spawn(argv: list[str], log_path: Path) -> subprocess.Popen[str]:
    """``argv`` as a child in a session of its own (so a SIGKILL of its group reaches it and its children alone):
    its stdout piped for its READY line, its stderr appended to ``log_path``."""
    with log_path.open("a") as log:
        return subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True, start_new_session=True
        )


@dataclass(frozen=True)
class Ready:
    gateway_url: str
    project: int


class NodeProcess:
    """``proofstream node --settings FILE`` as a child process; stderr (the node's log) goes to ``log_path``."""

    def __init__(self, settings: Path, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the node is not started")
        return self._process.pid

    def start(self, timeout_s: float) -> Ready:
        """Start the node and wait for its READY line."""
        self._process = spawn(
            [sys.executable, "-m", "proofstream.cli.main", "node", "--settings", str(self.settings)], self.log_path
        )
        assert self._process.stdout is not None
        # A reader thread, so waiting for READY can time out instead of blocking on readline().
        threading.Thread(target=self._drain, args=(self._process.stdout,), daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no READY line from the node within {timeout_s:.0f} s\n{self.log_tail()}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"the node exited before READY (rc={self._process.wait()})\n{self.log_tail()}")
            if line.startswith(READY_PREFIX):
                url, project = line.removeprefix(READY_PREFIX).split()
                return Ready(url, int(project.removeprefix("project=")))

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.strip())
        self._lines.put(None)

    def kill(self) -> None:
        """SIGKILL the node's whole process group (the node and any prover child) and reap it."""
        if self._process is None or self._process.poll() is not None:
            return
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=30)

    def terminate(self, timeout_s: float = 60.0) -> int:
        """SIGTERM (the node's clean shutdown); returns its exit code."""
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        return self._process.wait(timeout=timeout_s)

    def cleanup(self) -> None:
        """Whatever happened, leave no process behind."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self.kill()
        else:
            # The node is gone; a prover child it left in its group may not be.
            with suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no node log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def task_statuses(db: Path) -> dict[str, str]:
    """task id -> status, read straight from the node's SQLite file (WAL lets a reader in beside the writer)."""
    if not db.exists():
        return {}
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            return {str(row[0]): str(row[1]) for row in conn.execute("SELECT id, status FROM tasks")}
        except sqlite3.OperationalError:
            return {}  # the schema is not there yet


def assigned_task_count(db: Path) -> int:
    """Tasks whose assignment transaction is on chain (assign_tx recorded)."""
    if not db.exists():
        return 0
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM tasks WHERE assign_tx IS NOT NULL").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def stored_message_ids(db: Path) -> set[str]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        return {str(row[0]) for row in conn.execute("SELECT id FROM messages")}


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float, poll_s: float = 0.2) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)
