"""Importing a port, or the pure core, loads no adapter: no web3 and nothing of ``proofstream.chain``.

Each case runs in a fresh interpreter, since this test process has long imported web3 by way of other tests.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PORTS = ("proofstream.ports", "proofstream.attester.ports", "proofstream.store.ports", "proofstream.indexer.ports")

_PROBE = """
import importlib, json, pkgutil, sys
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    if name == "proofstream.domain":  # the package and every module in it
        for info in pkgutil.iter_modules(module.__path__, name + "."):
            importlib.import_module(info.name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "web3" or m.startswith("proofstream.chain"))))
"""


def _adapters_loaded_by(*modules: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_the_ports_together_load_no_adapter() -> None:
    assert _adapters_loaded_by(*PORTS) == []


@pytest.mark.parametrize("module", [*PORTS, "proofstream.domain"])
def test_each_loads_no_adapter(module: str) -> None:
    assert _adapters_loaded_by(module) == []


def test_the_probe_sees_an_adapter() -> None:
    """The probe itself can fail: importing the chain book loads web3."""
    loaded = _adapters_loaded_by("proofstream.chain.book")
    assert "web3" in loaded and "proofstream.chain.book" in loaded
