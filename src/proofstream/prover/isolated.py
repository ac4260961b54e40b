"""Run a project's ``logic.py`` (``check`` then ``outputs``) in a separate Python process.

Why a process: the attester's key lives in the parent, and the project's code is the project's, not ours. The
child gets no environment variables, no file descriptors but its pipes, a fresh empty working directory, an
address-space limit and a wall-clock timeout, and speaks JSON over stdin/stdout. It runs as ``python -I``
(no user site, no ``PYTHON*`` variables, no script directory on ``sys.path``); only proofstream's own import
root is added, because logic files import ``proofstream.prover.ports.TaskRecord``.

What that does NOT protect: the child runs as the same OS user, so it can read any file that user can (the key
file included) and open network connections. Run attesters of code you do not trust under a separate user,
in a container or a seccomp/landlock sandbox; the process boundary keeps a logic bug or a crash from touching
the key in memory, it is not a sandbox.

Results are checked for what would make attesters disagree: every output must be a Python ``int`` (no float,
no bool) in the BN254 field, and the count must match ``OUTPUTS``. ``repeat`` > 1 runs the logic several times,
each in a new process with a new hash seed, and refuses results that differ (e.g. iterating over a set).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import proofstream
from proofstream import logs as log
from proofstream.domain.circuit_task import TaskRecord
from proofstream.domain.types import FIELD_MODULUS
from proofstream.errors import ProverError

__all__ = ["IsolatedLogic", "LogicRejectedError"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
"""A batch holds at most 64 messages: integer logic over them takes milliseconds. Ten seconds means a loop."""
DEFAULT_MEMORY_MB = 1024
MAX_OUTPUT_BYTES = 1 << 20
"""The child's answer is a few numbers; anything bigger is refused rather than parsed."""

_IMPORT_ROOT = str(Path(proofstream.__file__).resolve().parent.parent)
"""The folder that holds the ``proofstream`` package (``src/`` of a checkout, or site-packages)."""


class LogicRejectedError(ProverError):
    """The project's logic refused the batch (``check`` or ``outputs`` raised ValueError): the task is invalid,
    and re-running it will not change that."""

    code = "invalid_task"


