"""``proofstream project new``: copy a template into a new project folder.

Templates are packages under ``proofstream/templates`` so that the tests and type checker see their code;
their ``__init__.py`` is what makes them a package and is not copied. The scaffold is then the developer's own
code: nothing in it is regenerated.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

from proofstream.circuits.signed import SIGNED_CAPACITY, signed_circuit
from proofstream.errors import ConfigError
from proofstream.projects.spec import BACKENDS, CIRCUIT_FILE, CONFIG_FILE, SIGNATURES, STATE_DIR

__all__ = ["TEMPLATES", "scaffold", "template_dir"]

TEMPLATES = {
    "tracker-distance": "tracker_distance",
    "weather-quality": "weather_quality",
    "uptime": "uptime",
}
"""Template name on the command line -> package folder."""

PLACEHOLDER = "__PROJECT_NAME__"
_TEMPLATES_ROOT = Path(__file__).resolve().parent.parent / "templates"
_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
_SKIP = {"__init__.py", "__pycache__", ".pytest_cache", STATE_DIR}
_SUBSTITUTED = {CONFIG_FILE, "README.md"}


def template_dir(template: str) -> Path:
    """The folder of a template; ConfigError lists the templates for an unknown name."""
    try:
        return _TEMPLATES_ROOT / TEMPLATES[template]
    except KeyError:
        raise ConfigError(f"unknown template {template!r}; choose one of: {', '.join(TEMPLATES)}") from None


def scaffold(
    name: str, template: str, parent: Path, *, backend: str | None = None, signatures: str | None = None
) -> Path:
    """Create ``parent/name`` from ``template``; ``backend`` overrides the template's proof backend;
    ``signatures = "circuit"`` makes the signed variant (device signatures checked in the circuit)."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"project name {name!r}: use lower-case letters, digits and dashes, starting with a letter (max 40)"
        )
    if backend is not None and backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if signatures is not None and signatures not in SIGNATURES:
        raise ConfigError(f"signatures {signatures!r}: choose one of {', '.join(SIGNATURES)}")
    if signatures == "circuit" and backend not in (None, "groth16"):
        raise ConfigError(
            f"--signatures circuit needs the groth16 backend: the {backend} backend has no circuit to check "
            "signatures in"
        )
    source = template_dir(template)
    target = parent / name
    if target.exists():
        raise ConfigError(f"{target} already exists: choose another name or remove it")
    shutil.copytree(source, target, ignore=lambda _dir, names: [n for n in names if n in _SKIP])
    for relative in _SUBSTITUTED:
        path = target / relative
        if path.is_file():
            path.write_text(path.read_text().replace(PLACEHOLDER, name))
    if backend is not None:
        config = target / CONFIG_FILE
        text, count = re.subn(r'(?m)^backend\s*=\s*"[a-z0-9]+"', f'backend = "{backend}"', config.read_text())
        if count != 1:
            raise ConfigError(f"template {template} has no single `backend = ...` line in [proof]")
        config.write_text(text)
    if signatures == "circuit":
        _make_signed(target, template)
    (target / ".gitignore").write_text(f"{STATE_DIR}/\n__pycache__/\n")
    return target


def _make_signed(target: Path, template: str) -> None:
    """Turn a scaffolded project into its signed variant: capacity :data:`SIGNED_CAPACITY`, ``[proof] signatures
    = "circuit"`` and a circuit whose main is the generated signed wrapper of the template's logic."""
    config = target / CONFIG_FILE
    text = config.read_text()
    schema = tomllib.loads(text).get("schema", {})
    depth = SIGNED_CAPACITY.bit_length() - 1
    circuit = target / CIRCUIT_FILE
    circuit.write_text(signed_circuit(circuit.read_text(), list(schema), depth))
    text, capacities = re.subn(
        r"(?m)^capacity\s*=\s*\d+[^\n]*$",
        f"capacity = {SIGNED_CAPACITY}             # messages per task = 2**depth; about 4.9k constraints per "
        "in-circuit signature: 4 fit a 2^15 powers of tau",
        text,
    )
    text, backends = re.subn(
        r'(?m)^(backend\s*=\s*"[a-z0-9]+"[^\n]*)$',
        r'\1\nsignatures = "circuit"     # BabyJubJub devices; the circuit checks every signature',
        text,
    )
    if capacities != 1 or backends != 1:
        raise ConfigError(f"template {template} has no single `capacity = ...` and `backend = ...` line")
    config.write_text(text)
