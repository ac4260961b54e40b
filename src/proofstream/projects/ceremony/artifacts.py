"""What the project build uses of a finalized ceremony: its keys, and whether a build's keys are multi-party."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from proofstream import logs as log
from proofstream.circuits.artifacts import CircuitArtifacts, CompiledCircuit
from proofstream.circuits.build import default_cache_dir

if TYPE_CHECKING:
    from proofstream.projects.spec import ProjectSpec


from proofstream.projects.ceremony.snarkjs import snarkjs
from proofstream.projects.ceremony.transcript import (
    CEREMONY_DIR,
    MIN_CONTRIBUTIONS,
    TRANSCRIPT_FILE,
    CeremonyError,
    read_transcript,
    sha256_file,
)
from proofstream.projects.ceremony.verify import check_final

logger = logging.getLogger(__name__)


def ceremony_artifacts(
    spec: ProjectSpec, compiled: CompiledCircuit, cache_dir: Path | None = None
) -> CircuitArtifacts | None:
    """The project's Groth16 keys from its finalized ceremony, or None when it has none (or none finalized).

    The ceremony must be of the circuit as compiled now (r1cs sha256), and the final key and verification key
    must be the files the transcript recorded; otherwise CeremonyError says what to do. The Solidity verifier
    is exported from the final key into the cache (generated GPL-3.0 code, never into the project)."""
    folder = spec.root / CEREMONY_DIR
    if not (folder / TRANSCRIPT_FILE).is_file():
        return None
    transcript = read_transcript(folder)
    if transcript.final is None:
        log.warning(logger, "ceremony not finalized, using the single-party setup", path=folder)
        return None
    if sha256_file(compiled.r1cs) != transcript.r1cs_sha256:
        raise CeremonyError(
            f"{spec.circuit_path.name} changed since the ceremony in {folder} began (its r1cs differs from the "
            "transcript's): run a new ceremony for this circuit, or move ceremony/ away to use a single-party "
            "setup",
            code="ceremony_stale",
        )
    problems = check_final(transcript)
    zkey = folder / str(transcript.final["zkey"])
    if not zkey.is_file() or sha256_file(zkey) != transcript.final["zkey_sha256"]:
        problems.append(f"{zkey} is missing or not the final key the transcript recorded")
    if problems:
        raise CeremonyError(f"the finalized ceremony in {folder} is inconsistent: {'; '.join(problems)}")
    vkey = folder / str(transcript.final["vkey"])
    cache = (cache_dir if cache_dir is not None else default_cache_dir()).expanduser()
    exported = cache / "ceremony" / f"{spec.circuit_name}-{transcript.final['zkey_sha256'][:24]}"
    verifier = exported / "Verifier.sol"
    if not verifier.is_file():
        exported.mkdir(parents=True, exist_ok=True)
        tmp = exported / f"Verifier.{os.getpid()}.tmp"
        snarkjs("zkey", "export", "solidityverifier", zkey, tmp, cwd=exported)
        tmp.replace(verifier)
    return CircuitArtifacts(
        name=compiled.name,
        key=hashlib.sha256(f"{compiled.key}|ceremony|{transcript.final['zkey_sha256']}".encode()).hexdigest(),
        r1cs=compiled.r1cs,
        wasm=compiled.wasm,
        sym=compiled.sym,
        witness_js=compiled.witness_js,
        constraints=compiled.constraints,
        public_signals=compiled.public_signals,
        wires=compiled.wires,
        zkey=zkey,
        vkey=vkey,
        verifier_sol=verifier,
        ptau=Path(transcript.ptau_file),
        ptau_power=transcript.ptau_power,
        ptau_sha256=transcript.ptau_sha256,
    )


def is_multi_party(artifacts: CircuitArtifacts | None, project_root: Path) -> bool:
    """Whether ``artifacts`` are the final key of the project's finalized ceremony: the transcript is final,
    has at least MIN_CONTRIBUTIONS contributions, and its final key's sha256 is the key's being deployed."""
    if artifacts is None:
        return False
    path = project_root / CEREMONY_DIR / TRANSCRIPT_FILE
    if not path.is_file():
        return False
    try:
        transcript = read_transcript(path)
    except CeremonyError:
        return False
    final = transcript.final
    return (
        final is not None
        and len(transcript.contributions) >= MIN_CONTRIBUTIONS
        and not check_final(transcript)
        and artifacts.zkey.is_file()
        and sha256_file(artifacts.zkey) == final["zkey_sha256"]
        and sha256_file(artifacts.vkey) == final["vkey_sha256"]
    )
