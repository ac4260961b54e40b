"""The ceremony's steps: ``init`` (contribution 0), ``contribute`` (one party) and ``finalize`` (the beacon)."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from proofstream import logs as log
from proofstream.circuits.artifacts import read_r1cs_info
from proofstream.circuits.build import default_cache_dir
from proofstream.circuits.ptau import file_sha256, find_ptau, required_power
from proofstream.errors import ConfigError
from proofstream.projects.circuit import compile_project

if TYPE_CHECKING:
    from proofstream.projects.spec import ProjectSpec


from proofstream.projects.ceremony.snarkjs import hash_after, snarkjs, zkey_verify
from proofstream.projects.ceremony.transcript import (
    CEREMONY_DIR,
    MAX_BEACON_ITERATIONS_EXP,
    MIN_BEACON_ITERATIONS_EXP,
    MIN_CONTRIBUTIONS,
    TRANSCRIPT_FILE,
    VKEY_FILE,
    CeremonyError,
    ChainLink,
    Transcript,
    now,
    os_entropy,
    read_transcript,
    sha256_file,
)
from proofstream.projects.ceremony.verify import compare_listing, verify_ceremony

logger = logging.getLogger(__name__)

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
    output = snarkjs("groth16", "setup", r1cs_copy, ptau_info.path, initial, cwd=folder)
    circuit_hash = hash_after("Circuit hash:", output)
    if circuit_hash is None or not initial.is_file():
        raise CeremonyError(f"snarkjs groth16 setup printed no circuit hash or wrote no key:\n{output[-2000:]}")
    transcript = Transcript(
        path=transcript_path.resolve(),
        circuit_name=circuit_name,
        r1cs=r1cs_copy.name,
        r1cs_sha256=sha256_file(r1cs_copy),
        circuit_hash=circuit_hash,
        constraints=info.constraints,
        ptau_file=str(ptau_info.path.resolve()),
        ptau_sha256=file_sha256(ptau_info.path, memo_dir=memo_dir),
        ptau_power=ptau_info.power,
        created=now(),
        chain=(ChainLink(0, "setup", coordinator, initial.name, sha256_file(initial), None, now()),),
    )
    transcript.write()
    log.info(logger, "ceremony started", path=folder, circuit=circuit_name, ptau=ptau_info.path)
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

    The entropy (from ``entropy()``, by default :func:`os_entropy`: the OS) reaches snarkjs on its standard input,
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
    in_hash = sha256_file(in_zkey)
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
    secret = (entropy or os_entropy)()
    try:
        output = snarkjs(
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
    contribution_hash = hash_after("Contribution Hash:", output)
    if contribution_hash is None or not out_zkey.is_file():
        out_zkey.unlink(missing_ok=True)
        raise CeremonyError(f"snarkjs zkey contribute wrote no key or printed no contribution hash:\n{output}")
    link = ChainLink(
        head.index + 1, "contribution", name, out_zkey.name, sha256_file(out_zkey), contribution_hash, now()
    )
    read_transcript(transcript.path).with_link(link).write()
    log.info(logger, "ceremony contribution", index=link.index, name=name, hash=contribution_hash)
    return link


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
    output = snarkjs(
        "zkey",
        "beacon",
        transcript.folder / head.zkey,
        final_zkey,
        beacon_hex,
        str(iterations_exp),
        f"--name={name}",
        cwd=transcript.folder,
    )
    contribution_hash = hash_after("Contribution Hash:", output)
    if contribution_hash is None or not final_zkey.is_file():
        final_zkey.unlink(missing_ok=True)
        raise CeremonyError(f"snarkjs zkey beacon wrote no key or printed no contribution hash:\n{output}")
    link = ChainLink(
        head.index + 1,
        "beacon",
        name,
        final_zkey.name,
        sha256_file(final_zkey),
        contribution_hash,
        now(),
        beacon=beacon_hex,
        iterations_exp=iterations_exp,
    )
    listed = zkey_verify(transcript.folder / transcript.r1cs, report.ptau, final_zkey)
    transcript = transcript.with_link(link)
    refused = (
        listed if isinstance(listed, str) else "; ".join(compare_listing(transcript, transcript.chain[1:], listed))
    )
    if refused:
        final_zkey.unlink()
        raise CeremonyError(
            f"the key the beacon made does not verify (removed; the transcript is unchanged): {refused}"
        )
    transcript.write()
    vkey = transcript.folder / VKEY_FILE
    snarkjs("zkey", "export", "verificationkey", final_zkey, vkey, cwd=transcript.folder)
    final = {
        "zkey": final_zkey.name,
        "zkey_sha256": link.zkey_sha256,
        "vkey": vkey.name,
        "vkey_sha256": sha256_file(vkey),
        "contributions": len(contributions),
        "finalized": now(),
    }
    transcript = Transcript(**{**transcript.__dict__, "final": final})
    transcript.write()
    log.info(logger, "ceremony finalized", path=transcript.folder, zkey_sha256=link.zkey_sha256)
    return transcript
