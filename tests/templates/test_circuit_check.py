"""A circuit that does not fit its project, or does not compile, is reported with what to fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from proofstream.circuits import build
from proofstream.circuits.artifacts import CompiledCircuit
from proofstream.circuits.build import compile_circuit
from proofstream.circuits.interface import check_circuit_matches, read_interface
from proofstream.circuits.tools import node_modules
from proofstream.domain.anchor import RECORD_INPUTS
from proofstream.errors import CircuitError
from proofstream.projects.circuit import compile_project
from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import load_project


def _weather(work: Path) -> Path:
    return scaffold("weather-quality", "weather-quality", work)


def test_interface_is_read_from_the_sym_file(compiled: dict[str, CompiledCircuit]) -> None:
    circuit = compiled["weather-quality"]
    interface = read_interface(circuit.r1cs, circuit.sym)
    assert interface.outputs == {"good": 0}
    assert list(interface.public) == list(RECORD_INPUTS)
    assert list(interface.public)[-4:] == ["prevTime", "prevLeaf", "lastTime", "lastLeaf"]
    assert interface.private == {
        "prevNonce": 0,
        "prevFields": 3,
        "valid": 8,
        "nonce": 8,
        "timestamp": 8,
        "temperature": 8,
        "humidity": 8,
        "pressure": 8,
    }


@pytest.mark.toolchain
def test_anchor_opening_missing_or_misshapen(work: Path) -> None:
    """A circuit that does not declare the anchor's opening (a protocol v1 circuit) is told what to declare."""
    project = _weather(work)
    source = project / "circuit.circom"
    text = source.read_text()
    text = text.replace("    signal input prevNonce;", "    signal prevNonce;\n    prevNonce <== 0;")
    text = text.replace("signal input prevFields[NFIELDS];", "signal input prevFields[NFIELDS + 1];")
    text = text.replace(
        "batch.prevFields <== prevFields;",
        "for (var f = 0; f < NFIELDS; f++) { batch.prevFields[f] <== prevFields[f]; }",
    )
    source.write_text(text)
    with pytest.raises(CircuitError) as caught:
        compile_project(load_project(project))
    message = str(caught.value)
    assert caught.value.code == "schema_mismatch"
    assert (
        "circuit.circom has no input signal `prevNonce`, the anchor's opening: declare `signal input prevNonce;`"
        in message
    )
    assert "declares `prevFields[4]` instead of `prevFields`" in message
    assert "`signal input prevFields[3];` (one per [schema] field)" in message


def test_schema_field_missing_from_the_circuit(work: Path, compiled: dict[str, CompiledCircuit]) -> None:
    project = _weather(work)
    config = project / "proofstream.toml"
    config.write_text(config.read_text().replace("[schema]", '[schema]\nwind = "uint16"', 1))
    with pytest.raises(CircuitError) as caught:
        compile_project(load_project(project))
    assert caught.value.code == "schema_mismatch"
    assert "schema field 'wind' has no input signal `wind[8]` in circuit.circom" in str(caught.value)
    assert "declare `signal input wind[CAPACITY];` or remove it from [schema]" in str(caught.value)


def test_circuit_input_missing_from_the_schema(compiled: dict[str, CompiledCircuit]) -> None:
    with pytest.raises(CircuitError, match=r"input signal `pressure\[8\]` that is not a \[schema\] field") as caught:
        check_circuit_matches(["temperature", "humidity"], 1, compiled["weather-quality"])
    assert caught.value.code == "schema_mismatch"


def test_wrong_number_of_outputs(work: Path, compiled: dict[str, CompiledCircuit]) -> None:
    project = _weather(work)
    logic = project / "logic.py"
    logic.write_text(logic.read_text().replace('OUTPUTS = ("good",)', 'OUTPUTS = ("good", "bad")'))
    with pytest.raises(CircuitError) as caught:
        compile_project(load_project(project))
    assert caught.value.code == "schema_mismatch"
    assert "declares 1 output(s) ['good'] but logic.OUTPUTS names 2 ['good', 'bad']" in str(caught.value)


def test_renamed_output_and_wrong_capacity(compiled: dict[str, CompiledCircuit]) -> None:
    with pytest.raises(CircuitError) as caught:
        check_circuit_matches(
            ["temperature", "humidity", "pressure"],
            1,
            compiled["weather-quality"],
            output_names=["readings"],
            capacity=16,
        )
    message = str(caught.value)
    assert "outputs are ['good'] but logic.OUTPUTS is ['readings']" in message
    assert "[batching] capacity is 16: make the main component's depth log2(capacity) = 4" in message


@pytest.mark.toolchain
def test_syntax_error_names_file_and_line(work: Path) -> None:
    project = _weather(work)
    source = project / "circuit.circom"
    lines = source.read_text().splitlines()
    broken = next(i for i, line in enumerate(lines) if "signal output good;" in line)
    lines[broken] = "    signal output good"  # missing semicolon
    source.write_text("\n".join(lines) + "\n")
    with pytest.raises(CircuitError) as caught:
        compile_circuit(source, "broken_weather")
    assert caught.value.code == "circuit_compile"
    message = str(caught.value)
    # circom reports the statement after the missing semicolon; either way it is this file, by line and column
    located = re.search(re.escape(str(source)) + r":(\d+):\d+: error\[P\d+\]", message)
    assert located is not None, message
    assert int(located.group(1)) in (broken + 1, broken + 2)
    assert "\x1b[" not in message and "previous errors were found" not in message


@pytest.mark.toolchain
def test_unknown_include_says_how_includes_resolve(work: Path) -> None:
    source = work / "circuit.circom"
    source.write_text(
        'pragma circom 2.1.6;\ninclude "batch.circom";\ntemplate A() { signal input a; }\ncomponent main = A();\n'
    )
    with pytest.raises(CircuitError, match=re.escape("use `proofstream/batch.circom`")) as caught:
        compile_circuit(source, "bad_include")
    assert caught.value.code == "circuit_compile"


@pytest.mark.toolchain
def test_compile_key_covers_the_library(monkeypatch: pytest.MonkeyPatch, work: Path) -> None:
    modules = node_modules()
    source = b"pragma circom 2.1.6;"
    before = build._compile_key(source, modules)
    library = work / "circuits"
    library.mkdir()
    for file in build.LIBRARY_DIR.glob("*.circom"):  # batch.circom, signatures.circom
        (library / file.name).write_text(file.read_text())
    original = (build.LIBRARY_DIR / "batch.circom").read_text()
    monkeypatch.setattr(build, "LIBRARY_DIR", library)
    assert build._compile_key(source, modules) == before  # same bytes, same key
    (library / "batch.circom").write_text(original + "\n// edited\n")
    assert build._compile_key(source, modules) != before
