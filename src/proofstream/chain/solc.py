"""Compile Solidity with the pinned npm ``solc`` (solcjs) through its standard-JSON interface.

The standard-JSON input is kept with the result: it is exactly what a block explorer asks for to verify a
deployed contract. Outputs are cached under the user cache directory, keyed by the SHA-256 of the input and
the compiler version, because solcjs (the compiler as WebAssembly) takes seconds per run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from proofstream import logs as log
from proofstream.errors import ToolchainError
from proofstream.toolchain import find_node_modules, run_node_tool

logger = logging.getLogger(__name__)

EVM_VERSION = "prague"
"""Target EVM: what anvil and current L2s run. Pinned so bytecode does not change with the compiler's
default."""

OPTIMIZER_RUNS = 200
"""The usual trade-off between deployment size and call cost."""

COMPILE_TIMEOUT_S = 180.0
"""solcjs compiles the core contracts in a few seconds; a snarkjs verifier adds little."""

_PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ContractArtifact:
    """One compiled contract: what deploying and calling it needs."""

    name: str
    """Contract name, e.g. ``TaskManager``."""
    source: str
    """Source unit name it was compiled from, e.g. ``contracts/TaskManager.sol``."""
    abi: tuple[dict[str, Any], ...] = field(repr=False)
    bytecode: str = field(repr=False)
    """Creation bytecode, 0x-prefixed hex."""
    deployed_bytecode: str = field(repr=False)
    """Runtime bytecode, 0x-prefixed hex (to compare with ``eth_getCode``); zeros where immutables go."""
    immutable_ranges: tuple[tuple[int, int], ...] = field(default=(), repr=False)
    """``(start, length)`` byte ranges of ``deployed_bytecode`` that the constructor fills with immutables: the
    only bytes in which a deployed instance may differ from it (:func:`is_instance`)."""


@dataclass(frozen=True)
class CompilationResult:
    """Every contract of one compilation, plus the exact input that produced them."""

    artifacts: Mapping[str, ContractArtifact]
    """By contract name (names are unique across the sources proofstream compiles)."""
    standard_json_input: str = field(repr=False)
    """The compiler input, byte for byte, for explorer verification."""
    compiler_version: str

    def artifact(self, name: str) -> ContractArtifact:
        """The contract called ``name``; ToolchainError if the compilation has none."""
        try:
            return self.artifacts[name]
        except KeyError:
            raise ToolchainError(
                f"no contract {name!r} in compilation (have: {', '.join(sorted(self.artifacts))})"
            ) from None


def find_contracts_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder of proofstream's Solidity sources (``contracts/`` at the repository root)."""
    if explicit is not None:
        path = Path(explicit).resolve()
        if not path.is_dir():
            raise ToolchainError(f"contracts folder not found at {path}")
        return path
    for start in (_PACKAGE_DIR, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            candidate = folder / "contracts"
            if (candidate / "TaskManager.sol").is_file():
                return candidate
    raise ToolchainError("proofstream's contracts/ folder not found; run from a proofstream checkout")


def read_sources(folder: str | os.PathLike[str], prefix: str) -> dict[str, str]:
    """Every ``*.sol`` file of ``folder`` keyed by ``prefix/<file name>``, the source unit names imports
    use."""
    base = Path(folder)
    return {f"{prefix}/{path.name}": path.read_text() for path in sorted(base.glob("*.sol"))}


def core_sources(contracts_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """proofstream's own contracts, keyed ``contracts/<file>.sol``."""
    return read_sources(find_contracts_dir(contracts_dir), "contracts")


def compile_core(
    extra_sources: Mapping[str, str] | None = None,
    *,
    node_modules: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> CompilationResult:
    """Compile the contracts in ``contracts/`` together with ``extra_sources`` (e.g. a snarkjs verifier)."""
    sources = core_sources()
    sources.update(extra_sources or {})
    return compile_sources(sources, node_modules=node_modules, cache_dir=cache_dir)


def standard_json_input(sources: Mapping[str, str]) -> str:
    """The compiler input for ``sources`` (source unit name -> Solidity text), in a canonical form."""
    document = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sorted(sources.items())},
        "settings": {
            "evmVersion": EVM_VERSION,
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "outputSelection": {
                "*": {
                    "*": [
                        "abi",
                        "evm.bytecode.object",
                        "evm.deployedBytecode.object",
                        "evm.deployedBytecode.immutableReferences",
                    ]
                },
            },
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def compile_sources(
    sources: Mapping[str, str],
    *,
    node_modules: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> CompilationResult:
    """Compile ``sources`` (source unit name -> Solidity text) with solcjs; cached by content hash.

    Imports between the sources resolve by source unit name (``import "./IVerifier.sol"`` inside
    ``contracts/Router.sol`` is ``contracts/IVerifier.sol``); there is no file-system import callback, so
    every imported file must be among ``sources``. Compiler errors raise ToolchainError with solc's formatted
    messages.
    """
    modules = find_node_modules(node_modules)
    version = _solc_version(modules)
    input_json = standard_json_input(sources)
    key = hashlib.sha256(f"{version}\n{input_json}".encode()).hexdigest()
    cache_file = _cache_root(cache_dir) / f"{key}.json"
    output = _read_cache(cache_file)
    if output is None:
        result = run_node_tool(
            "solc/solc.js",
            ["--standard-json"],
            node_modules=modules,
            stdin=input_json,
            timeout_s=COMPILE_TIMEOUT_S,
        )
        output = _parse_output(result.stdout)
        _raise_on_errors(output)
        _write_cache(cache_file, output)
        log.info(
            logger,
            "solidity compiled",
            count=len(sources),
            solc=version,
            seconds=round(result.seconds, 1),
            path=cache_file,
        )
    return CompilationResult(artifacts=_artifacts(output), standard_json_input=input_json, compiler_version=version)


def _solc_version(node_modules: Path) -> str:
    try:
        package = json.loads((node_modules / "solc" / "package.json").read_text())
        return str(package["version"])
    except (OSError, ValueError, KeyError) as exc:
        raise ToolchainError(f"npm solc not installed under {node_modules}") from exc


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> Path:
    root = Path(cache_dir) if cache_dir is not None else Path(platformdirs.user_cache_dir("proofstream")) / "solc"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_cache(path: Path, output: dict[str, Any]) -> None:
    # Write then rename, so a concurrent reader never sees half a file.
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
        json.dump(output, handle)
    Path(handle.name).replace(path)


def _parse_output(stdout: str) -> dict[str, Any]:
    # solcjs prints notes such as ">>> Cannot retry compilation with SMT ..." on their own lines before the
    # JSON document: keep only the line that is the document.
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if isinstance(document, dict):
                return document
    raise ToolchainError(f"solc printed no JSON output: {stdout[-500:]!r}")


def _raise_on_errors(output: Mapping[str, Any]) -> None:
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error" or e.get("type") == "Error"]
    if errors:
        messages = "\n".join(str(e.get("formattedMessage") or e.get("message")) for e in errors)
        raise ToolchainError(f"Solidity compilation failed:\n{messages}")
    for warning in output.get("errors", []):
        log.debug(logger, "solc warning", error=warning.get("formattedMessage") or warning.get("message"))


def _artifacts(output: Mapping[str, Any]) -> dict[str, ContractArtifact]:
    artifacts: dict[str, ContractArtifact] = {}
    for source, contracts in sorted(output.get("contracts", {}).items()):
        for name, data in sorted(contracts.items()):
            if name in artifacts:
                raise ToolchainError(f"contract name {name!r} defined in both {artifacts[name].source} and {source}")
            artifacts[name] = ContractArtifact(
                name=name,
                source=source,
                abi=tuple(data["abi"]),
                bytecode="0x" + data["evm"]["bytecode"]["object"],
                deployed_bytecode="0x" + data["evm"]["deployedBytecode"]["object"],
                immutable_ranges=tuple(
                    sorted(
                        (int(ref["start"]), int(ref["length"]))
                        for refs in data["evm"]["deployedBytecode"].get("immutableReferences", {}).values()
                        for ref in refs
                    )
                ),
            )
    return artifacts


def is_instance(artifact: ContractArtifact, code: bytes) -> bool:
    """Whether ``code`` (``eth_getCode``) is ``artifact``'s runtime bytecode, whatever its immutables hold: equal
    byte for byte outside :attr:`ContractArtifact.immutable_ranges`."""
    expected = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    if not expected or len(code) != len(expected):
        return False
    masked = bytearray(code)
    for start, length in artifact.immutable_ranges:
        masked[start : start + length] = bytes(length)
    return bytes(masked) == expected
