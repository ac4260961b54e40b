"""The snarkjs steps of a ceremony, and what ``zkey verify`` lists about a key."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from proofstream.circuits import tools

if TYPE_CHECKING:
    pass


from proofstream.projects.ceremony.transcript import (
    CeremonyError,
)

logger = logging.getLogger(__name__)


ANSI = re.compile(r"\x1b\[[0-9;]*m")
HASH_ROWS = r"((?:\s*[0-9a-f]{8}(?: [0-9a-f]{8}){3}){4})"
LISTED = re.compile(r"contribution #(?P<index>\d+) (?P<name>.*?):\s*\n" + HASH_ROWS)
BEACON = re.compile(r"Beacon generator: (?P<beacon>[0-9a-f]+)\s*\n[^\n]*?Beacon iterations Exp: (?P<exp>\d+)")


def hash_after(title: str, output: str) -> str | None:
    found = re.search(re.escape(title) + r"\s*\n" + HASH_ROWS, output, re.IGNORECASE)
    return "".join(found.group(1).split()) if found else None


def snarkjs(*args: str | Path, cwd: Path, stdin: str | None = None, secret: str | None = None) -> str:
    """Run snarkjs; its output without colour codes. ``secret`` is scrubbed from anything that is shown."""
    done = tools.run_node(tools.snarkjs_cli(tools.node_modules()), args, cwd=cwd, stdin=stdin)
    output = ANSI.sub("", done.output)
    if secret:
        output = output.replace(secret, "<entropy>")
    # snarkjs exits 0 from several failed steps (zkey contribute/beacon log an error and return): look at both.
    if done.returncode != 0 or "[ERROR]" in output:
        raise CeremonyError(f"snarkjs {args[0]} {args[1]} failed:\n{output[-4000:]}")
    return output


@dataclass(frozen=True)
class Listed:
    """What ``snarkjs zkey verify`` says about a key: the circuit and its contributions, oldest first."""

    circuit_hash: str
    contributions: list[tuple[int, str, str]]
    """(number from 1, name, contribution hash)."""
    beacons: list[tuple[str, int]]


def zkey_verify(r1cs: Path, ptau: Path, zkey: Path) -> Listed | str:
    """Verify one key; its listing, or snarkjs' reason for refusing it."""
    done = tools.run_node(
        tools.snarkjs_cli(tools.node_modules()), ["zkey", "verify", r1cs, ptau, zkey], cwd=zkey.parent
    )
    output = ANSI.sub("", done.output)
    if done.returncode != 0 or "ZKey Ok!" not in output:
        lines = [line for line in output.splitlines() if "ERROR" in line or "INVALID" in line]
        return "; ".join(lines) or output[-600:] or f"snarkjs exited {done.returncode}"
    circuit_hash = hash_after("Circuit Hash:", output) or ""
    listed = [(int(m["index"]), m["name"].strip(), "".join(m.group(3).split())) for m in LISTED.finditer(output)]
    beacons = [(m["beacon"], int(m["exp"])) for m in BEACON.finditer(output)]
    return Listed(circuit_hash, sorted(listed), beacons)
