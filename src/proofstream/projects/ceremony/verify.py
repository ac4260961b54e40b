"""``verify``: every key of the chain checked with snarkjs and against the transcript."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from proofstream.circuits.ptau import file_sha256, read_ptau_info

if TYPE_CHECKING:
    pass


from proofstream.projects.ceremony.snarkjs import Listed, zkey_verify
from proofstream.projects.ceremony.transcript import (
    VKEY_FILE,
    ChainLink,
    Transcript,
    read_transcript,
    sha256_file,
)

logger = logging.getLogger(__name__)


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


def ptau_for(transcript: Transcript, ptau: Path | None, memo_dir: Path | None) -> tuple[Path, list[str]]:
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
    elif sha256_file(r1cs) != transcript.r1cs_sha256:
        problems.append(f"{r1cs} is not the circuit the ceremony began on (sha256 differs from the transcript)")
    ptau_path, ptau_problems = ptau_for(transcript, ptau, memo_dir)
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
        elif sha256_file(zkey) != link.zkey_sha256:
            link_problems.append(f"{link.zkey} is not the key the transcript recorded (sha256 differs)")
        elif not problems:
            listed = zkey_verify(r1cs, ptau_path, zkey)
            if isinstance(listed, str):
                link_problems.append(f"snarkjs zkey verify refuses it: {listed}")
            else:
                link_problems += compare_listing(transcript, chain[1 : position + 1], listed)
        links.append(LinkCheck(link, link_problems))
    if transcript.final is not None:
        problems += check_final(transcript)
    return VerifyReport(transcript, ptau_path, problems, links)


def compare_listing(transcript: Transcript, expected: Sequence[ChainLink], listed: Listed) -> list[str]:
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


def check_final(transcript: Transcript) -> list[str]:
    final = transcript.final or {}
    problems: list[str] = []
    head = transcript.head
    if head.kind != "beacon":
        problems.append("the transcript is marked final but its last key is not the beacon")
    if final.get("zkey") != head.zkey or final.get("zkey_sha256") != head.zkey_sha256:
        problems.append("the final key in the transcript is not the last key of its chain")
    vkey = transcript.folder / str(final.get("vkey", VKEY_FILE))
    if not vkey.is_file() or sha256_file(vkey) != final.get("vkey_sha256"):
        problems.append(f"{vkey} is missing or not the verification key recorded at finalization")
    return problems
