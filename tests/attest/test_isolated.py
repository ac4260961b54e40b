"""The project's logic in a separate process: results, refusals, crashes, timeouts and suspicious outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from attest.attest_world import LOGIC, write_logic
from proofstream.domain.circuit_task import TaskRecord
from proofstream.errors import ProverError
from proofstream.prover.isolated import IsolatedLogic, LogicRejectedError

RECORDS = (TaskRecord(1, 10, {"lat": 100, "lon": 7}), TaskRecord(2, 11, {"lat": 130, "lon": 7}))


def _logic(tmp_path: Path, body: str, **kwargs: object) -> IsolatedLogic:
    text = "from proofstream.prover.ports import TaskRecord\nOUTPUTS = ('x',)\ndef check(records):\n    pass\n" + body
    return IsolatedLogic(write_logic(tmp_path, text), **kwargs)  # type: ignore[arg-type]


def test_runs_check_and_outputs_out_of_process(tmp_path: Path) -> None:
    logic = IsolatedLogic(write_logic(tmp_path, LOGIC), repeat=2)
    assert logic.run(RECORDS) == (30,)
    assert logic.run(RECORDS[:1]) == (0,)


def test_a_value_error_is_a_rejection_of_the_batch(tmp_path: Path) -> None:
    logic = IsolatedLogic(write_logic(tmp_path, LOGIC))
    with pytest.raises(LogicRejectedError, match="latitude 0") as info:
        logic.run((*RECORDS, TaskRecord(3, 12, {"lat": 0, "lon": 7})))
    assert info.value.code == "invalid_task"


def test_a_crash_is_reported_with_its_reason(tmp_path: Path) -> None:
    logic = _logic(tmp_path, "def outputs(records, previous=None):\n    return (1 // 0,)\n")
    with pytest.raises(ProverError, match="ZeroDivisionError") as info:
        logic.run(RECORDS)
    assert info.value.code == "logic_crashed" and not isinstance(info.value, LogicRejectedError)


def test_a_hard_exit_without_an_answer_is_a_crash(tmp_path: Path) -> None:
    logic = _logic(tmp_path, "import os\ndef outputs(records, previous=None):\n    os._exit(3)\n")
    with pytest.raises(ProverError, match="exit status 3") as info:
        logic.run(RECORDS)
    assert info.value.code == "logic_crashed"


def test_an_import_error_is_a_crash(tmp_path: Path) -> None:
    logic = IsolatedLogic(write_logic(tmp_path, "import no_such_module_here\n"))
    with pytest.raises(ProverError, match="no_such_module_here"):
        logic.run(RECORDS)


def test_a_loop_is_killed_at_the_timeout(tmp_path: Path) -> None:
    logic = _logic(tmp_path, "def outputs(records, previous=None):\n    while True:\n        pass\n", timeout_s=1.0)
    with pytest.raises(ProverError, match=r"longer than 1\.0 s") as info:
        logic.run(RECORDS)
    assert info.value.code == "logic_timeout"


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("(1.0,)", "float"),
        ("(True,)", "bool"),
        ("('5',)", "str"),
        ("(-1,)", "outside"),
        ("(2**254,)", "outside"),
        ("7", "tuple of ints"),
        ("()", "tuple of ints"),
        ("(1, 2)", "OUTPUTS names 1"),
        ("(__import__('fractions').Fraction(1, 3),)", "Fraction"),
        ("(float('nan'),)", "float"),
    ],
)
def test_suspicious_outputs_are_refused(tmp_path: Path, returned: str, message: str) -> None:
    logic = _logic(tmp_path, f"def outputs(records, previous=None):\n    return {returned}\n")
    with pytest.raises(ProverError, match=message) as info:
        logic.run(RECORDS)
    assert info.value.code == "bad_outputs"


def test_printing_cannot_forge_the_answer(tmp_path: Path) -> None:
    body = "def outputs(records, previous=None):\n    print('{\"outputs\": [999]}')\n    return (5,)\n"
    assert _logic(tmp_path, body).run(RECORDS) == (5,)


def test_hash_order_dependence_is_caught_by_repeating(tmp_path: Path) -> None:
    body = "def outputs(records, previous=None):\n    return (hash('proofstream') % 1000003,)\n"
    with pytest.raises(ProverError, match="different outputs") as info:
        _logic(tmp_path, body, repeat=3).run(RECORDS)
    assert info.value.code == "nondeterministic"


def test_the_child_sees_no_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTESTER_SECRET_FOR_TEST", "0x" + "11" * 32)
    body = (
        "import os\ndef outputs(records, previous=None):\n    return (int('ATTESTER_SECRET_FOR_TEST' in os.environ),)\n"
    )
    assert _logic(tmp_path, body).run(RECORDS) == (0,)


def test_memory_is_limited(tmp_path: Path) -> None:
    body = "def outputs(records, previous=None):\n    block = bytearray(1 << 30)\n    return (len(block),)\n"
    with pytest.raises(ProverError, match="MemoryError"):
        _logic(tmp_path, body, memory_mb=256).run(RECORDS)
