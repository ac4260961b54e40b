"""A multi-party Groth16 phase-2 ceremony for a project's circuit (``proofstream ceremony ...``).

``project build`` makes a single-party setup: whoever ran it could forge proofs. A ceremony replaces it with keys
that are safe as long as one contributor destroyed their secret:

1. ``init`` runs ``snarkjs groth16 setup`` on the project's compiled circuit and a phase-1 file the user brings
   (e.g. a Perpetual Powers of Tau file): the initial key, contribution 0. It writes the ceremony folder
   (``ceremony/`` in the project) with a copy of the r1cs and ``transcript.json``.
2. Each party runs ``contribute IN.zkey OUT.zkey --name NAME`` on their own machine: the input must be the head
   of the transcript's chain (sha256), the entropy comes from the OS and reaches snarkjs on its standard input
   (never its argv), and the transcript gets the new key's sha256 and the contribution hash snarkjs prints.
3. ``verify`` checks every key of the chain with ``snarkjs zkey verify r1cs ptau zkey`` and against the
   transcript: the files' hashes, the circuit and the phase-1 file, and each key's list of contributions.
4. ``finalize`` needs at least two verified contributions; it applies a public random beacon (``zkey beacon``),
   verifies the result, exports the verification key and records both in the transcript. ``project build``
   then uses that key instead of a single-party setup, and ``project deploy`` counts it as multi-party.

The transcript lives in the project folder (commit it with the final key and the verification key); the
zkeys of the chain are the evidence behind it (publish them so anyone can run ``verify``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proofstream.circuits import tools
from proofstream.circuits.artifacts import CircuitArtifacts, CompiledCircuit, read_r1cs_info
from proofstream.circuits.build import default_cache_dir
from proofstream.circuits.project import compile_project
from proofstream.circuits.ptau import file_sha256, find_ptau, read_ptau_info, required_power
from proofstream.errors import CircuitError, ConfigError

if TYPE_CHECKING:
    from proofstream.projects.spec import ProjectSpec

__all__ = [
    "CEREMONY_DIR",
    "MIN_CONTRIBUTIONS",
    "TRANSCRIPT_FILE",
    "CeremonyError",
    "ChainLink",
    "LinkCheck",
    "Transcript",
    "VerifyReport",
    "ceremony_artifacts",
    "contribute",
    "finalize",
    "init_ceremony",
    "init_project_ceremony",
    "is_multi_party",
    "read_transcript",
    "verify_ceremony",
]

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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _entropy() -> str:
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


# --- snarkjs -------------------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HASH_ROWS = r"((?:\s*[0-9a-f]{8}(?: [0-9a-f]{8}){3}){4})"
_LISTED = re.compile(r"contribution #(?P<index>\d+) (?P<name>.*?):\s*\n" + _HASH_ROWS)
_BEACON = re.compile(r"Beacon generator: (?P<beacon>[0-9a-f]+)\s*\n[^\n]*?Beacon iterations Exp: (?P<exp>\d+)")


def _hash_after(title: str, output: str) -> str | None:
    found = re.search(re.escape(title) + r"\s*\n" + _HASH_ROWS, output, re.IGNORECASE)
    return "".join(found.group(1).split()) if found else None


def _snarkjs(*args: str | Path, cwd: Path, stdin: str | None = None, secret: str | None = None) -> str:
    """Run snarkjs; its output without colour codes. ``secret`` is scrubbed from anything that is shown."""
    done = tools.run_node(tools.snarkjs_cli(tools.node_modules()), args, cwd=cwd, stdin=stdin)
    output = _ANSI.sub("", done.output)
    if secret:
        output = output.replace(secret, "<entropy>")
    # snarkjs exits 0 from several failed steps (zkey contribute/beacon log an error and return): look at both.
    if done.returncode != 0 or "[ERROR]" in output:
        raise CeremonyError(f"snarkjs {args[0]} {args[1]} failed:\n{output[-4000:]}")
    return output


@dataclass(frozen=True)
class _Listed:
    """What ``snarkjs zkey verify`` says about a key: the circuit and its contributions, oldest first."""

    circuit_hash: str
    contributions: list[tuple[int, str, str]]
    """(number from 1, name, contribution hash)."""
    beacons: list[tuple[str, int]]


def _zkey_verify(r1cs: Path, ptau: Path, zkey: Path) -> _Listed | str:
    """Verify one key; its listing, or snarkjs' reason for refusing it."""
    done = tools.run_node(
        tools.snarkjs_cli(tools.node_modules()), ["zkey", "verify", r1cs, ptau, zkey], cwd=zkey.parent
    )
    output = _ANSI.sub("", done.output)
    if done.returncode != 0 or "ZKey Ok!" not in output:
        lines = [line for line in output.splitlines() if "ERROR" in line or "INVALID" in line]
        return "; ".join(lines) or output[-600:] or f"snarkjs exited {done.returncode}"
    circuit_hash = _hash_after("Circuit Hash:", output) or ""
    listed = [(int(m["index"]), m["name"].strip(), "".join(m.group(3).split())) for m in _LISTED.finditer(output)]
    beacons = [(m["beacon"], int(m["exp"])) for m in _BEACON.finditer(output)]
    return _Listed(circuit_hash, sorted(listed), beacons)


