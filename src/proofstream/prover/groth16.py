"""Groth16 proving and verification with snarkjs, and the proof in the shape the Solidity verifier takes.

:class:`Groth16Backend` proves through a :class:`Groth16Prover`: the snarkjs CLI (:class:`SnarkjsProver`, two
fresh Node processes per proof, the fallback) or the warm processes of :mod:`proofstream.prover.warm` (the fast
path). Both prove against the same ``.zkey`` and every proof is checked against snarkjs' verification key.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eth_abi.abi import decode, encode

from proofstream import logs as log
from proofstream.circuits import tools
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.circuits.build import build_circuit
from proofstream.circuits.witness import calculate_witness
from proofstream.domain.circuit_task import CircuitTask
from proofstream.errors import CircuitError, ProverError
from proofstream.prover.ports import CircuitProject, Proof

__all__ = [
    "Groth16Backend",
    "Groth16Proof",
    "Groth16Prover",
    "ProofTimings",
    "SnarkjsProver",
    "prove",
    "prove_witness",
    "verify",
]

logger = logging.getLogger(__name__)

G1 = tuple[int, int]
G2 = tuple[tuple[int, int], tuple[int, int]]

CALLDATA_TYPES = ("uint256[2]", "uint256[2][2]", "uint256[2]")
"""``abi.encode(a, b, c)`` as the Router decodes it: eight static words, 256 bytes."""


@dataclass(frozen=True, slots=True)
class ProofTimings:
    witness_s: float
    """Witness generation (0 when proving a ready-made witness)."""
    prove_s: float
    total_s: float
    """Wall time of the whole call, temp files and process starts included."""


@dataclass(frozen=True, slots=True)
class Groth16Proof:
    """A Groth16 proof in the Solidity verifier's argument shape.

    ``b`` holds the G2 coordinates as the EVM pairing precompile wants them, ``(x.c1, x.c0), (y.c1, y.c0)``:
    the reverse of snarkjs' JSON order. :meth:`to_snarkjs` swaps them back.
    """

    public_signals: tuple[int, ...]
    a: G1
    b: G2
    c: G1
    timings: ProofTimings
    backend: str = "groth16"

    @property
    def calldata(self) -> bytes:
        """``abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)``: the proof bytes the Router takes."""
        return encode(list(CALLDATA_TYPES), [list(self.a), [list(self.b[0]), list(self.b[1])], list(self.c)])

    def to_snarkjs(self) -> dict[str, Any]:
        """The proof as snarkjs' ``proof.json`` (affine points with z = 1)."""
        (bx1, bx0), (by1, by0) = self.b
        return {
            "pi_a": [str(self.a[0]), str(self.a[1]), "1"],
            "pi_b": [[str(bx0), str(bx1)], [str(by0), str(by1)], ["1", "0"]],
            "pi_c": [str(self.c[0]), str(self.c[1]), "1"],
            "protocol": "groth16",
            "curve": "bn128",
        }

    @classmethod
    def from_snarkjs(cls, proof: Mapping[str, Any], public: list[str], timings: ProofTimings) -> Groth16Proof:
        pa, pb, pc = proof["pi_a"], proof["pi_b"], proof["pi_c"]
        return cls(
            public_signals=tuple(int(v) for v in public),
            a=(int(pa[0]), int(pa[1])),
            b=((int(pb[0][1]), int(pb[0][0])), (int(pb[1][1]), int(pb[1][0]))),
            c=(int(pc[0]), int(pc[1])),
            timings=timings,
        )

    @classmethod
    def from_calldata(cls, public_signals: tuple[int, ...], calldata: bytes, timings: ProofTimings) -> Groth16Proof:
        """The proof in the Router's ``abi.encode(a, b, c)`` bytes (what groth16py answers), G2 in EVM order."""
        a, b, c = decode(list(CALLDATA_TYPES), calldata)
        return cls(public_signals, (a[0], a[1]), ((b[0][0], b[0][1]), (b[1][0], b[1][1])), (c[0], c[1]), timings)


class Groth16Prover(Protocol):
    """Turns a circuit's full inputs into a Groth16 proof against one circuit's ``.zkey``."""

    @property
    def name(self) -> str:
        """What proves: ``snarkjs`` (the CLI) or ``groth16py`` (warm processes)."""
        ...

    def prove(self, inputs: Mapping[str, Any]) -> Groth16Proof:
        """ProverError (``witness_failed``) for inputs the circuit rejects; ToolchainError when a tool fails."""
        ...

    def close(self) -> None: ...


class SnarkjsProver:
    """The snarkjs CLI: a witness process and a prover process per proof. Slow (curve set-up every time), needs
    nothing beyond node_modules, and any number of threads may call it at once."""

    name = "snarkjs"

    def __init__(self, artifacts: CircuitArtifacts) -> None:
        self.artifacts = artifacts

    def prove(self, inputs: Mapping[str, Any]) -> Groth16Proof:
        return prove(self.artifacts, inputs)

    def close(self) -> None:
        """Nothing outlives a proof."""


def _snarkjs(*args: str | Path, cwd: Path) -> tools.NodeResult:
    return tools.run_node(tools.snarkjs_cli(tools.node_modules()), args, cwd=cwd)


