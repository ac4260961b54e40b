"""Compile a Circom circuit and run its Groth16 setup, cached by content hash.

Two cache levels under the cache folder (the user's cache dir by default):

- ``compiled/<hash>``: r1cs, wasm and sym, keyed by the circuit source and the circom2 and circomlib
  versions. The constraint count read from it picks the powers-of-tau file.
- ``groth16/<hash>``: proving key, verification key and the exported Solidity verifier, keyed by the
  compile key, the powers-of-tau file's sha256 and the snarkjs version.

A project's name is no part of either key: projects with the same circuit share one build.

The setup is single-party (one contribution with fresh random entropy): fit for tests and demos, UNSAFE for
real funds: whoever ran it could forge proofs if the entropy leaked. Production circuits need a multi-party
ceremony. The Solidity verifier snarkjs exports is GPL-3.0 generated code: it lives in the cache, never in the
repository.

circom2 runs as WebAssembly and can only open files under its working directory (no symlinks, no ``../``), so
each compile happens in a fresh build folder holding a copy of the circuit, of circomlib's circuits (included as
``circomlib/circuits/...``) and of proofstream's own circuit library ``proofstream/circuits/`` (included as
``proofstream/batch.circom``). The compile key covers the library's files, so editing it rebuilds every circuit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import platformdirs

from proofstream import logs as log
from proofstream.circuits import tools
from proofstream.circuits.artifacts import CircuitArtifacts, CompiledCircuit, read_r1cs_info
from proofstream.circuits.ptau import file_sha256, find_ptau, required_power
from proofstream.errors import CircuitError

__all__ = [
    "LIBRARY_DIR",
    "build_circuit",
    "compile_circuit",
    "compile_errors",
    "default_cache_dir",
]

logger = logging.getLogger(__name__)

_CACHE_FORMAT = "proofstream-circuits-v3"
"""Bumped whenever the cache layout or the build steps change, so old entries are never reused."""

SETUP_LABEL = "proofstream single-party Groth16 setup - UNSAFE for real funds"
"""Name recorded in the zkey's contribution: anyone inspecting the key sees it is not from a ceremony."""


LIBRARY_DIR = Path(__file__).resolve().parent
"""proofstream's shared circuit library (this package's ``*.circom`` files); a build folder holds it as
``proofstream/`` (``include "proofstream/batch.circom";``)."""
LIBRARY_INCLUDE = "proofstream"

BUILD_NAME = "circuit"
"""What a build's files are called (``circuit.r1cs``, ``circuit_js/circuit.wasm``, ``circuit.zkey``): the same for
every project, so that the cache is keyed by content alone; circom's messages name the source file instead."""


def default_cache_dir() -> Path:
    return platformdirs.user_cache_path("proofstream") / "circuits"


def _package_version(modules: Path, package: str) -> str:
    try:
        return str(json.loads((modules / package / "package.json").read_text())["version"])
    except (OSError, KeyError, ValueError) as exc:
        raise CircuitError(f"cannot read the version of {package} in {modules}") from exc


def _sha256(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))  # length-prefixed: no two part lists collide
        digest.update(data)
    return digest.hexdigest()


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished build into place; a concurrent build that won the race is kept and ours dropped."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(final)
    except OSError:
        if not (final / "manifest.json").is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def _library_files() -> list[Path]:
    """The library's circuit files, sorted, relative to :data:`LIBRARY_DIR`."""
    return sorted(p.relative_to(LIBRARY_DIR) for p in LIBRARY_DIR.rglob("*.circom"))


def _compile(source: Path, name: str, modules: Path, out: Path) -> None:
    """Compile into ``out`` (``<name>.r1cs``, ``<name>.sym``, ``<name>_js/``)."""
    build = out / "build"
    (build / "circomlib").mkdir(parents=True)
    shutil.copy2(source, build / f"{name}.circom")
    shutil.copytree(modules / "circomlib" / "circuits", build / "circomlib" / "circuits")
    for relative in _library_files():
        target = build / LIBRARY_INCLUDE / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(LIBRARY_DIR / relative, target)
    args = [f"{name}.circom", "--r1cs", "--wasm", "--sym", "--O2", "-l", ".", "-o", "."]
    done = tools.run_node(tools.circom2_cli(modules), args, cwd=build)
    if done.returncode != 0 or "Everything went okay" not in done.output:
        raise CircuitError(
            f"{source} does not compile:\n{compile_errors(done.output, f'{name}.circom', source)}",
            code="circuit_compile",
        )
    log.info(logger, "circuit compiled", circuit=name, seconds=round(done.seconds, 2))
    for item in (f"{name}.r1cs", f"{name}.sym", f"{name}_js"):
        (build / item).rename(out / item)
    shutil.rmtree(build)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ERROR = re.compile(r"^error\[(?P<code>[A-Z0-9]+)\]:\s*(?P<message>.*)$")