# --- init ----------------------------------------------------------------------------------------------------


def init_ceremony(
    folder: Path,
    r1cs: Path,
    circuit_name: str,
    ptau: Path,
    *,
    coordinator: str = "coordinator",
    memo_dir: Path | None = None,
) -> Transcript:
    """Start a ceremony in ``folder``: the r1cs copied in, ``snarkjs groth16 setup`` on ``ptau`` (the initial
    key, contribution 0) and the transcript. Refuses a folder that already holds a ceremony."""
    transcript_path = folder / TRANSCRIPT_FILE
    if transcript_path.exists():
        raise CeremonyError(
            f"{folder} already holds a ceremony ({TRANSCRIPT_FILE}); verify or continue it, or move it away to "
            "start again",
            code="ceremony_exists",
        )
    info = read_r1cs_info(r1cs)
    power = required_power(info.constraints, info.public_signals)
    ptau_info = find_ptau(power, explicit=ptau)  # ConfigError ptau_too_small says what size is needed
    folder.mkdir(parents=True, exist_ok=True)
    r1cs_copy = folder / f"{circuit_name}.r1cs"
    shutil.copyfile(r1cs, r1cs_copy)
    initial = folder / f"{circuit_name}_0000.zkey"
    output = _snarkjs("groth16", "setup", r1cs_copy, ptau_info.path, initial, cwd=folder)
    circuit_hash = _hash_after("Circuit hash:", output)
    if circuit_hash is None or not initial.is_file():
        raise CeremonyError(f"snarkjs groth16 setup printed no circuit hash or wrote no key:\n{output[-2000:]}")
    transcript = Transcript(
        path=transcript_path.resolve(),
        circuit_name=circuit_name,
        r1cs=r1cs_copy.name,
        r1cs_sha256=_sha256_file(r1cs_copy),
        circuit_hash=circuit_hash,
        constraints=info.constraints,
        ptau_file=str(ptau_info.path.resolve()),
        ptau_sha256=file_sha256(ptau_info.path, memo_dir=memo_dir),
        ptau_power=ptau_info.power,
        created=_now(),
        chain=(ChainLink(0, "setup", coordinator, initial.name, _sha256_file(initial), None, _now()),),
    )
    transcript.write()
    logger.info("ceremony started folder=%s circuit=%s ptau=%s", folder, circuit_name, ptau_info.path)
    return transcript


def init_project_ceremony(
    spec: ProjectSpec, ptau: Path, *, coordinator: str = "coordinator", cache_dir: Path | None = None
) -> Transcript:
    """``ceremony init`` in a project: the circuit ``project build`` compiled (compiled again if need be, from
    the cache) into the project's ``ceremony/`` folder."""
    if spec.backend != "groth16":
        raise ConfigError(f"project {spec.name} uses the {spec.backend} backend: only groth16 needs a ceremony")
    compiled = compile_project(spec, cache_dir)
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    return init_ceremony(
        spec.root / CEREMONY_DIR,
        compiled.r1cs,
        spec.circuit_name,
        ptau,
        coordinator=coordinator,
        memo_dir=cache / "file-hashes",
    )


# --- contribute ----------------------------------------------------------------------------------------------


