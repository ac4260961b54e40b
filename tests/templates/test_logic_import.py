"""A project's logic.py imports in milliseconds: what it imports (``proofstream.prover.ports.TaskRecord``) loads no
web3, no chain package and none of the proving toolchain's modules.

The attester and the attest prover start a fresh Python process for every run of the logic
(proofstream/prover/isolated.py), so an import that costs half a second is paid on every task, by every attester.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from proofstream.projects.scaffold import TEMPLATES, template_dir

HEAVY = (
    "web3",
    "eth_abi",
    "eth_utils",
    "eth_account",
    "proofstream.chain",
    "proofstream.circuits.build",
    "proofstream.prover.groth16",
)
"""What the eager ``proofstream.prover`` re-exports used to pull in (about 0.45 s), and the chain package."""

_CHILD = """
import importlib.util, json, sys, time
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("logic_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
seconds = time.perf_counter() - started
heavy = [h for h in json.loads(sys.argv[2]) if any(m == h or m.startswith(h + ".") for m in sys.modules)]
print(json.dumps({"heavy": heavy, "seconds": seconds, "outputs": list(module.OUTPUTS)}))
"""


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_a_templates_logic_imports_no_web3_chain_or_toolchain(template: str) -> None:
    logic = template_dir(template) / "logic.py"
    assert "proofstream.prover.ports import TaskRecord" in logic.read_text()  # the import this test is about
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(logic), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found = json.loads(done.stdout)
    assert found["heavy"] == [], f"{logic} pulls in {found['heavy']} ({found['seconds']:.3f} s)"
    assert found["outputs"]  # the module really ran
