"""A project as a developer writes it: a folder with ``proofstream.toml``, a circuit, reference logic, a
device-data generator and a DApp (docs/projects.md). ``load_project`` reads and checks it once; every error
names the file and the key to fix.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, cast

from proofstream.domain.anchor import RECORD_INPUTS
from proofstream.domain.layout import SIGNATURE_INPUTS
from proofstream.domain.schema import Field, Schema
from proofstream.domain.w3bstream import MAX_SIGNED_KEYS, RECEIVED, W3bConfig
from proofstream.errors import ConfigError
from proofstream.projects.generator import ProjectGenerator

__all__ = ["BACKENDS", "CONFIG_FILE", "ProjectSpec", "hash_content", "load_project"]

CONFIG_FILE = "proofstream.toml"
BACKENDS = ("groth16", "attest")
Backend = Literal["groth16", "attest"]
SIGNATURES = ("gateway", "circuit")
SIGNATURE_PUBLIC_INPUTS = len(SIGNATURE_INPUTS)
"""chainId, registry, config, keyAx, keyAy: appended by the Router for a BabyJubJub device."""
MAX_CAPACITY = 64
"""Messages per task at most: a depth-6 tree. Bigger circuits outgrow any powers-of-tau file worth shipping."""
LOGIC_FILE = "logic.py"
CIRCUIT_FILE = "circuit.circom"
GENERATOR_FILE = "generator.py"
DAPP_FILE = "Rewards.sol"
VKEY_FILE = "verification_key.json"
STATE_DIR = ".proofstream"
"""Per-project working state (local chain, store, deployments): gitignored by the scaffold."""


@dataclass(frozen=True)
class ProjectSpec:
    """Everything proofstream needs to know about one project, read from its folder."""

    root: Path
    name: str
    template: str
    description: str
    schema: Schema
    per: Literal["device"]
    capacity: int
    window_seconds: int
    backend: Backend
    quorum: int
    provers: int
    rate: int
    unit: str
    dapp_contract: str
    outputs: tuple[str, ...] = field(default=())
    """Names of the proven outputs, from ``logic.OUTPUTS``; ``outputs[0]`` is what the DApp pays for."""
    signatures: Literal["gateway", "circuit"] = "gateway"
    """``[proof] signatures``: who checks device signatures, the gateway or the circuit (BabyJubJub devices)."""
    w3bstream: W3bConfig | None = None
    """``[w3bstream]``: how the gateway's W3bStream endpoint reads a payload (None: the endpoint refuses it)."""

    @property
    def circuit_signatures(self) -> bool:
        """Whether the circuit checks every device signature (circuits/signed.py)."""
        return self.signatures == "circuit"

    @property
    def depth(self) -> int:
        return self.capacity.bit_length() - 1

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def circuit_path(self) -> Path:
        return self.root / CIRCUIT_FILE

    @property
    def logic_path(self) -> Path:
        return self.root / LOGIC_FILE

    @property
    def generator_path(self) -> Path:
        return self.root / GENERATOR_FILE

    @property
    def dapp_path(self) -> Path:
        return self.root / DAPP_FILE

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def circuit_name(self) -> str:
        """An identifier for build artefacts: the project name with dashes as underscores."""
        return "".join(c if c.isalnum() else "_" for c in self.name).strip("_") or "project"

    @property
    def n_public(self) -> int:
        """Public signals of the circuit: the outputs, then the task-record inputs (``domain.anchor``,
        docs/protocol.md), and for circuit signatures the five signature inputs (domain/layout.py)."""
        return len(self.outputs) + len(RECORD_INPUTS) + (SIGNATURE_PUBLIC_INPUTS if self.circuit_signatures else 0)

    def logic(self) -> ModuleType:
        """The project's reference logic module (``logic.py``), imported from its file."""
        return _import_file(self.logic_path, f"proofstream_project_{self.circuit_name}_logic")

    def generator(self) -> ProjectGenerator:
        """The project's device-data generator (``generator.py``), imported from its file; its readings are
        checked against ``[schema]`` (ConfigError ``generator_mismatch``)."""
        module = _import_file(self.generator_path, f"proofstream_project_{self.circuit_name}_generator")
        return ProjectGenerator(module, self.schema, self.generator_path)

    def content_hash(self, verification_key: bytes | None = None) -> bytes:
        """What goes on chain as the version's config hash: config, logic, circuit and verification key."""
        return hash_content(self.content_files(verification_key))

    def content_files(self, verification_key: bytes | None = None) -> dict[str, bytes]:
        """The files the content hash covers, by name (the gateway serves them so anyone can recompute it).

        An attest project has no verification key; its circuit is still covered when the folder has one.
        """
        files = {CONFIG_FILE: self.config_path.read_bytes(), LOGIC_FILE: self.logic_path.read_bytes()}
        if self.circuit_path.is_file():
            files[CIRCUIT_FILE] = self.circuit_path.read_bytes()
        if verification_key is not None:
            files[VKEY_FILE] = verification_key
        return files