def contribute(
    transcript_path: Path,
    in_zkey: Path,
    out_zkey: Path,
    name: str,
    *,
    entropy: Callable[[], str] | None = None,
) -> ChainLink:
    """Add one contribution to the head of the chain and record it in the transcript.

    The entropy (from ``entropy()``, by default :func:`_entropy`: the OS) reaches snarkjs on its standard input,
    answering its prompt: it never appears on a command line, in a file or in the transcript, and is dropped.
    """
    transcript = read_transcript(transcript_path)
    if not name.strip():
        raise CeremonyError("a contribution needs a name (--name): who contributed, for the transcript")
    if transcript.final is not None or transcript.head.kind == "beacon":
        raise CeremonyError(f"the ceremony in {transcript.folder} is finalized: it takes no more contributions")
    head = transcript.head
    if not in_zkey.is_file():
        raise CeremonyError(f"no key at {in_zkey}")
    in_hash = _sha256_file(in_zkey)
    if in_hash != head.zkey_sha256:
        raise CeremonyError(
            f"{in_zkey} (sha256 {in_hash}) is not the head of the ceremony's chain: the transcript's last key is "
            f"{head.zkey} #{head.index} by {head.name} (sha256 {head.zkey_sha256}). Contribute to that one",
            code="ceremony_not_head",
        )
    if out_zkey.exists():
        raise CeremonyError(f"{out_zkey} exists already: choose a new file for the contribution")
    if out_zkey.resolve().parent != transcript.folder:
        raise CeremonyError(
            f"write the contribution next to the transcript, in {transcript.folder} (verify looks for every key there)"
        )
    if any(link.zkey == out_zkey.name for link in transcript.chain):
        raise CeremonyError(f"the transcript already names a key {out_zkey.name}")
    secret = (entropy or _entropy)()
    try:
        output = _snarkjs(
            "zkey",
            "contribute",
            in_zkey.resolve(),
            out_zkey.resolve(),
            f"--name={name}",
            cwd=transcript.folder,
            stdin=secret + "\n",
            secret=secret,
        )
    finally:
        del secret
    contribution_hash = _hash_after("Contribution Hash:", output)
    if contribution_hash is None or not out_zkey.is_file():
        out_zkey.unlink(missing_ok=True)
        raise CeremonyError(f"snarkjs zkey contribute wrote no key or printed no contribution hash:\n{output}")
    link = ChainLink(
        head.index + 1, "contribution", name, out_zkey.name, _sha256_file(out_zkey), contribution_hash, _now()
    )
    read_transcript(transcript.path).with_link(link).write()
    logger.info("ceremony contribution index=%d name=%s hash=%s", link.index, name, contribution_hash)
    return link


# --- verify --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkCheck:
    link: ChainLink
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class VerifyReport:
    transcript: Transcript
    ptau: Path
    problems: list[str]
    """Problems with the ceremony as a whole (circuit, phase-1 file, final key)."""
    links: list[LinkCheck]

    @property
    def ok(self) -> bool:
        return not self.problems and all(check.ok for check in self.links)

    def describe(self) -> str:
        lines = [
            f"ceremony {self.transcript.folder}: circuit {self.transcript.circuit_name} "
            f"({self.transcript.constraints:,} constraints), phase 1 {self.ptau} (2^{self.transcript.ptau_power})"
        ]
        for check in self.links:
            link = check.link
            what = f"#{link.index} {link.kind} by {link.name} ({link.zkey}, {link.at})"
            if link.contribution_hash:
                what += f"\n      contribution hash {link.contribution_hash}"
            if link.kind == "beacon":
                what += f"\n      beacon {link.beacon}, 2^{link.iterations_exp} iterations"
            lines.append(f"  {'ok  ' if check.ok else 'FAIL'} {what}")
            lines += [f"      {problem}" for problem in check.problems]
        lines += [f"  FAIL {problem}" for problem in self.problems]
        if self.transcript.final is not None:
            lines.append(f"  final key {self.transcript.final['zkey']} sha256 {self.transcript.final['zkey_sha256']}")
        lines.append("ceremony verifies" if self.ok else "ceremony DOES NOT verify")
        return "\n".join(lines)


def _ptau_for(transcript: Transcript, ptau: Path | None, memo_dir: Path | None) -> tuple[Path, list[str]]:
    path = ptau if ptau is not None else Path(transcript.ptau_file)
    if not path.is_file():
        return path, [f"no phase-1 file at {path}: pass --ptau FILE (sha256 {transcript.ptau_sha256})"]
    if read_ptau_info(path).power < 1:
        return path, [f"{path} is not a powers-of-tau file"]
    actual = file_sha256(path, memo_dir=memo_dir)
    if actual != transcript.ptau_sha256:
        return path, [f"phase-1 file {path} has sha256 {actual}, the ceremony began on {transcript.ptau_sha256}"]
    return path, []


