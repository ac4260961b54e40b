"""``proofstream project build``: everything a project needs before it can be deployed or run.

Groth16: compile the circuit, check it against the schema and the logic's outputs, run the trusted setup on a
cached powers-of-tau file and export the verifier. Every backend: compile the project's DApp together with
proofstream's contracts, and keep the compiler's standard-JSON input for block-explorer verification. Each
step is cached by content hash, so a second build of an unchanged project takes a second or two.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from proofstream import logs as log
from proofstream.chain.deploy import BATCH_VERIFIER_SOURCE_NAME, VERIFIER_SOURCE_NAME
from proofstream.chain.solc import CompilationResult, compile_core
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.circuits.batch_verifier import batch_verifier_source
from proofstream.circuits.build import build_circuit
from proofstream.circuits.ptau import required_power
from proofstream.errors import ConfigError, ProofstreamError
from proofstream.projects.ceremony import ceremony_artifacts, is_multi_party
from proofstream.projects.circuit import compile_project
from proofstream.projects.spec import ProjectSpec

__all__ = ["PROJECT_DAPP_SOURCE", "ProjectBuild", "build_project"]

logger = logging.getLogger(__name__)

PROJECT_DAPP_SOURCE = "project/Rewards.sol"
"""Source unit name of the project's DApp in the standard-JSON input (it imports ``contracts/...``)."""
STANDARD_JSON_FILE = "standard-json-input.json"


@dataclass(frozen=True)
class ProjectBuild:
    """A built project: what deploying and running it needs."""

    spec: ProjectSpec
    compilation: CompilationResult
    """proofstream's contracts, the project's DApp and (Groth16) the exported verifier."""
    artifacts: CircuitArtifacts | None
    """The circuit and its Groth16 keys; None for an attest project."""
    standard_json_path: Path
    """The compiler input kept for explorer verification."""
    multi_party: bool = False
    """Whether the Groth16 keys are the final key of the project's finalized ceremony (ceremony/)."""

    @property
    def config_hash(self) -> bytes:
        vkey = self.artifacts.vkey.read_bytes() if self.artifacts is not None else None
        return self.spec.content_hash(vkey)

    @property
    def verifier_source(self) -> str | None:
        return self.artifacts.verifier_sol.read_text() if self.artifacts is not None else None

    @property
    def single_party_setup(self) -> bool:
        """Whether the Groth16 keys come from proofstream's one-contribution setup (unsafe for real funds), not
        from a finalized multi-party ceremony whose transcript names this very key."""
        return self.artifacts is not None and not self.multi_party

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {
            "project": self.spec.name,
            "backend": self.spec.backend,
            "schema": self.spec.schema.to_json(),
            "capacity": self.spec.capacity,
            "outputs": list(self.spec.outputs),
            "dapp": self.spec.dapp_contract,
            "config_hash": "0x" + self.config_hash.hex(),
            "standard_json_input": str(self.standard_json_path),
        }
        if self.artifacts is not None:
            out |= {
                "constraints": self.artifacts.constraints,
                "public_signals": self.artifacts.public_signals,
                "ptau_power_needed": required_power(self.artifacts.constraints, self.artifacts.public_signals),
                "ptau": str(self.artifacts.ptau),
                "ptau_power": self.artifacts.ptau_power,
                "zkey": str(self.artifacts.zkey),
                "setup": "multi-party ceremony" if self.multi_party else "single-party (unsafe for real funds)",
            }
        return out


def build_project(
    spec: ProjectSpec,
    *,
    cache_dir: Path | None = None,
    ptau: Path | None = None,
    out_dir: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ProjectBuild:
    """Build ``spec``; raises CircuitError / ConfigError / ToolchainError that say what to fix.

    ``out_dir`` receives the build summary and the compiler input (default: the project's ``.proofstream/build``;
    the demo runs a template from the installed package and writes elsewhere)."""
    step = on_step or (lambda _: None)
    artifacts: CircuitArtifacts | None = None
    sources = {PROJECT_DAPP_SOURCE: spec.dapp_path.read_text()}
    if spec.backend == "groth16":
        step(f"compiling {spec.circuit_path.name} and checking it against [schema] and logic.OUTPUTS")
        compiled = compile_project(spec, cache_dir)  # a mismatch is reported before the slow setup
        artifacts = ceremony_artifacts(spec, compiled, cache_dir)
        if artifacts is not None:
            step("using the keys of the project's finalized ceremony (ceremony/transcript.json)")
        else:
            step("Groth16 setup on the powers of tau and verifier export (cached by content hash)")
            artifacts = build_circuit(spec.circuit_path, spec.circuit_name, cache_dir, ptau=ptau)
        sources[VERIFIER_SOURCE_NAME] = artifacts.verifier_sol.read_text()
        sources[BATCH_VERIFIER_SOURCE_NAME] = batch_verifier_source(json.loads(artifacts.vkey.read_text()))
    step("compiling the contracts (solc, cached by content hash)")
    try:
        compilation = compile_core(sources, cache_dir=cache_dir)
    except ProofstreamError as exc:
        raise type(exc)(
            f"{spec.dapp_path.name} or proofstream's contracts do not compile:\n{exc}", code=exc.code
        ) from exc
    artifact = compilation.artifacts.get(spec.dapp_contract)
    if artifact is None or artifact.source != PROJECT_DAPP_SOURCE:
        raise ConfigError(
            f"{spec.dapp_path} defines no contract {spec.dapp_contract!r} ([reward] contract in "
            f"{spec.config_path.name}); found: {', '.join(sorted(_project_contracts(compilation))) or 'none'}"
        )
    out = out_dir or spec.state_dir / "build"
    out.mkdir(parents=True, exist_ok=True)
    standard_json = out / STANDARD_JSON_FILE
    standard_json.write_text(compilation.standard_json_input)
    build = ProjectBuild(spec, compilation, artifacts, standard_json, multi_party=is_multi_party(artifacts, spec.root))
    (out / "build.json").write_text(json.dumps(build.summary(), indent=2) + "\n")
    log.info(
        logger,
        "project built",
        name=build.spec.name,
        backend=build.spec.backend,
        capacity=build.spec.capacity,
        config_hash="0x" + build.config_hash.hex(),
    )
    return build


def _project_contracts(compilation: CompilationResult) -> list[str]:
    return [a.name for a in compilation.artifacts.values() if a.source == PROJECT_DAPP_SOURCE]