def hash_content(files: Mapping[str, bytes]) -> bytes:
    """SHA-256 over ``name NUL sha256(content)`` of each file in name order: no two different file sets, and no
    reordering of one, share a hash (docs/projects.md)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.digest()


def load_project(path: str | Path) -> ProjectSpec:
    """Read the project folder ``path`` (or its ``proofstream.toml``); ConfigError says what to fix."""
    root = Path(path).expanduser().resolve()
    if root.is_file():
        root = root.parent
    config_path = root / CONFIG_FILE
    if not config_path.is_file():
        raise ConfigError(
            f"no {CONFIG_FILE} in {root}: run `proofstream project new NAME --template tracker-distance` to "
            "scaffold a project, or pass the project folder with --project"
        )
    try:
        raw = tomllib.loads(config_path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path} is not valid TOML: {exc}") from exc
    reader = _Reader(raw, config_path)
    project = reader.table("project")
    schema_table = reader.table("schema")
    batching = reader.table("batching")
    proof = reader.table("proof")
    reward = reader.table("reward")

    try:
        schema = Schema(payload=tuple(Field(name, str(type_)) for name, type_ in schema_table.items()))
    except ValueError as exc:
        raise ConfigError(f"{config_path} [schema]: {exc}") from exc
    if not schema.payload:
        raise ConfigError(f'{config_path} [schema] declares no payload fields; add e.g. `reading = "uint32"`')

    capacity = reader.integer(batching, "batching", "capacity", 8)
    if capacity < 1 or capacity > MAX_CAPACITY or capacity & (capacity - 1):
        raise ConfigError(
            f"{config_path} [batching] capacity = {capacity}: it must be a power of two from 1 to {MAX_CAPACITY} "
            "(it is the size of the task's Merkle tree)"
        )
    per = batching.get("per", "device")
    if per != "device":
        raise ConfigError(
            f'{config_path} [batching] per = {per!r}: wire version 1 batches per device only (per = "device")'
        )
    backend = proof.get("backend", "groth16")
    if backend not in BACKENDS:
        raise ConfigError(f"{config_path} [proof] backend = {backend!r}: choose one of {', '.join(BACKENDS)}")
    quorum = reader.integer(proof, "proof", "quorum", 2)
    provers = reader.integer(proof, "proof", "provers", 3)
    if backend == "attest" and not 1 <= quorum <= provers:
        raise ConfigError(
            f"{config_path} [proof] quorum = {quorum}, provers = {provers}: attest needs 1 <= quorum <= provers"
        )
    signatures = proof.get("signatures", "gateway")
    if signatures not in SIGNATURES:
        raise ConfigError(f"{config_path} [proof] signatures = {signatures!r}: choose one of {', '.join(SIGNATURES)}")
    if signatures == "circuit" and backend != "groth16":
        raise ConfigError(
            f'{config_path} [proof] signatures = "circuit" needs backend = "groth16": the {backend} backend has no '
            'circuit to check signatures in (use signatures = "gateway")'
        )
    rate = reader.integer(reward, "reward", "rate", 10**15)
    if rate < 0:
        raise ConfigError(f"{config_path} [reward] rate must not be negative")
    dapp_contract = str(reward.get("contract", "Rewards"))
    if not dapp_contract.isidentifier():
        raise ConfigError(f"{config_path} [reward] contract = {dapp_contract!r} is not a Solidity contract name")

    spec = ProjectSpec(
        root=root,
        name=_project_name(project.get("name"), root),
        template=str(project.get("template", "")),
        description=str(project.get("description", "")),
        schema=schema,
        per="device",
        capacity=capacity,
        window_seconds=reader.integer(batching, "batching", "window_seconds", 600),
        backend=cast(Backend, backend),
        quorum=quorum,
        provers=provers,
        rate=rate,
        unit=str(reward.get("unit", "unit")),
        dapp_contract=dapp_contract,
        signatures=cast(Literal["gateway", "circuit"], signatures),
        w3bstream=_w3bstream(raw.get("w3bstream"), schema, signatures, config_path),
    )
    for required in (spec.logic_path, spec.generator_path, spec.dapp_path):
        if not required.is_file():
            raise ConfigError(f"project {spec.name} has no {required.name} in {root}")
    if backend == "groth16" and not spec.circuit_path.is_file():
        raise ConfigError(f"project {spec.name} uses groth16 but has no {CIRCUIT_FILE} in {root}")
    return _with_outputs(spec)


def _w3bstream(table: object, schema: Schema, signatures: str, path: Path) -> W3bConfig | None:
    """``[w3bstream]``: ``timestamp`` (a payload key, or "received"), ``signed_keys`` and ``[w3bstream.keys]``
    (schema field = payload key, for the fields whose key is not their own name)."""
    if table is None:
        return None
    where = f"{path} [w3bstream]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    if signatures == "circuit":
        raise ConfigError(
            f'{where}: a project whose circuit checks the signatures (signatures = "circuit") cannot take W3bStream '
            "messages, whose sha256 signature binds no chain: remove the section or check signatures at the gateway"
        )
    unknown = set(table) - {"timestamp", "signed_keys", "keys"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: keys, signed_keys, timestamp")
    keys = table.get("keys", {})
    timestamp = table.get("timestamp", RECEIVED)
    signed = table.get("signed_keys", [])
    if not isinstance(keys, dict) or not all(isinstance(v, str) and v for v in keys.values()):
        raise ConfigError(f"{where} keys must be a table of schema field = payload key (a dotted path)")
    strange = set(keys) - set(schema.payload_names)
    if strange:
        raise ConfigError(f"{where} keys names {sorted(strange)}, which are not fields of [schema]")
    if not isinstance(timestamp, str) or not timestamp:
        raise ConfigError(f'{where} timestamp must be a payload key or "{RECEIVED}" (the gateway\'s clock)')
    names_ok = isinstance(signed, list) and all(isinstance(k, str) and k for k in signed)
    if not names_ok or len(signed) > MAX_SIGNED_KEYS:
        raise ConfigError(f"{where} signed_keys must be a list of at most {MAX_SIGNED_KEYS} payload keys (uint64)")
    return W3bConfig(
        keys=tuple((name, keys.get(name, name)) for name in schema.payload_names),
        timestamp=timestamp,
        signed_keys=tuple(signed),
    )


def _project_name(declared: object, root: Path) -> str:
    """The declared name; a template run in place (the demo) still has its placeholder: use the folder's."""
    if isinstance(declared, str) and declared and not declared.startswith("__"):
        return declared
    return root.name.replace("_", "-")