def verify_ceremony(path: Path, *, ptau: Path | None = None, memo_dir: Path | None = None) -> VerifyReport:
    """Check every key of the chain: its sha256 against the transcript,
    ``snarkjs zkey verify r1cs ptau zkey``, and the contributions it carries against the transcript's list."""
    transcript = read_transcript(path)
    problems: list[str] = []
    r1cs = transcript.folder / transcript.r1cs
    if not r1cs.is_file():
        problems.append(f"no r1cs {r1cs}")
    elif _sha256_file(r1cs) != transcript.r1cs_sha256:
        problems.append(f"{r1cs} is not the circuit the ceremony began on (sha256 differs from the transcript)")
    ptau_path, ptau_problems = _ptau_for(transcript, ptau, memo_dir)
    problems += ptau_problems
    links: list[LinkCheck] = []
    chain = transcript.chain
    for position, link in enumerate(chain):
        link_problems: list[str] = []
        if link.index != position:
            link_problems.append(f"the transcript numbers it {link.index} at position {position}")
        if (link.kind == "setup") != (position == 0):
            link_problems.append(f"a {link.kind} cannot be key #{position}")
        if link.kind == "beacon" and position != len(transcript.chain) - 1:
            link_problems.append("the beacon must be the last key of the chain")
        zkey = transcript.folder / link.zkey
        if not zkey.is_file():
            link_problems.append(f"no key {zkey} (keep every key of the chain next to the transcript)")
        elif _sha256_file(zkey) != link.zkey_sha256:
            link_problems.append(f"{link.zkey} is not the key the transcript recorded (sha256 differs)")
        elif not problems:
            listed = _zkey_verify(r1cs, ptau_path, zkey)
            if isinstance(listed, str):
                link_problems.append(f"snarkjs zkey verify refuses it: {listed}")
            else:
                link_problems += _compare_listing(transcript, chain[1 : position + 1], listed)
        links.append(LinkCheck(link, link_problems))
    if transcript.final is not None:
        problems += _check_final(transcript)
    return VerifyReport(transcript, ptau_path, problems, links)


def _compare_listing(transcript: Transcript, expected: Sequence[ChainLink], listed: _Listed) -> list[str]:
    problems: list[str] = []
    if listed.circuit_hash != transcript.circuit_hash:
        problems.append(f"its circuit hash {listed.circuit_hash} is not the transcript's {transcript.circuit_hash}")
    want = [(link.index, link.name, link.contribution_hash) for link in expected]
    if listed.contributions != want:
        problems.append(
            "the contributions it carries differ from the transcript's: "
            f"key {[(i, n, h[:16] if h else h) for i, n, h in listed.contributions]}, "
            f"transcript {[(i, n, h[:16] if h else h) for i, n, h in want]}"
        )
    beacons = [(link.beacon, link.iterations_exp) for link in expected if link.kind == "beacon"]
    if listed.beacons != beacons:
        problems.append(f"its beacon {listed.beacons} is not the transcript's {beacons}")
    return problems


def _check_final(transcript: Transcript) -> list[str]:
    final = transcript.final or {}
    problems: list[str] = []
    head = transcript.head
    if head.kind != "beacon":
        problems.append("the transcript is marked final but its last key is not the beacon")
    if final.get("zkey") != head.zkey or final.get("zkey_sha256") != head.zkey_sha256:
        problems.append("the final key in the transcript is not the last key of its chain")
    vkey = transcript.folder / str(final.get("vkey", VKEY_FILE))
    if not vkey.is_file() or _sha256_file(vkey) != final.get("vkey_sha256"):
        problems.append(f"{vkey} is missing or not the verification key recorded at finalization")
    return problems


# --- finalize ------------------------------------------------------------------------------------------------


def _beacon_hex(beacon: str) -> str:
    value = beacon.strip().lower().removeprefix("0x")
    if not value or len(value) % 2 or not re.fullmatch(r"[0-9a-f]+", value) or len(value) // 2 > 255:
        raise CeremonyError(
            f"beacon {beacon!r} must be hex, 1 to 255 bytes: a value nobody knew before the last contribution, "
            "e.g. the hash of a future block"
        )
    return value


