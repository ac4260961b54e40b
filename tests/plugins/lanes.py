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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if TOOLCHAIN_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.toolchain)
