"""The ceremony's transcript: its folder, its chain of keys (one link per contribution) and the checks a
link's files must pass."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofstream.errors import CircuitError

if TYPE_CHECKING:
    pass


logger = logging.getLogger(__name__)


CEREMONY_DIR = "ceremony"
"""The ceremony folder inside a project (not under ``.proofstream/``: it is part of the project)."""
TRANSCRIPT_FILE = "transcript.json"
VKEY_FILE = "verification_key.json"
FORMAT = "proofstream-ceremony-v1"
MIN_CONTRIBUTIONS = 2
"""Contributions (besides the beacon) a ceremony needs before it can be finalized."""
ENTROPY_BYTES = 64
MIN_BEACON_ITERATIONS_EXP = 10
MAX_BEACON_ITERATIONS_EXP = 63
"""snarkjs' bounds on the beacon's iteration exponent (2**exp hash iterations)."""


class CeremonyError(CircuitError):
    """A ceremony step was refused or a ceremony does not verify."""

    code = "ceremony_error"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def os_entropy() -> str:
    """Fresh entropy for one contribution, from the OS; snarkjs mixes in 64 random bytes of its own."""
    return os.urandom(ENTROPY_BYTES).hex()


# --- the transcript ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainLink:
    """One key of the ceremony's chain: the initial setup (index 0), a contribution, or the final beacon."""

    index: int
    kind: str
    """``setup``, ``contribution`` or ``beacon``."""
    name: str
    zkey: str
    """File name, next to the transcript."""
    zkey_sha256: str
    contribution_hash: str | None
    """The 64-byte hash snarkjs prints for the contribution (hex); None for the setup."""
    at: str
    beacon: str | None = None
    iterations_exp: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "kind": self.kind,
            "name": self.name,
            "zkey": self.zkey,
            "zkey_sha256": self.zkey_sha256,
            "contribution_hash": self.contribution_hash,
            "at": self.at,
        }
        if self.kind == "beacon":
            out |= {"beacon": self.beacon, "iterations_exp": self.iterations_exp}
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ChainLink:
        return cls(
            index=int(raw["index"]),
            kind=str(raw["kind"]),
            name=str(raw["name"]),
            zkey=str(raw["zkey"]),
            zkey_sha256=str(raw["zkey_sha256"]),
            contribution_hash=raw.get("contribution_hash"),
            at=str(raw["at"]),
            beacon=raw.get("beacon"),
            iterations_exp=raw.get("iterations_exp"),
        )


@dataclass(frozen=True)
class Transcript:
    """``transcript.json``: what the ceremony was run on and every key of its chain, in order."""

    path: Path
    circuit_name: str
    r1cs: str
    """The copy of the circuit's r1cs next to the transcript (file name)."""
    r1cs_sha256: str
    circuit_hash: str
    """snarkjs' hash of the circuit (hex), printed by setup and by every verify."""
    constraints: int
    ptau_file: str
    """Where the phase-1 file was when the ceremony began (``verify --ptau`` points elsewhere)."""
    ptau_sha256: str
    ptau_power: int
    created: str
    chain: tuple[ChainLink, ...]
    final: dict[str, Any] | None = None
    """Once finalized: the final key and the verification key with their sha256 and the time."""

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def head(self) -> ChainLink:
        return self.chain[-1]

    @property
    def contributions(self) -> list[ChainLink]:
        return [link for link in self.chain if link.kind == "contribution"]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "circuit": {
                "name": self.circuit_name,
                "r1cs": self.r1cs,
                "r1cs_sha256": self.r1cs_sha256,
                "circuit_hash": self.circuit_hash,
                "constraints": self.constraints,
            },
            "ptau": {"file": self.ptau_file, "sha256": self.ptau_sha256, "power": self.ptau_power},
            "created": self.created,
            "chain": [link.to_json() for link in self.chain],
            "final": self.final,
        }

    def with_link(self, link: ChainLink) -> Transcript:
        return Transcript(**{**self.__dict__, "chain": (*self.chain, link)})

    def write(self) -> None:
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        tmp.replace(self.path)


def read_transcript(path: Path) -> Transcript:
    """Read ``path`` (a transcript file or the ceremony folder holding one); CeremonyError says what is wrong."""
    if path.is_dir():
        path = path / TRANSCRIPT_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise CeremonyError(
            f"no ceremony transcript at {path}: start one with `proofstream ceremony init --ptau FILE` in the "
            "project folder, or pass --transcript",
            code="ceremony_missing",
        ) from None
    except (OSError, ValueError) as exc:
        raise CeremonyError(f"cannot read the ceremony transcript {path}: {exc}") from exc
    try:
        if raw.get("format") != FORMAT:
            raise CeremonyError(f"{path} is not a {FORMAT} transcript (format {raw.get('format')!r})")
        circuit, ptau = raw["circuit"], raw["ptau"]
        return Transcript(
            path=path.resolve(),
            circuit_name=str(circuit["name"]),
            r1cs=str(circuit["r1cs"]),
            r1cs_sha256=str(circuit["r1cs_sha256"]),
            circuit_hash=str(circuit["circuit_hash"]),
            constraints=int(circuit["constraints"]),
            ptau_file=str(ptau["file"]),
            ptau_sha256=str(ptau["sha256"]),
            ptau_power=int(ptau["power"]),
            created=str(raw["created"]),
            chain=tuple(ChainLink.from_json(link) for link in raw["chain"]),
            final=raw.get("final"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CeremonyError(f"{path} is damaged: {type(exc).__name__}: {exc}") from exc
