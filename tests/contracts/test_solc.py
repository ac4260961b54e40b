"""Compiling with the pinned solcjs: errors, the cache, the kept standard-JSON input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import proofstream.chain.solc as solc
from proofstream.chain.solc import CompilationResult, compile_sources, standard_json_input
from proofstream.errors import ToolchainError

pytestmark = pytest.mark.chain

TINY = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;
contract Tiny { function answer() external pure returns (uint256) { return 42; } }
"""


def test_compiles_all_core_contracts_for_prague(compilation: CompilationResult) -> None:
    for name in ("ProjectRegistry", "DeviceRegistry", "ProverRegistry", "TaskManager", "Router"):
        artifact = compilation.artifact(name)
        assert artifact.source == f"contracts/{name}.sol"
        assert len(artifact.bytecode) > 1000
        assert any(item.get("name") == "TaskAssigned" for item in compilation.artifact("TaskManager").abi)
    settings = json.loads(compilation.standard_json_input)["settings"]
    assert settings["evmVersion"] == "prague"
    assert settings["optimizer"] == {"enabled": True, "runs": 200}
    assert compilation.compiler_version == "0.8.37"


def test_unknown_artifact_names_what_there_is(compilation: CompilationResult) -> None:
    with pytest.raises(ToolchainError, match="Router"):
        compilation.artifact("Nope")


def test_compile_error_carries_solc_formatted_message(tmp_path: Path, compilation: CompilationResult) -> None:
    broken = TINY.replace("return 42;", "return undefinedThing;")
    with pytest.raises(ToolchainError) as info:
        compile_sources({"Tiny.sol": broken}, cache_dir=tmp_path)
    assert "undefinedThing" in str(info.value)
    assert "Tiny.sol" in str(info.value)
    assert list(tmp_path.glob("*.json")) == []  # failures are not cached


def test_second_compile_is_served_from_cache(
    tmp_path: Path, compilation: CompilationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = compile_sources({"Tiny.sol": TINY}, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 1

    def no_node(*args: object, **kwargs: object) -> None:
        raise AssertionError("solc ran although the output was cached")

    monkeypatch.setattr(solc, "run_node_tool", no_node)
    second = compile_sources({"Tiny.sol": TINY}, cache_dir=tmp_path)
    assert second.artifact("Tiny").bytecode == first.artifact("Tiny").bytecode
    assert second.standard_json_input == standard_json_input({"Tiny.sol": TINY})


def test_output_parser_skips_solcjs_notes() -> None:
    stdout = ">>> Cannot retry compilation with SMT because there are no SMT solvers available.\n" + json.dumps(
        {"contracts": {}}
    )
    assert solc._parse_output(stdout) == {"contracts": {}}
    with pytest.raises(ToolchainError):
        solc._parse_output(">>> nothing else\n")
