"""A local anvil chain, started and stopped from Python.

anvil picks its own free port (``--port 0``) and prints it, so two chains started at once never race for one.
With ``state_path`` the chain loads that file at start (if it exists) and writes its state back on a clean
stop, so a demo chain survives restarts.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from proofstream import logs as log
from proofstream.domain.defaults import LOCAL_CHAIN_ID
from proofstream.errors import ToolchainError
from proofstream.toolchain import find_node_modules

logger = logging.getLogger(__name__)

DEFAULT_CHAIN_ID = LOCAL_CHAIN_ID

STARTUP_TIMEOUT_S = 20.0
"""anvil answers in ~0.1 s; loading a large state file or a busy machine can take seconds."""

STOP_TIMEOUT_S = 10.0
"""Time anvil gets to write its state file after SIGTERM before it is killed."""

_LISTENING = re.compile(r"Listening on (\d+\.\d+\.\d+\.\d+):(\d+)")


class Localnet:
    """An anvil process on 127.0.0.1; use as a context manager or call :meth:`start` / :meth:`stop`.

    ``hardfork`` None keeps anvil's default (its latest); ``"osaka"`` has the P-256 precompile (EIP-7951).
    ``block_time_s`` None mines a block per transaction (instant receipts); a number mines on a timer.
    ``fork_url`` forks that chain (``chain_id`` must then be the forked chain's id).
    """

    def __init__(
        self,
        *,
        node_modules: str | os.PathLike[str] | None = None,
        state_path: str | os.PathLike[str] | None = None,
        chain_id: int = DEFAULT_CHAIN_ID,
        hardfork: str | None = None,
        block_time_s: float | None = None,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
        fork_url: str | None = None,
    ) -> None:
        self._anvil = _anvil_binary(find_node_modules(node_modules))
        self._state_path = Path(state_path) if state_path is not None else None
        self._chain_id = chain_id
        self._hardfork = hardfork
        self._block_time_s = block_time_s
        self._startup_timeout_s = startup_timeout_s
        self._fork_url = fork_url
        self._process: subprocess.Popen[bytes] | None = None
        self._log_dir: tempfile.TemporaryDirectory[str] | None = None
        self._rpc_url: str | None = None

    @property
    def rpc_url(self) -> str:
        """``http://127.0.0.1:<port>``; only while running."""
        if self._rpc_url is None:
            raise ToolchainError("anvil is not running")
        return self._rpc_url

    @property
    def pid(self) -> int:
        """anvil's process id (also its session's id); only while running."""
        if self._process is None:
            raise ToolchainError("anvil is not running")
        return self._process.pid

    @property
    def chain_id(self) -> int:
        return self._chain_id

    @property
    def log_path(self) -> Path | None:
        """anvil's stdout (one line per RPC call), kept while it runs: the first place to look when a test
        fails."""
        return Path(self._log_dir.name) / "anvil.log" if self._log_dir is not None else None

    def start(self) -> Localnet:
        if self._process is not None:
            raise ToolchainError("anvil is already running")
        if not self._anvil.exists():
            raise ToolchainError(f"anvil not found at {self._anvil}; run `npm ci`")
        args = [str(self._anvil), "--host", "127.0.0.1", "--port", "0", "--chain-id", str(self._chain_id)]
        if self._hardfork is not None:
            args += ["--hardfork", self._hardfork]
        if self._block_time_s is not None:
            args += ["--block-time", str(self._block_time_s)]
        if self._state_path is not None:
            args += ["--state", str(self._state_path)]
        if self._fork_url is not None:
            # A throwaway copy of another chain: deployments are rehearsed on it to measure their gas.
            args += ["--fork-url", self._fork_url]
        self._log_dir = tempfile.TemporaryDirectory(prefix="proofstream-anvil-")
        log_path = Path(self._log_dir.name) / "anvil.log"
        # stdout goes to a file, not a pipe: anvil logs every RPC call and would block once a pipe filled up.
        with log_path.open("wb") as out:
            try:
                # A new session, so stop() can signal the npm wrapper and the anvil binary it spawns together.
                self._process = subprocess.Popen(
                    args,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                self._cleanup()
                raise ToolchainError(f"anvil could not be started: {exc}") from exc
        try:
            self._rpc_url = self._wait_until_ready(log_path)
        except BaseException:
            self.stop()
            raise
        log.info(logger, "anvil started", url=self._rpc_url, chain=self._chain_id, pid=self._process.pid)
        return self

    def stop(self) -> None:
        """Stop anvil (SIGTERM, so it writes ``state_path``; SIGKILL if it does not exit in time)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            self._signal(process, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning(logger, "anvil did not stop after SIGTERM, killing", pid=process.pid)
                self._signal(process, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_S)
        self._wait_for_group(process.pid)
        log.info(logger, "anvil stopped", pid=process.pid, rc=process.returncode)
        self._cleanup()

    def snapshot(self) -> str:
        """Save the chain state (anvil ``evm_snapshot``); :meth:`revert` goes back to it. For tests."""
        return str(self._rpc("evm_snapshot", []))

    def revert(self, snapshot_id: str) -> None:
        """Go back to a :meth:`snapshot` (which is used up: take a new one to go back again)."""
        if self._rpc("evm_revert", [snapshot_id]) is not True:
            raise ToolchainError(f"anvil could not revert to snapshot {snapshot_id}")

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` empty blocks at once (to pass a deadline in a test)."""
        self._rpc("anvil_mine", [hex(blocks)])

    def reorg(self, depth: int, transactions: list[bytes]) -> None:
        """Replace the last ``depth`` blocks (``anvil_reorg``) with as many new ones, the first holding the signed
        ``transactions``; the replaced blocks' transactions are dropped. For tests."""
        self._rpc("anvil_reorg", [depth, [["0x" + raw.hex(), 0] for raw in transactions]])

    def _rpc(self, method: str, params: list[object]) -> object:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        request = urllib.request.Request(self.rpc_url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10.0) as response:
                answer = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise ToolchainError(f"anvil {method} failed: {exc}") from exc
        if "error" in answer:
            raise ToolchainError(f"anvil {method} failed: {answer['error']}")
        return answer.get("result")

    def __enter__(self) -> Localnet:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_until_ready(self, log_path: Path) -> str:
        assert self._process is not None
        deadline = time.monotonic() + self._startup_timeout_s
        url: str | None = None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ToolchainError(f"anvil exited with status {self._process.returncode}: {_tail(log_path)}")
            if url is None:
                match = _LISTENING.search(log_path.read_text(errors="replace"))
                if match:
                    url = f"http://{match.group(1)}:{match.group(2)}"
            if url is not None and answers(url):
                return url
            time.sleep(0.05)
        raise ToolchainError(f"anvil did not answer within {self._startup_timeout_s:.0f} s: {_tail(log_path)}")

    @staticmethod
    def _wait_for_group(pgid: int) -> None:
        """Wait until no process of anvil's session is left (a child still writing the state file)."""
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.02)
        log.warning(logger, "anvil's process group still runs after stop", pgid=pgid)

    @staticmethod
    def _signal(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)

    def _cleanup(self) -> None:
        self._process = None
        self._rpc_url = None
        if self._log_dir is not None:
            self._log_dir.cleanup()
            self._log_dir = None


def answers(url: str) -> bool:
    """True once the node answers a JSON-RPC ``eth_chainId``."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=1.0) as response:
            return "result" in json.loads(response.read())
    except (OSError, ValueError):
        return False


def _anvil_binary(modules: Path) -> Path:
    """The native anvil of this platform's ``@foundry-rs/anvil-<os>-<arch>`` package, else the npm wrapper.

    The wrapper (``.bin/anvil``) forwards SIGTERM to the binary and exits at once, while the binary is still
    writing its state file: waiting on the wrapper would return before the state is on disk.
    """
    native = sorted(modules.glob("@foundry-rs/anvil-*/bin/anvil"))
    return native[0] if native else modules / ".bin" / "anvil"


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""