@dataclass(frozen=True)
class IsolatedLogic:
    """The logic of one project, run out of process. Thread-safe (each call starts its own process)."""

    logic_path: Path
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    repeat: int = 1
    """Runs per call; more than one catches logic whose result depends on the hash seed."""
    python: str = sys.executable

    def __post_init__(self) -> None:
        object.__setattr__(self, "logic_path", Path(self.logic_path).resolve())
        if self.repeat < 1:
            raise ValueError("repeat must be at least 1")

    def run(self, records: Sequence[TaskRecord], previous: TaskRecord | None = None) -> tuple[int, ...]:
        """``check(records)`` then ``outputs(records, previous)`` in a child process; the outputs, checked.
        ``previous``: the anchor's message when the task opens it (domain/anchor.py).

        LogicRejectedError when the logic raises ValueError (the batch breaks the project's rules); ProverError
        ``logic_timeout``, ``logic_crashed``, ``bad_outputs`` or ``nondeterministic`` otherwise.
        """
        request = json.dumps(
            {
                "logic": str(self.logic_path),
                "memory_mb": self.memory_mb,
                "records": [_record_json(r) for r in records],
                "previous": None if previous is None else _record_json(previous),
            }
        )
        results = [self._once(request) for _ in range(self.repeat)]
        if any(result != results[0] for result in results[1:]):
            raise ProverError(
                f"{self.logic_path} gave different outputs for the same batch: {results}; logic must not depend "
                "on hash order, time, randomness or the environment",
                code="nondeterministic",
            )
        return results[0]

    def _once(self, request: str) -> tuple[int, ...]:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="proofstream-logic-") as workdir:
            try:
                done = subprocess.run(
                    [self.python, "-I", "-c", _CHILD, _IMPORT_ROOT],
                    input=request.encode(),
                    capture_output=True,
                    timeout=self.timeout_s,
                    env={},
                    cwd=workdir,
                    close_fds=True,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ProverError(
                    f"{self.logic_path} ran longer than {self.timeout_s} s and was killed", code="logic_timeout"
                ) from exc
            except OSError as exc:
                raise ProverError(f"cannot start {self.python} to run {self.logic_path}: {exc}") from exc
        answer = _parse_answer(done.stdout, done.stderr, done.returncode, self.logic_path)
        log.debug(logger, "logic ran", path=self.logic_path, seconds=round(time.perf_counter() - started, 3))
        return answer


def _record_json(record: TaskRecord) -> dict[str, object]:
    return {"nonce": record.nonce, "timestamp": record.timestamp, "payload": dict(record.payload)}


def _parse_answer(stdout: bytes, stderr: bytes, returncode: int, path: Path) -> tuple[int, ...]:
    tail = stderr.decode(errors="replace")[-2000:]
    if len(stdout) > MAX_OUTPUT_BYTES:
        raise ProverError(f"{path} answered with {len(stdout)} bytes; outputs are a few integers", code="bad_outputs")
    try:
        answer = json.loads(stdout.decode())
    except (UnicodeDecodeError, ValueError):
        raise ProverError(
            f"{path} crashed (exit status {returncode}) without an answer: {tail or 'no output'}", code="logic_crashed"
        ) from None
    if not isinstance(answer, dict):
        raise ProverError(f"{path}: the logic runner answered {answer!r}", code="logic_crashed")
    if answer.get("rejected") is not None:
        raise LogicRejectedError(f"{path} rejects the batch: {answer['rejected']}")
    if answer.get("error") is not None:
        raise ProverError(f"{path} crashed: {answer['error']}", code="logic_crashed")
    return _checked_outputs(answer.get("outputs"), answer.get("expected"), path)


def _checked_outputs(outputs: Any, expected: Any, path: Path) -> tuple[int, ...]:
    if not isinstance(outputs, list) or not outputs:
        raise ProverError(
            f"{path}: outputs() must return a non-empty tuple of ints, got {outputs!r}", code="bad_outputs"
        )
    for i, value in enumerate(outputs):
        # JSON keeps the difference: 3.0 comes back a float, True a bool.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProverError(
                f"{path}: output {i} is {value!r} ({type(value).__name__}); outputs must be ints (no floats: "
                "rounding differs between machines)",
                code="bad_outputs",
            )
        if not 0 <= value < FIELD_MODULUS:
            raise ProverError(f"{path}: output {i} = {value} is outside 0..p-1 (the BN254 field)", code="bad_outputs")
    if isinstance(expected, int) and expected != len(outputs):
        raise ProverError(
            f"{path}: outputs() returned {len(outputs)} values but OUTPUTS names {expected}", code="bad_outputs"
        )
    return tuple(outputs)


# --- the child ------------------------------------------------------------------------------------------------

_CHILD = """
import json, sys

def refuse(value):
    # A value json cannot write (a Fraction, a Decimal): name it, and let the parent refuse it.
    return "<%s: %r>" % (type(value).__name__, value)

def limit_memory(megabytes):
    if megabytes <= 0:
        return
    try:
        import resource
    except ImportError:
        return
    resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))

def run(request):
    import importlib.util
    from proofstream.domain.circuit_task import TaskRecord
    path = request["logic"]
    spec = importlib.util.spec_from_file_location("proofstream_isolated_logic", path)
    if spec is None or spec.loader is None:
        return {"error": "cannot import %s" % path}
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    def record(r):
        return TaskRecord(int(r["nonce"]), int(r["timestamp"]), {str(k): int(v) for k, v in r["payload"].items()})
    records = tuple(record(r) for r in request["records"])
    previous = None if request.get("previous") is None else record(request["previous"])
    names = getattr(module, "OUTPUTS", None)
    try:
        module.check(records)
        outputs = module.outputs(records, previous)
    except ValueError as exc:
        return {"rejected": str(exc) or type(exc).__name__}
    if not isinstance(outputs, (tuple, list)):
        return {"outputs": outputs}
    return {"outputs": list(outputs), "expected": len(names) if isinstance(names, (tuple, list)) else None}

sys.path.insert(0, sys.argv[1])
real_stdout = sys.stdout
sys.stdout = sys.stderr  # what the logic prints can never be mistaken for the answer
try:
    request = json.loads(sys.stdin.read())
    limit_memory(int(request.get("memory_mb") or 0))
    answer = run(request)
except BaseException as exc:  # an answer is always written, whatever the logic did
    answer = {"error": "%s: %s" % (type(exc).__name__, exc)}
real_stdout.write(json.dumps(answer, default=refuse))
real_stdout.flush()
"""
"""The child process's whole program (stdlib only, so it starts fast), run with ``python -I -c``. Its
first argument is proofstream's import root."""