_LOCATION = re.compile(r'^[┌─\s-]*"(?P<file>[^"]+)":(?P<line>\d+):(?P<column>\d+)')
_SOURCE_LINE = re.compile(r"^(?P<number>\d+)\s*│\s?(?P<text>.*)$")
_LABEL = re.compile(r"^[│╭╰─\s]*\^+\s*(?P<label>.*)$")


def compile_errors(output: str, build_name: str, source: Path) -> str:
    """circom's errors as ``file:line:column: error[code] message``, each with its source line and label.

    circom names files as the build folder holds them: the circuit under ``build_name`` (mapped back to
    ``source``), the library under ``proofstream/`` (mapped back to :data:`LIBRARY_DIR`). Without any error
    block recognised, the last lines of its output (colour codes stripped) are returned as they are.
    """
    lines = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    blocks: list[list[str]] = []  # one per error: its headline, then the source line and circom's label
    in_error = False
    for line in lines:
        if error := _ERROR.match(line):
            blocks.append([f"error[{error['code']}]: {error['message'].strip()}"])
            in_error = True
            if "included has not been found" in line:
                blocks[-1].append(
                    "    includes resolve against the build folder: use `proofstream/batch.circom` and "
                    "`circomlib/circuits/<file>.circom`; a project circuit is a single file"
                )
        elif line.startswith("warning["):
            in_error = False
        elif not in_error:
            continue
        elif location := _LOCATION.match(line):
            file = location["file"]
            shown = str(source) if file == build_name else file
            if file.startswith(f"{LIBRARY_INCLUDE}/"):
                shown = str(LIBRARY_DIR / file.removeprefix(f"{LIBRARY_INCLUDE}/"))
            blocks[-1][0] = f"{shown}:{location['line']}:{location['column']}: {blocks[-1][0]}"
        elif (source_line := _SOURCE_LINE.match(line)) and len(blocks[-1]) == 1:
            # the line the location points at; a span over several lines shows only its first
            text = source_line["text"].lstrip("│╭ ").strip()
            blocks[-1].append(f"    {source_line['number']} | {text}")
        elif (label := _LABEL.match(line)) and label["label"]:
            blocks[-1].append(f"    ^ {label['label']}")
    if blocks:
        return "\n".join("\n".join(block) for block in blocks)
    meaningful = [line for line in lines if line and "previous errors were found" not in line]
    return "\n".join(meaningful[-20:]) or "(circom printed nothing)"


def _snarkjs(modules: Path, *args: str | Path, cwd: Path) -> float:
    done = tools.run_node(tools.snarkjs_cli(modules), args, cwd=cwd)
    if done.returncode != 0:
        raise CircuitError(f"snarkjs {args[0]} {args[1]} failed:\n{done.output[-4000:]}", code="circuit_setup")
    return done.seconds


def _setup(compiled: Path, name: str, modules: Path, ptau: Path, out: Path) -> dict[str, float]:
    """Groth16 phase 2: an empty key from the ptau, one random contribution, then vkey and verifier
    exports."""
    timings: dict[str, float] = {}
    initial = out / f"{name}_0000.zkey"
    timings["setup_s"] = _snarkjs(modules, "groth16", "setup", compiled / f"{name}.r1cs", ptau, initial, cwd=out)
    timings["contribute_s"] = _snarkjs(
        modules,
        "zkey",
        "contribute",
        initial,
        out / f"{name}.zkey",
        f"--name={SETUP_LABEL}",
        f"-e={secrets.token_hex(32)}",
        cwd=out,
    )
    initial.unlink()  # its toxic waste is the same as the final key's minus our contribution: do not keep it
    timings["export_s"] = _snarkjs(
        modules,
        "zkey",
        "export",
        "verificationkey",
        out / f"{name}.zkey",
        out / "verification_key.json",
        cwd=out,
    )
    timings["export_s"] += _snarkjs(
        modules, "zkey", "export", "solidityverifier", out / f"{name}.zkey", out / "Verifier.sol", cwd=out
    )
    (out / "SETUP.txt").write_text(
        f"{SETUP_LABEL}.\nOne party ran `snarkjs groth16 setup` on {ptau.name} and one `zkey contribute`"
        " with random entropy that was not kept. Anyone who learned it could forge proofs: do not secure real"
        " funds with it.\n"
    )
    return timings


def _compile_key(source: bytes, modules: Path) -> str:
    """sha256 of everything a compile reads: the source, the tool versions and every library file (path and
    bytes)."""
    library: list[str | bytes] = []
    for relative in _library_files():
        library += [relative.as_posix(), (LIBRARY_DIR / relative).read_bytes()]
    return _sha256(
        _CACHE_FORMAT,
        source,
        "circom2=" + _package_version(modules, "circom2"),
        "circomlib=" + _package_version(modules, "circomlib"),
        "library",
        *library,
    )


