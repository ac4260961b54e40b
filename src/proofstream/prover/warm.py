"""The fast Groth16 path: long-lived processes that load the key once and prove many tasks.

A lane is two processes: circom's witness calculator over the circuit's wasm in one Node process
(:class:`~proofstream.circuits.witness.WitnessRunner`), and groth16py (arkworks) in one Python child that imported
the ``.zkey`` at start (:mod:`proofstream.prover.ark_child`). The CLI path pays a Node start, curve set-up and key
load for every proof; a lane pays them once. A :class:`WarmProver` keeps up to ``lanes`` of them, so that many
prover threads prove at once.

Licences: groth16py is GPL-3.0 and an optional extra (``proofstream[fastprove]``). proofstream never imports it: it
asks only whether it is installed (``importlib.util.find_spec``, which does not run it) and starts the child, as it
runs snarkjs, a GPL-3.0 tool, as a separate program.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import queue
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from proofstream import logs as log
from proofstream.circuits import tools
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.circuits.witness import WitnessRunner
from proofstream.errors import CircuitError, ConfigError, ProverError, ToolchainError
from proofstream.prover.groth16 import Groth16Proof, Groth16Prover, ProofTimings, SnarkjsProver

__all__ = ["FAST_EXTRA", "WarmProver", "choose_prover", "fast_prover_installed"]

logger = logging.getLogger(__name__)

FAST_EXTRA = "groth16py"
"""The module the ``fastprove`` extra installs, run only inside :mod:`proofstream.prover.ark_child`."""
DEFAULT_TIMEOUT_S = 300.0
"""A proof of the template circuits takes about a second; five minutes means a stuck child."""
START_TIMEOUT_S = 120.0

_CHILD = Path(__file__).with_name("ark_child.py")


def fast_prover_installed() -> bool:
    """Whether the ``fastprove`` extra is installed (found, not imported)."""
    return importlib.util.find_spec(FAST_EXTRA) is not None


def choose_prover(choice: str, artifacts: CircuitArtifacts, *, lanes: int = 1) -> Groth16Prover:
    """The Groth16 prover ``prover.backend`` names (settings.PROVER_BACKENDS): ``snarkjs``, ``fast``, or ``auto``,
    the fast path when its extra is installed. ``lanes``: how many proofs the fast path makes at once."""
    if choice not in ("auto", "snarkjs", "fast"):
        raise ConfigError(f"prover.backend must be auto, snarkjs or fast, got {choice!r}")
    if choice == "snarkjs" or (choice == "auto" and not fast_prover_installed()):
        return SnarkjsProver(artifacts)
    if not fast_prover_installed():
        raise ConfigError(
            "prover.backend is 'fast' but groth16py is not installed: install proofstream[fastprove] "
            "(GPL-3.0, see the README's Licence section) or set prover.backend = 'auto'"
        )
    return WarmProver(artifacts, lanes=lanes)


class _ArkProcess:
    """The groth16py child of one lane: loads the ``.zkey`` at start, then proves ``.wtns`` files."""

    def __init__(self, zkey: Path, python: str, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._process = subprocess.Popen(
            [python, "-I", str(_CHILD), str(zkey)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            self._answer(START_TIMEOUT_S)
        except BaseException:
            self.close()
            raise

    @property
    def pid(self) -> int:
        return self._process.pid

    def prove(self, wtns: Path) -> tuple[bytes, float]:
        """The Router's calldata for the witness in ``wtns``, and the seconds the child spent proving."""
        stdin = self._pipes()[0]
        try:
            stdin.write(json.dumps({"wtns": str(wtns)}) + "\n")
            stdin.flush()
        except OSError as exc:
            raise ToolchainError(f"the groth16py prover died: {exc}") from exc
        answer = self._answer(self._timeout_s)
        return bytes.fromhex(str(answer["proof"])), float(answer["prove_s"])

    def _answer(self, timeout_s: float) -> dict[str, Any]:
        stdout = self._pipes()[1]
        # One request is outstanding at a time, so nothing waits in the reader's buffer: select on the pipe is exact.
        ready, _, _ = select.select([stdout], [], [], timeout_s)
        if not ready:
            raise ToolchainError(f"the groth16py prover gave no answer in {timeout_s} s")
        line = stdout.readline()
        if not line:
            raise ToolchainError(f"the groth16py prover exited (status {self._process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise ToolchainError(f"the groth16py prover failed: {answer.get('error')}")
        return answer

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        return tools.child_pipes(self._process, "groth16py prover")

    def close(self) -> None:
        tools.stop_child(self._process)


class _Lane:
    """One witness process and one prover process, used by one thread at a time."""

    def __init__(self, artifacts: CircuitArtifacts, python: str, timeout_s: float) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="proofstream-warm-")
        self.wtns = Path(self._dir.name) / "witness.wtns"
        self.witness = WitnessRunner(artifacts, artifacts.public_signals)
        try:
            self.ark = _ArkProcess(artifacts.zkey, python, timeout_s)
        except BaseException:
            self.witness.close()
            self._dir.cleanup()
            raise

    def prove(self, inputs: Mapping[str, Any]) -> Groth16Proof:
        started = time.perf_counter()
        try:
            signals = self.witness.write_witness(inputs, self.wtns)
        except CircuitError as exc:
            raise ProverError(str(exc), code=exc.code) from exc
        witness_s = time.perf_counter() - started
        calldata, prove_s = self.ark.prove(self.wtns)
        timings = ProofTimings(witness_s=witness_s, prove_s=prove_s, total_s=time.perf_counter() - started)
        return Groth16Proof.from_calldata(signals, calldata, timings)

    def close(self) -> None:
        self.ark.close()
        self.witness.close()
        self._dir.cleanup()