def _with_outputs(spec: ProjectSpec) -> ProjectSpec:
    logic = spec.logic()
    outputs = getattr(logic, "OUTPUTS", None)
    if not isinstance(outputs, tuple | list) or not outputs or not all(isinstance(o, str) for o in outputs):
        raise ConfigError(f'{spec.logic_path} must define OUTPUTS, a tuple of output names, e.g. OUTPUTS = ("metres",)')
    for function in ("check", "outputs"):
        if not callable(getattr(logic, function, None)):
            raise ConfigError(f"{spec.logic_path} must define a function {function}(records)")
    generator = _import_file(spec.generator_path, f"proofstream_project_{spec.circuit_name}_generator")
    if not callable(getattr(generator, "readings", None)):
        raise ConfigError(f"{spec.generator_path} must define readings(rng, device, count, start)")
    return ProjectSpec(**{**spec.__dict__, "outputs": tuple(outputs)})


def _import_file(path: Path, module_name: str) -> ModuleType:
    """Import a project file as a module of its own (projects are folders, not installed packages)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except FileNotFoundError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise ConfigError(f"{path} fails to import: {type(exc).__name__}: {exc}") from exc
    return module


class _Reader:
    """Typed access to the TOML document with errors that name the file, table and key."""

    def __init__(self, raw: Mapping[str, Any], path: Path) -> None:
        self._raw = raw
        self._path = path
        known = {"project", "schema", "batching", "proof", "reward", "w3bstream"}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}; known: {sorted(known)}")

    def table(self, name: str) -> dict[str, Any]:
        value = self._raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self._path}: [{name}] must be a table")
        return value

    def integer(self, table: Mapping[str, Any], table_name: str, key: str, default: int) -> int:
        value = table.get(key, default)
        if isinstance(value, str):
            try:
                return int(value.replace("_", ""), 0)
            except ValueError:
                pass
        elif isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{self._path} [{table_name}] {key} = {value!r} must be an integer")