def finalize(
    path: Path,
    beacon: str,
    iterations_exp: int,
    *,
    name: str = "final beacon",
    ptau: Path | None = None,
    memo_dir: Path | None = None,
) -> Transcript:
    """Verify the chain, apply the beacon to its head, verify the result and export the verification key.

    Refused unless the chain holds at least MIN_CONTRIBUTIONS contributions that all verify."""
    transcript = read_transcript(path)
    if transcript.final is not None:
        raise CeremonyError(f"the ceremony in {transcript.folder} is finalized already", code="ceremony_final")
    contributions = transcript.contributions
    if len(contributions) < MIN_CONTRIBUTIONS:
        raise CeremonyError(
            f"the ceremony has {len(contributions)} contribution(s); finalizing needs at least {MIN_CONTRIBUTIONS} "
            "from different parties (`proofstream ceremony contribute IN.zkey OUT.zkey --name NAME`): with one, "
            "that one party could forge proofs",
            code="ceremony_too_few",
        )
    if not MIN_BEACON_ITERATIONS_EXP <= iterations_exp <= MAX_BEACON_ITERATIONS_EXP:
        raise CeremonyError(
            f"beacon iterations exponent {iterations_exp}: must be {MIN_BEACON_ITERATIONS_EXP} to "
            f"{MAX_BEACON_ITERATIONS_EXP} (2^exp hash iterations)"
        )
    beacon_hex = _beacon_hex(beacon)
    report = verify_ceremony(transcript.path, ptau=ptau, memo_dir=memo_dir)
    if not report.ok:
        raise CeremonyError(f"the ceremony does not verify; not finalizing:\n{report.describe()}")
    head = transcript.head
    final_zkey = transcript.folder / f"{transcript.circuit_name}_final.zkey"
    if final_zkey.exists():
        raise CeremonyError(f"{final_zkey} exists already but the transcript is not final: move it away")
    output = _snarkjs(
        "zkey",
        "beacon",
        transcript.folder / head.zkey,
        final_zkey,
        beacon_hex,
        str(iterations_exp),
        f"--name={name}",
        cwd=transcript.folder,
    )
    contribution_hash = _hash_after("Contribution Hash:", output)
    if contribution_hash is None or not final_zkey.is_file():
        final_zkey.unlink(missing_ok=True)
        raise CeremonyError(f"snarkjs zkey beacon wrote no key or printed no contribution hash:\n{output}")
    link = ChainLink(
        head.index + 1,
        "beacon",
        name,
        final_zkey.name,
        _sha256_file(final_zkey),
        contribution_hash,
        _now(),
        beacon=beacon_hex,
        iterations_exp=iterations_exp,
    )
    listed = _zkey_verify(transcript.folder / transcript.r1cs, report.ptau, final_zkey)
    transcript = transcript.with_link(link)
    refused = (
        listed if isinstance(listed, str) else "; ".join(_compare_listing(transcript, transcript.chain[1:], listed))
    )
    if refused:
        final_zkey.unlink()
        raise CeremonyError(
            f"the key the beacon made does not verify (removed; the transcript is unchanged): {refused}"
        )
    transcript.write()
    vkey = transcript.folder / VKEY_FILE
    _snarkjs("zkey", "export", "verificationkey", final_zkey, vkey, cwd=transcript.folder)
    final = {
        "zkey": final_zkey.name,
        "zkey_sha256": link.zkey_sha256,
        "vkey": vkey.name,
        "vkey_sha256": _sha256_file(vkey),
        "contributions": len(contributions),
        "finalized": _now(),
    }
    transcript = Transcript(**{**transcript.__dict__, "final": final})
    transcript.write()
    logger.info("ceremony finalized folder=%s zkey_sha256=%s", transcript.folder, link.zkey_sha256)
    return transcript


# --- what the project build uses -----------------------------------------------------------------------------


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
        logger.warning("ceremony in %s is not finalized; using the single-party setup", folder)
        return None
    if _sha256_file(compiled.r1cs) != transcript.r1cs_sha256:
        raise CeremonyError(
            f"{spec.circuit_path.name} changed since the ceremony in {folder} began (its r1cs differs from the "
            "transcript's): run a new ceremony for this circuit, or move ceremony/ away to use a single-party "
            "setup",
            code="ceremony_stale",
        )
    problems = _check_final(transcript)
    zkey = folder / str(transcript.final["zkey"])
    if not zkey.is_file() or _sha256_file(zkey) != transcript.final["zkey_sha256"]:
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
        _snarkjs("zkey", "export", "solidityverifier", zkey, tmp, cwd=exported)
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
        and not _check_final(transcript)
        and artifacts.zkey.is_file()
        and _sha256_file(artifacts.zkey) == final["zkey_sha256"]
        and _sha256_file(artifacts.vkey) == final["vkey_sha256"]
    )