class WarmProver:
    """Groth16 proofs from up to ``lanes`` warm lanes, started when first needed; thread-safe, ``lanes`` proofs at
    once. A lane whose process fails is dropped (its call raises ToolchainError) and the next call starts a new one.
    """

    name = "groth16py"

    def __init__(
        self,
        artifacts: CircuitArtifacts,
        *,
        lanes: int = 1,
        python: str = sys.executable,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if lanes < 1:
            raise ValueError("a warm prover needs at least one lane")
        self.artifacts = artifacts
        self._python = python
        self._timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(lanes)
        self._idle: queue.SimpleQueue[_Lane] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._lanes: set[_Lane] = set()

    @property
    def processes(self) -> list[int]:
        """The process ids of every lane now started (witness and prover), for whoever measures them."""
        with self._lock:
            return [pid for lane in self._lanes for pid in (lane.witness.pid, lane.ark.pid)]

    def prove(self, inputs: Mapping[str, Any]) -> Groth16Proof:
        with self._slots:
            lane = self._take()
            try:
                proof = lane.prove(inputs)
            except ProverError:
                self._idle.put(lane)  # the circuit rejected the inputs: the lane is fine
                raise
            except BaseException:
                self._drop(lane)  # a dead process, or an answer that may still be on its way: never reuse it
                raise
            self._idle.put(lane)
        log.info(
            logger,
            "groth16 proved",
            circuit=self.artifacts.name,
            prover=self.name,
            witness_s=round(proof.timings.witness_s, 3),
            prove_s=round(proof.timings.prove_s, 3),
            seconds=round(proof.timings.total_s, 3),
        )
        return proof

    def _take(self) -> _Lane:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        lane = _Lane(self.artifacts, self._python, self._timeout_s)
        with self._lock:
            self._lanes.add(lane)
        log.info(logger, "warm prover lane started", circuit=self.artifacts.name, lanes=len(self._lanes))
        return lane

    def _drop(self, lane: _Lane) -> None:
        with self._lock:
            self._lanes.discard(lane)
        lane.close()

    def close(self) -> None:
        """Stop every lane. Call it when no thread proves any more."""
        with self._lock:
            lanes, self._lanes = list(self._lanes), set()
        while not self._idle.empty():
            self._idle.get_nowait()
        for lane in lanes:
            lane.close()
