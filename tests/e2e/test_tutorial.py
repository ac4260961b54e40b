"""docs/tutorial.md, run as written: scripts/tutorial.sh scaffolds, customises, builds, tests, deploys and runs a
weather-station project (Groth16), then an uptime project (attest), on the local chain. The script asserts the
rewards itself; this test checks it ran to the end and its figures are in the output."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.chain]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "tutorial.sh"


def test_the_tutorial_script_runs_to_the_end(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=1200, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert re.search(r"TUTORIAL_SECONDS=\d+", output)
    assert re.search(r"\d+ tasks settled; good readings per station: \[\d+(, \d+){3}\]", output)
    assert re.search(r"\d+ attested tasks settled", output)
    assert "0 failure(s)" in output  # the differential test of the customised circuit
    customised = (tmp_path / "my-weather" / "circuit.circom").read_text()
    assert "var HIGH[3] = [1700," in customised
    assert (tmp_path / "my-weather" / ".proofstream" / "deployments-31337.json").is_file()
