"""What a circuit build leaves in the cache: the compiled circuit, its Groth16 keys, and the sizes in its r1cs."""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofstream.errors import CircuitError

__all__ = ["CircuitArtifacts", "CompiledCircuit", "R1csInfo", "read_r1cs_info"]


@dataclass(frozen=True, slots=True)
class R1csInfo:
    constraints: int
    wires: int
    public_outputs: int
    public_inputs: int
    private_inputs: int

    @property
    def public_signals(self) -> int:
        return self.public_outputs + self.public_inputs


def read_r1cs_info(path: Path) -> R1csInfo:
    """Sizes from an .r1cs header (the same numbers ``snarkjs r1cs info`` prints), without loading
    constraints."""
    try:
        with path.open("rb") as f:
            magic, _version, n_sections = struct.unpack("<4sII", f.read(12))
            if magic != b"r1cs":
                raise CircuitError(f"{path} is not an r1cs file")
            for _ in range(n_sections):
                section_type, size = struct.unpack("<IQ", f.read(12))
                start = f.tell()
                if section_type == 1:
                    (n8,) = struct.unpack("<I", f.read(4))
                    f.seek(n8, os.SEEK_CUR)
                    wires, outputs, inputs, private, _labels, constraints = struct.unpack("<IIIIQI", f.read(28))
                    return R1csInfo(constraints, wires, outputs, inputs, private)
                f.seek(start + size)
    except (OSError, struct.error) as exc:
        raise CircuitError(f"cannot read r1cs file {path}: {exc}") from exc
    raise CircuitError(f"{path} has no r1cs header section")


@dataclass(frozen=True, slots=True)
class CompiledCircuit:
    """A compiled circuit: enough to compute and check witnesses (no proving keys); paths point into the
    cache."""

    name: str
    key: str
    """sha256 of (circuit source, proofstream's circuit library, circom2 + circomlib versions)."""
    r1cs: Path
    wasm: Path
    sym: Path
    witness_js: Path
    """circom's generate_witness.js next to the wasm (a lighter witness calculator than the snarkjs CLI)."""
    constraints: int
    public_signals: int
    """Outputs plus public inputs: the length of snarkjs' public signals."""
    wires: int


@dataclass(frozen=True, slots=True)
class CircuitArtifacts(CompiledCircuit):
    """Everything needed to prove and verify one circuit; all paths point into the cache.

    ``key`` is the Groth16 key: sha256 of (the compile key, ptau sha256, snarkjs version)."""

    zkey: Path
    vkey: Path
    verifier_sol: Path
    ptau: Path
    ptau_power: int
    ptau_sha256: str

    def verification_key(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.vkey.read_text())
        return loaded
