"""``proofstream project new``: copy a template into a new project folder.

Templates are packages under ``proofstream/templates`` so that the tests and type checker see their code;
their ``__init__.py`` is what makes them a package and is not copied. The scaffold is then the developer's own
code: nothing in it is regenerated.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

from proofstream.circuits.signed import SIGNED_CAPACITY, signed_circuit, with_main_depth
from proofstream.errors import ConfigError
from proofstream.projects.spec import BACKENDS, CIRCUIT_FILE, CONFIG_FILE, MAX_CAPACITY, SIGNATURES, STATE_DIR

__all__ = ["LARGEST_CAPACITY", "SHIPPED_PTAU_POWER", "TEMPLATES", "scaffold", "template_dir"]

TEMPLATES = {
    "tracker-distance": "tracker_distance",
    "weather-quality": "weather_quality",
    "uptime": "uptime",
}
"""Template name on the command line -> package folder."""

SHIPPED_PTAU_POWER = 15
"""The largest powers of tau in the checkout's ``ptau/`` (``pot15_proofstream.ptau``): the biggest circuit a
user's machine can set up without a download (circuits/ptau.py picks the smallest file that fits)."""

LARGEST_CAPACITY = {"tracker-distance": 16, "weather-quality": 16, "uptime": 32}
"""The largest capacity ``project new --capacity`` scaffolds a template at: its circuit there fits
:data:`SHIPPED_PTAU_POWER`, twice that does not (``--O2``, measured: tracker-distance 19,562 constraints at 16
and 38,587 at 32, weather-quality 20,372 and 40,500, uptime 30,175 at 32). A fixed list rather than an estimate
from constraints per message, so a capacity that is offered always builds; tests/templates keeps it honest. An
attest project builds no circuit: it takes any capacity the config does (spec.MAX_CAPACITY)."""

PLACEHOLDER = "__PROJECT_NAME__"
_TEMPLATES_ROOT = Path(__file__).resolve().parent.parent / "templates"
_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
_SKIP = {"__init__.py", "__pycache__", ".pytest_cache", STATE_DIR}
_SUBSTITUTED = {CONFIG_FILE, "README.md"}
_BACKEND_LINE = re.compile(r'(?m)^backend\s*=\s*"[a-z0-9]+"[^\n]*$')
_CAPACITY_LINE = re.compile(r"(?m)^capacity\s*=\s*\d+[ \t]*(?:#[ \t]*(?P<unit>\w+) per task)?[^\n]*$")
_COMMENT_COLUMN = 25
"""Where the templates' proofstream.toml comments start."""
_SIGNED_NOTE = (
    f"about 4.9k constraints per in-circuit signature: {SIGNED_CAPACITY} fit a 2^{SHIPPED_PTAU_POWER} powers of tau"
)


def template_dir(template: str) -> Path:
    """The folder of a template; ConfigError lists the templates for an unknown name."""
    try:
        return _TEMPLATES_ROOT / TEMPLATES[template]
    except KeyError:
        raise ConfigError(f"unknown template {template!r}; choose one of: {', '.join(TEMPLATES)}") from None