def compile_circuit(source_path: Path, name: str, cache_dir: Path | None = None) -> CompiledCircuit:
    """Compile ``source_path`` with circom (``--O2``), or return the cached build of the same inputs.

    Enough for witnesses (the differential tests of ``proofstream project test``); :func:`build_circuit` adds
    the Groth16 keys. ``name`` names the files (a plain identifier). Raises CircuitError (code
    ``circuit_compile``, with circom's errors by file and line) when it does not compile, ToolchainError without
    node.
    """
    if not name.isidentifier():
        raise CircuitError(f"circuit name must be an identifier, got {name!r}")
    cache = (cache_dir if cache_dir is not None else default_cache_dir()).expanduser()
    modules = tools.node_modules()
    try:
        source = source_path.read_bytes()
    except OSError as exc:
        raise CircuitError(f"cannot read circuit source {source_path}: {exc}") from exc

    compile_key = _compile_key(source, modules)
    # Keyed by content alone: two projects (or a project and its template) with the same circuit share one build,
    # whatever they are called, so a fresh machine compiles and sets up each distinct circuit once.
    compiled = cache / "compiled" / compile_key[:24]
    if not (compiled / "manifest.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
        try:
            _compile(source_path, BUILD_NAME, modules, tmp)
            (tmp / "manifest.json").write_text(json.dumps({"name": name, "key": compile_key}))
            _publish(tmp, compiled)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    info = read_r1cs_info(compiled / f"{BUILD_NAME}.r1cs")
    return CompiledCircuit(
        name=name,
        key=compile_key,
        r1cs=compiled / f"{BUILD_NAME}.r1cs",
        wasm=compiled / f"{BUILD_NAME}_js" / f"{BUILD_NAME}.wasm",
        sym=compiled / f"{BUILD_NAME}.sym",
        witness_js=compiled / f"{BUILD_NAME}_js" / "generate_witness.js",
        constraints=info.constraints,
        public_signals=info.public_signals,
        wires=info.wires,
    )


def build_circuit(
    source_path: Path,
    name: str,
    cache_dir: Path | None = None,
    *,
    ptau: Path | None = None,
    repo_root: Path | None = None,
) -> CircuitArtifacts:
    """Compile ``source_path`` and set up Groth16 keys for it, or return the cached build of the same inputs.

    ``name`` names the files (it must be a plain identifier); ``ptau`` is an explicit powers-of-tau file, else
    :func:`proofstream.circuits.ptau.find_ptau` searches (``repo_root`` changes where). Raises CircuitError when
    compiling or the setup fails, ConfigError when no powers-of-tau file fits, ToolchainError without node.
    """
    started = time.perf_counter()
    cache = (cache_dir if cache_dir is not None else default_cache_dir()).expanduser()
    compiled = compile_circuit(source_path, name, cache)
    modules = tools.node_modules()
    compile_key = compiled.key
    info = read_r1cs_info(compiled.r1cs)

    power = required_power(info.constraints, info.public_signals)
    ptau_info = find_ptau(power, explicit=ptau, repo_root=repo_root)
    ptau_hash = file_sha256(ptau_info.path, memo_dir=cache / "file-hashes")
    key = _sha256(compile_key, "ptau=" + ptau_hash, "snarkjs=" + _package_version(modules, "snarkjs"))
    keys = cache / "groth16" / key[:24]
    if not (keys / "manifest.json").is_file():
        log.info(logger, "groth16 setup", circuit=name, constraints=info.constraints, power=power, ptau=ptau_info.path)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
        try:
            timings = _setup(compiled.r1cs.parent, BUILD_NAME, modules, ptau_info.path, tmp)
            manifest = {
                "name": name,
                "key": key,
                "ptau": str(ptau_info.path),
                "ptau_sha256": ptau_hash,
                **timings,
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
            _publish(tmp, keys)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info(logger, "groth16 setup done", circuit=name, **{k: round(v, 2) for k, v in timings.items()})

    artifacts = CircuitArtifacts(
        name=name,
        key=key,
        r1cs=compiled.r1cs,
        wasm=compiled.wasm,
        sym=compiled.sym,
        witness_js=compiled.witness_js,
        zkey=keys / f"{BUILD_NAME}.zkey",
        vkey=keys / "verification_key.json",
        verifier_sol=keys / "Verifier.sol",
        constraints=info.constraints,
        public_signals=info.public_signals,
        wires=info.wires,
        ptau=ptau_info.path,
        ptau_power=ptau_info.power,
        ptau_sha256=ptau_hash,
    )
    log.debug(
        logger, "circuit ready", circuit=name, seconds=round(time.perf_counter() - started, 3), **asdict(artifacts)
    )
    return artifacts
