"""Finding a powers-of-tau file big enough for a circuit.

A Groth16 setup needs a phase-1 file (prepared for phase 2) of power ``ceil(log2(constraints + public + 1))``
(snarkjs sizes its domain that way). Making one takes minutes to hours, so proofstream never makes one on the
fly: it looks, in order, at

1. an explicit path (the ``prover.ptau`` setting), e.g. a public Perpetual Powers of Tau file;
2. the checkout's ``ptau/`` folder (the project-made ``pot14_proofstream.ptau`` and ``pot15_proofstream.ptau``,
   each with its transcript): the smallest file that fits wins;
3. ``../shared/ptau/pot17_final.ptau`` next to the checkout (tests and CI on the development machines).

The power of a file is read from its header, so a file's name never decides whether it fits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from proofstream import logs as log
from proofstream.errors import ConfigError

__all__ = ["PtauInfo", "file_sha256", "find_ptau", "read_ptau_info", "required_power"]

logger = logging.getLogger(__name__)

_REPO_ROOT = Path(__file__).resolve().parents[3]

SHARED_PTAU = Path("..") / "shared" / "ptau" / "pot17_final.ptau"
"""Where the development machines keep a verified 2^17 file, relative to the checkout's root."""

_PREPARED_SECTION = 12
"""Section of the Lagrange-basis tau*G1 points that ``powersoftau prepare phase2`` adds; Groth16 setup reads
it."""


def required_power(constraints: int, public_signals: int) -> int:
    """Smallest power of tau for a circuit: snarkjs needs ``2**power > constraints + public signals``."""
    if constraints < 1 or public_signals < 0:
        raise ValueError(f"bad circuit size: constraints={constraints} public_signals={public_signals}")
    return max(1, math.ceil(math.log2(constraints + public_signals + 1)))


@dataclass(frozen=True, slots=True)
class PtauInfo:
    path: Path
    power: int
    """The file holds 2**power tau powers: it fits circuits that need this power or less."""
    prepared: bool
    """Whether phase 2 was prepared (Lagrange sections present); Groth16 setup needs it."""


def read_ptau_info(path: Path) -> PtauInfo:
    """Read the power and the phase-2 readiness from a .ptau file's header, without reading the points."""
    try:
        with path.open("rb") as f:
            magic, _version, n_sections = struct.unpack("<4sII", f.read(12))
            if magic != b"ptau":
                raise ConfigError(f"{path} is not a powers-of-tau file (bad magic {magic!r})")
            power = -1
            sections: set[int] = set()
            for _ in range(n_sections):
                section_type, size = struct.unpack("<IQ", f.read(12))
                sections.add(section_type)
                start = f.tell()
                if section_type == 1:
                    (n8,) = struct.unpack("<I", f.read(4))
                    f.seek(n8, os.SEEK_CUR)
                    (power,) = struct.unpack("<I", f.read(4))
                f.seek(start + size)
    except (OSError, struct.error) as exc:
        raise ConfigError(f"cannot read powers-of-tau file {path}: {exc}") from exc
    if power < 0:
        raise ConfigError(f"{path} has no header section")
    return PtauInfo(path=path, power=power, prepared=_PREPARED_SECTION in sections)


def _candidates(repo_root: Path) -> list[Path]:
    found: list[Path] = []
    local = repo_root / "ptau"
    if local.is_dir():
        found += sorted(local.glob("*.ptau"))
    found.append((repo_root / SHARED_PTAU).resolve())
    return found


def find_ptau(power: int, *, explicit: Path | None = None, repo_root: Path | None = None) -> PtauInfo:
    """The smallest prepared powers-of-tau file of at least ``power``, searched in the documented order.

    An explicit path that does not exist or does not fit is an error (the user asked for it); the other places
    are simply skipped. Raises ConfigError naming the power needed and where to get a file when none fits.
    """
    root = repo_root if repo_root is not None else _REPO_ROOT
    if explicit is not None:
        info = read_ptau_info(explicit.expanduser())
        if info.power < power or not info.prepared:
            raise ConfigError(
                f"powers-of-tau file {explicit} has power {info.power}"
                f"{'' if info.prepared else ' and is not prepared for phase 2'}; this circuit needs a "
                f"prepared file of power >= {power}. {_how_to_get(power)}",
                code="ptau_too_small",
            )
        return info
    fitting: list[PtauInfo] = []
    for path in _candidates(root):
        if not path.is_file():
            continue
        info = read_ptau_info(path)
        if info.power >= power and info.prepared:
            fitting.append(info)
        else:
            log.debug(logger, "ptau skipped", path=path, power=info.power, prepared=info.prepared, needed=power)
    if not fitting:
        raise ConfigError(
            f"no powers-of-tau file of power >= {power} found (looked in {root / 'ptau'} and "
            f"{root / SHARED_PTAU}). {_how_to_get(power)}",
            code="ptau_missing",
        )
    return min(fitting, key=lambda info: info.power)


def _how_to_get(power: int) -> str:
    return (
        f"Set prover.ptau (or --ptau) to a prepared phase-2 file of power >= {power}, e.g. the Perpetual Powers "
        f"of Tau 'powersOfTau28_hez_final_{max(power, 8):02d}.ptau' (Hermez ceremony, public download), or "
        f"make a test-only one with `npx snarkjs powersoftau new bn128 {power} pot.ptau`, one `contribute`, "
        "then `npx snarkjs powersoftau prepare phase2`; or lower [batching] capacity to shrink the circuit"
    )


def file_sha256(path: Path, memo_dir: Path | None = None) -> str:
    """sha256 of a (large) file, remembered in ``memo_dir`` by path, size and mtime so a cache lookup stays
    fast."""
    stat = path.stat()
    memo_key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
    memo = memo_dir / f"{memo_key}.json" if memo_dir is not None else None
    if memo is not None and memo.is_file():
        try:
            cached = json.loads(memo.read_text())
            if isinstance(cached, dict) and isinstance(cached.get("sha256"), str):
                return str(cached["sha256"])
        except (OSError, ValueError):
            pass  # a damaged memo is recomputed below
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    result = digest.hexdigest()
    if memo is not None:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"path": str(path.resolve()), "sha256": result}))
        tmp.replace(memo)
    return result
