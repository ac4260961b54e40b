"""The import rules of the house (README "Layout"), checked on the source: every ``import`` statement, at any depth
(a function-level import is still a dependency)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import proofstream

PACKAGE = Path(proofstream.__file__).parent

ROLES = ("ingest", "sequencer", "prover.service", "submitter", "indexer", "attester.service")
"""The pipeline's roles: each reaches storage and the chain through ports, never an adapter."""

ADAPTERS = ("chain", "store.sqlite", "store.postgres")
"""Modules that speak to the outside (web3, a database): composed by the root, never imported by a role."""

COMPOSITION_ROOT = "node"

ENTRY_POINTS = ("cli", "demo", "simulation")
"""What may start a node: the command line, the demo and ``project run``."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every proofstream module ``path`` imports (relative to the package: ``chain.client``), with its line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == "proofstream" or name.startswith("proofstream."):
                yield node.lineno, name.removeprefix("proofstream").removeprefix(".")


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _violations(importer: tuple[str, ...], forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    found = []
    for name, path in MODULES.items():
        if not _under(name, importer):
            continue
        for line, imported in _imports(path):
            if _under(imported, forbidden) and not _under(imported, allowed):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports proofstream.{imported}")
    return sorted(set(found))


def test_the_domain_imports_only_itself_and_errors() -> None:
    others = tuple(sorted({name.split(".")[0] for name in MODULES if name} - {"domain", "errors"}))
    assert _violations(("domain",), others) == []


def test_roles_import_ports_not_adapters() -> None:
    assert _violations(ROLES, ADAPTERS) == []


def test_only_entry_points_import_the_composition_root() -> None:
    everything_else = tuple(name for name in MODULES if name and not _under(name, (COMPOSITION_ROOT, *ENTRY_POINTS)))
    found = []
    for name in everything_else:
        for line, imported in _imports(MODULES[name]):
            if _under(imported, (COMPOSITION_ROOT,)):
                found.append(f"{name}:{line}")
    assert found == []


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for _, imported in _imports(path):
            # ``from proofstream.x import y`` names either a module x.y or a symbol of x: keep whichever exists.
            target = imported if imported in MODULES else imported.rpartition(".")[0]
            if target in MODULES and target != name:
                graph[name].add(target)
    return graph


def test_no_import_cycle_between_packages() -> None:
    """Between top-level packages (``node`` -> ``projects`` -> ``node`` was one): a package's modules may use each
    other freely, but the packages form a DAG, so each can be read knowing only those below it."""
    packages: dict[str, set[str]] = {}
    for name, targets in _graph().items():
        top = name.split(".")[0]
        packages.setdefault(top, set()).update(t.split(".")[0] for t in targets if t.split(".")[0] != top)
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(package: str, path: list[str]) -> list[str] | None:
        seen[package] = 1
        for target in sorted(packages.get(package, ())):
            if seen.get(target) == 1:
                return [*path, package, target]
            if target not in seen and (cycle := visit(target, [*path, package])):
                return cycle
        seen[package] = 2
        return None

    for package in sorted(packages):
        if package not in seen:
            assert visit(package, []) is None


@pytest.mark.parametrize("limit", [500])
def test_no_module_over_the_limit(limit: int) -> None:
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > limit}
    assert long == {}
