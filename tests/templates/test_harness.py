"""The differential harness finds a logic.py that disagrees with its circuit, and a scaffolded project's own
tests run with plain pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from proofstream.chain.solc import compile_core
from proofstream.circuits.artifacts import CompiledCircuit
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.layout import batch_root, circuit_inputs
from proofstream.projects.scaffold import TEMPLATES, scaffold, template_dir
from proofstream.projects.spec import load_project
from proofstream.testing import DifferentialError, assert_project, records_of, run_differential


def test_logic_that_disagrees_is_caught(work: Path, compiled: dict[str, CompiledCircuit]) -> None:
    project = scaffold("uptime", "uptime", work)
    logic = project / "logic.py"
    logic.write_text(logic.read_text().replace("MAX_GAP = 300\n", "MAX_GAP = 240\n"))
    spec = load_project(project)
    report = run_differential(spec, examples=40, seed=9, compiled=compiled["uptime"])
    assert not report.ok
    # both the generated batches and the edge case with gaps of 299..301 s find it
    assert report.property_failure is not None and len(report.property_failure.records) >= 2
    assert any(o.label == "edge case 2" and not o.agrees for o in report.outcomes)
    failure = report.failures[0]
    assert failure.circuit is not None and failure.reference is not None
    assert failure.circuit[0] > failure.reference[0]  # only the circuit still credits gaps of 241..300 s
    text = report.describe()
    assert "DISAGREE" in text and "first failure:" in text
    assert f"circuit:   seconds={failure.circuit[0]}" in text and f"reference: seconds={failure.reference[0]}" in text
    assert '"valid": ["1"' in text  # the circuit inputs of the failing batch are shown
    with pytest.raises(DifferentialError) as caught:
        report.raise_on_failure()
    assert caught.value.code == "differential_mismatch"


def test_logic_that_ignores_the_previous_message_is_caught(work: Path, compiled: dict[str, CompiledCircuit]) -> None:
    project = scaffold("uptime", "uptime", work)
    logic = project / "logic.py"
    text = logic.read_text()
    honest = "beats = [previous, *records] if previous is not None else list(records)"
    assert honest in text
    logic.write_text(text.replace(honest, "beats = list(records)"))
    report = run_differential(load_project(project), examples=0, seed=2, compiled=compiled["uptime"])
    assert not report.ok
    failing = {o.label for o in report.failures}
    assert "chained edge case 1" in failing and "full batch after its previous message" in failing
    assert "full batch (8 messages)" not in failing  # unchained tasks still agree
    assert "previous: nonce=" in report.describe()


def test_logic_that_crashes_is_a_failure_not_an_error(work: Path, compiled: dict[str, CompiledCircuit]) -> None:
    project = scaffold("uptime", "uptime", work)
    logic = project / "logic.py"
    logic.write_text(logic.read_text().replace('after.payload["uptime"]', 'after.payload["uptme"]'))
    report = run_differential(load_project(project), examples=5, seed=1, compiled=compiled["uptime"])
    assert not report.ok
    assert "logic.py raised KeyError: 'uptme'" in report.describe()


@pytest.mark.toolchain
def test_circuit_that_accepts_an_empty_batch_is_caught(work: Path) -> None:
    project = scaffold("uptime", "uptime", work)
    circuit = project / "circuit.circom"
    # a circuit that forgot the batch library: it computes the right seconds but checks nothing
    lines = circuit.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "component batch = ProofstreamBatch" in line)
    end = next(i for i, line in enumerate(lines) if "batch.fields[1] <== uptime;" in line)
    body = [*lines[:start], *lines[end + 1 :]]
    text = "\n".join(body).replace("batch.dt[i]", "valid[i] * (timestamp[i] - timestamp[i - 1])")
    text = text.replace(
        "for (var i = 0; i < CAPACITY; i++) {\n        capGap", "for (var i = 1; i < CAPACITY; i++) {\n        capGap"
    )
    text = text.replace("signal credit[CAPACITY];", "signal credit[CAPACITY];\n    signal gap[CAPACITY];")
    text = text.replace(
        "capGap[i].a <== valid[i] * (timestamp[i] - timestamp[i - 1]);",
        "gap[i] <== valid[i] * (timestamp[i] - timestamp[i - 1]);\n        capGap[i].a <== gap[i];",
    )
    circuit.write_text(text + "\n")
    report = run_differential(load_project(project), examples=3, seed=1)
    empty = report.outcomes[-1]
    assert empty.expect_rejection and empty.circuit is not None
    assert not report.ok
    assert "the circuit must reject it (valid[0] must be 1" in empty.describe()
    # without the batch library nothing checks the anchor either
    wrong_opening = next(o for o in report.outcomes if o.label == "anchor leaf opened with another payload")
    assert not wrong_opening.agrees and "the opening of prevLeaf must hash to prevLeaf" in wrong_opening.describe()


def test_inputs_pad_with_zeros_and_root_matches_merkle() -> None:
    batch = records_of([(100, {"a": 1, "b": 2}), (105, {"a": 3, "b": 4})], first_nonce=9)
    task = CircuitTask(1, 2, 3, 4, batch_root(1, 3, batch, ("a", "b"), 2), tuple(batch))
    inputs = circuit_inputs(task, ("a", "b"), 2)
    assert inputs["valid"] == [1, 1, 0, 0] and inputs["nonce"] == [9, 10, 0, 0] and inputs["b"] == [2, 4, 0, 0]
    assert (inputs["firstNonce"], inputs["lastNonce"]) == (9, 10)
    with pytest.raises(ValueError, match="lacks payload field 'c'"):
        circuit_inputs(task, ("a", "c"), 2)
    with pytest.raises(ValueError, match="do not fit"):
        circuit_inputs(CircuitTask(1, 2, 3, 4, 0, tuple(batch) * 3), ("a", "b"), 2)


@pytest.mark.parametrize("template", ["weather-quality"])
def test_scaffolded_project_runs_its_own_tests(work: Path, template: str, compiled: dict[str, CompiledCircuit]) -> None:
    # named like the template so its circuit name (and compile cache entry) is the same
    project = scaffold(template, template, work)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" in done.stdout and "failed" not in done.stdout


@pytest.mark.toolchain
def test_template_projects_pass_assert_project() -> None:
    report = assert_project(template_dir("tracker-distance"), examples=5, seed=3)
    assert report.ok and report.property_examples == 5


@pytest.mark.toolchain
def test_template_dapps_compile_with_the_core_contracts() -> None:
    sources = {
        f"project/{folder}/Rewards.sol": (template_dir(name) / "Rewards.sol").read_text()
        for name, folder in TEMPLATES.items()
    }
    artifacts = compile_core(sources).artifacts
    for name in TEMPLATES:
        contract = load_project(template_dir(name)).dapp_contract
        abi = artifacts[contract].abi
        assert any(item.get("name") == "units" for item in abi), f"{contract} has no units()"


def test_template_records_round_trip() -> None:
    assert records_of([(5, {"x": 1})]) == [TaskRecord(1, 5, {"x": 1})]