def _prove_in(artifacts: CircuitArtifacts, wtns: Path, work: Path, witness_s: float, started: float) -> Groth16Proof:
    proof_json, public_json = work / "proof.json", work / "public.json"
    done = _snarkjs("groth16", "prove", artifacts.zkey, wtns, proof_json, public_json, cwd=work)
    if done.returncode != 0 or not proof_json.is_file():
        raise ProverError(f"snarkjs groth16 prove failed for {artifacts.name}: {done.output[-2000:]}")
    timings = ProofTimings(witness_s=witness_s, prove_s=done.seconds, total_s=time.perf_counter() - started)
    proof = Groth16Proof.from_snarkjs(json.loads(proof_json.read_text()), json.loads(public_json.read_text()), timings)
    log.info(
        logger,
        "groth16 proved",
        circuit=artifacts.name,
        witness_s=round(timings.witness_s, 3),
        prove_s=round(timings.prove_s, 3),
        seconds=round(timings.total_s, 3),
    )
    return proof


def prove(artifacts: CircuitArtifacts, inputs: Mapping[str, Any]) -> Groth16Proof:
    """Compute the witness of ``inputs`` and prove it.

    Inputs that break a constraint or an assert raise ProverError (code ``witness_failed``) with circom's
    message.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="proofstream-prove-") as tmp:
        work = Path(tmp)
        wtns = work / "witness.wtns"
        try:
            witness_s = calculate_witness(artifacts, inputs, wtns)
        except CircuitError as exc:
            raise ProverError(str(exc), code=exc.code) from exc
        return _prove_in(artifacts, wtns, work, witness_s, started)


def prove_witness(artifacts: CircuitArtifacts, wtns: Path) -> Groth16Proof:
    """Prove a ready-made ``.wtns`` file. snarkjs does not check the witness here: a bad one gives a bad
    proof."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="proofstream-prove-") as tmp:
        return _prove_in(artifacts, wtns, Path(tmp), 0.0, started)


def verify(artifacts: CircuitArtifacts, proof: Groth16Proof) -> bool:
    """``snarkjs groth16 verify`` of ``proof`` against the circuit's verification key.

    Any proof snarkjs does not accept is False: a failed pairing ("Invalid proof") and points that are not on
    the curve ("Proof commitments are not valid") alike. Only a missing key or a tool that cannot run raises.
    """
    if not artifacts.vkey.is_file():
        raise CircuitError(f"verification key {artifacts.vkey} is missing")
    with tempfile.TemporaryDirectory(prefix="proofstream-verify-") as tmp:
        work = Path(tmp)
        (work / "proof.json").write_text(json.dumps(proof.to_snarkjs()))
        (work / "public.json").write_text(json.dumps([str(v) for v in proof.public_signals]))
        done = _snarkjs("groth16", "verify", artifacts.vkey, work / "public.json", work / "proof.json", cwd=work)
    ok = done.returncode == 0 and "OK!" in done.output
    if not ok:
        log.debug(logger, "groth16 proof rejected", circuit=artifacts.name, output=done.output[-500:])
    return ok


class Groth16Backend:
    """The ProverBackend for one circuit project: inputs from the project, proof from ``prover`` (the snarkjs CLI
    unless told otherwise), verification by snarkjs against the circuit's verification key.

    Every proof is checked against the project's plain-Python reference before it leaves: a circuit/reference
    disagreement is a bug that must never reach the chain as a valid-looking result.
    """

    name = "groth16"

    def __init__(
        self, project: CircuitProject, artifacts: CircuitArtifacts, prover: Groth16Prover | None = None
    ) -> None:
        if artifacts.public_signals != project.n_public:
            raise CircuitError(
                f"{project.name}: circuit has {artifacts.public_signals} public signals, "
                f"project says {project.n_public}"
            )
        self.project = project
        self.artifacts = artifacts
        self.prover: Groth16Prover = SnarkjsProver(artifacts) if prover is None else prover

    @classmethod
    def build(
        cls, project: CircuitProject, *, cache_dir: Path | None = None, ptau: Path | None = None
    ) -> Groth16Backend:
        """Compile and set up (or load from the cache) the project's circuit."""
        name = project.name.replace("-", "_")
        return cls(project, build_circuit(project.circuit_path, name, cache_dir, ptau=ptau))

    def prove(self, task_inputs: CircuitTask) -> Groth16Proof:
        try:
            inputs = self.project.circuit_inputs(task_inputs)
            expected = self.project.reference_outputs(task_inputs)
        except ValueError as exc:
            raise ProverError(f"task {task_inputs.task_id} cannot be proven: {exc}", code="invalid_task") from exc
        proof = self.prover.prove(inputs)
        if proof.public_signals != expected:
            raise ProverError(
                f"task {task_inputs.task_id}: circuit outputs {proof.public_signals} differ from the "
                f"reference {expected}",
                code="reference_mismatch",
            )
        return proof

    def verify(self, proof: Proof) -> bool:
        if not isinstance(proof, Groth16Proof):
            return False
        return verify(self.artifacts, proof)

    def close(self) -> None:
        """Stop the prover's processes, if it keeps any."""
        self.prover.close()
