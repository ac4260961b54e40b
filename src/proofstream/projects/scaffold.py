"""``proofstream project new``: copy a template into a new project folder.

Templates are packages under ``proofstream/templates`` so that the tests and type checker see their code;
their ``__init__.py`` is what makes them a package and is not copied. The scaffold is then the developer's own
code: nothing in it is regenerated.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from proofstream.errors import ConfigError
from proofstream.projects.spec import BACKENDS, CONFIG_FILE, STATE_DIR

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


def scaffold(name: str, template: str, parent: Path, *, backend: str | None = None) -> Path:
    """Create ``parent/name`` from ``template``; ``backend`` overrides the template's proof backend."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"project name {name!r}: use lower-case letters, digits and dashes, starting with a letter (max 40)"
        )
    if backend is not None and backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
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
    (target / ".gitignore").write_text(f"{STATE_DIR}/\n__pycache__/\n")
    return target