def scaffold(
    name: str,
    template: str,
    parent: Path,
    *,
    backend: str | None = None,
    signatures: str | None = None,
    capacity: int | None = None,
) -> Path:
    """Create ``parent/name`` from ``template``; ``backend`` overrides the template's proof backend;
    ``signatures = "circuit"`` makes the signed variant (device signatures checked in the circuit);
    ``capacity`` sets the messages per task (``[batching] capacity`` and the main component's depth).
    Nothing is left behind when it raises."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"project name {name!r}: use lower-case letters, digits and dashes, starting with a letter (max 40)"
        )
    if backend is not None and backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if signatures is not None and signatures not in SIGNATURES:
        raise ConfigError(f"signatures {signatures!r}: choose one of {', '.join(SIGNATURES)}")
    signed = signatures == "circuit"
    if signed and backend not in (None, "groth16"):
        raise ConfigError(
            f"--signatures circuit needs the groth16 backend: the {backend} backend has no circuit to check "
            "signatures in"
        )
    source = template_dir(template)
    if capacity is not None:
        template_backend = tomllib.loads((source / CONFIG_FILE).read_text()).get("proof", {}).get("backend")
        proven = (backend or template_backend) != "attest"  # an attest project builds no circuit
        _check_capacity(template, capacity, signed=signed, proven=proven)
    target = parent / name
    if target.exists():
        raise ConfigError(f"{target} already exists: choose another name or remove it")
    shutil.copytree(source, target, ignore=lambda _dir, names: [n for n in names if n in _SKIP])
    try:
        _customise(target, name, template, backend, signed, capacity)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def _customise(target: Path, name: str, template: str, backend: str | None, signed: bool, capacity: int | None) -> None:
    """The copied template made the project asked for: its name, backend, signed variant and capacity."""
    for relative in _SUBSTITUTED:
        path = target / relative
        if path.is_file():
            path.write_text(path.read_text().replace(PLACEHOLDER, name))
    config = target / CONFIG_FILE
    if backend is not None:
        _rewrite(config, _BACKEND_LINE, lambda _: f'backend = "{backend}"', "backend = ...", template)
    if signed:
        _rewrite(
            config,
            _BACKEND_LINE,
            lambda line: (
                f'{line[0]}\nsignatures = "circuit"     # BabyJubJub devices; the circuit checks every signature'
            ),
            "backend = ...",
            template,
        )
    if signed or capacity is not None:
        _set_capacity(target, template, capacity or SIGNED_CAPACITY, signed=signed)
    (target / ".gitignore").write_text(f"{STATE_DIR}/\n__pycache__/\n")


def _check_capacity(template: str, capacity: int, *, signed: bool, proven: bool) -> None:
    """ConfigError unless ``capacity`` is a power of two that the variant takes: for a ``proven`` (Groth16)
    project, one whose circuit fits the shipped powers of tau."""
    shipped = f"the largest powers of tau that ships with proofstream (2^{SHIPPED_PTAU_POWER}, ptau/)"
    if not proven:
        largest, why = MAX_CAPACITY, f"a task holds at most {MAX_CAPACITY} messages"
    elif signed:
        largest = SIGNED_CAPACITY
        why = f"each in-circuit signature costs about 4.9k constraints, so at most {largest} messages fit {shipped}"
    else:
        largest = LARGEST_CAPACITY[template]
        why = (
            f"the {template} circuit grows about linearly with its capacity; {largest} is the most that fits {shipped}"
        )
    choices = ", ".join(str(1 << depth) for depth in range(largest.bit_length()))
    if capacity < 1 or capacity & (capacity - 1):
        raise ConfigError(
            f"capacity {capacity}: it must be a power of two (a task's Merkle tree has 2**depth leaves); "
            f"choose one of {choices}"
        )
    if capacity > largest:
        bigger = (
            ". More needs a bigger prepared powers-of-tau file (prover.ptau), then [batching] capacity and the main "
            "component's depth raised by hand"
            if proven
            else ""
        )
        raise ConfigError(f"capacity {capacity} is too large: {why}; choose one of {choices}{bigger}")


def _set_capacity(target: Path, template: str, capacity: int, *, signed: bool) -> None:
    """``[batching] capacity`` and the circuit's main component at depth log2(``capacity``); the signed variant's
    main is the generated wrapper of the template's logic (circuits/signed.py)."""
    config, circuit = target / CONFIG_FILE, target / CIRCUIT_FILE
    depth = capacity.bit_length() - 1
    source = circuit.read_text()
    if signed:
        schema = tomllib.loads(config.read_text()).get("schema", {})
        source = signed_circuit(source, list(schema), depth)
    source, main = with_main_depth(source, depth)
    circuit.write_text(source)

    def line(match: re.Match[str]) -> str:
        unit = match["unit"] or "messages"
        text = f"{f'capacity = {capacity}':<{_COMMENT_COLUMN}}# {unit} per task = 2**depth; "
        text += f"circuit.circom's main component is {main}({depth})"
        return text + (f"\n{'':<{_COMMENT_COLUMN}}# {_SIGNED_NOTE}" if signed else "")

    _rewrite(config, _CAPACITY_LINE, line, "capacity = ...", template)


def _rewrite(
    path: Path, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str], line: str, template: str
) -> None:
    """Replace the one line of ``path`` that ``pattern`` matches; a template without exactly one is broken."""
    text, count = pattern.subn(replace, path.read_text())
    if count != 1:
        raise ConfigError(f"template {template}: {path.name} has no single `{line}` line")
    path.write_text(text)
