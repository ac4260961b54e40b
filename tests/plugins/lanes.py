"""The test lanes.

- ``chain``: needs anvil (marked per file);
- ``slow``: proves with snarkjs (marked per file or test);
- ``toolchain``: needs the Node toolchain (circom, snarkjs, circomlibjs) without a chain: marked here for every
  test that uses a fixture which compiles a circuit, or by hand (``@pytest.mark.toolchain``) for a test that
  runs a Node tool itself.

``./dev.sh test --fast`` runs what is none of them: pure Python, in a minute or two.
"""

from __future__ import annotations

import pytest

TOOLCHAIN_FIXTURES = frozenset(
    {
        "artifacts",  # tests/circuit: the demo circuit compiled, with its trusted setup
        "compiled",  # tests/templates: every template's circuit compiled
        "signed_compiled",  # tests/signatures: the signed wrappers compiled
        "unsigned_compiled",
        "contributed",  # tests/projects/test_ceremony.py: a ceremony with snarkjs
    }
)

FAST = "not chain and not slow and not toolchain"
"""The marker expression of the fast lane."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "toolchain: needs the Node toolchain (circom, snarkjs, circomlibjs)")


LONGEST_FIRST = (
    "tests/e2e/test_tutorial.py",
    "tests/projects/test_templates_end_to_end.py",
    "tests/projects/test_cli_errors.py",
    "tests/adversarial/test_weather_attacks.py",
    "tests/projects/test_lifecycle.py",
    "tests/circuit/test_underconstrained.py",
    "tests/circuit/test_rejections.py",
    "tests/adversarial/test_tracker_attacks.py",
    "tests/adversarial/test_uptime_attacks.py",
    "tests/signatures/test_signed_circuits.py",
    "tests/e2e/test_w3bstream_node.py",
    "tests/contracts/test_bjj_registry.py",
)
"""The files that take a minute or more (``--durations`` of a full run), longest first. They start first (dev.sh
passes ``--no-loadscope-reorder``, since xdist would otherwise order files by how many tests they hold and start
the one-test tutorial last), so the workers' long files overlap and every worker ends at about the same time."""


def _rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if TOOLCHAIN_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.toolchain)
    items.sort(key=_rank)  # stable: the rest keep their collection order
