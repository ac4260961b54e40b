"""bench/ingest_batch.py still runs end to end (a tiny run): its figures come from real accepted messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest_batch.py"


def test_the_batch_benchmark_runs_and_prints_its_figures() -> None:
    args = ["--rounds", "1", "--single", "20", "--batched", "60", "--batch-size", "30", "--devices", "10"]
    run = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^single +20 messages in +20 requests", run.stdout, re.M), run.stdout
    assert re.search(r"^batch of 30 +60 messages in +2 requests", run.stdout, re.M), run.stdout
    assert re.search(r"^batch / single: \d+\.\dx messages/s$", run.stdout, re.M), run.stdout
