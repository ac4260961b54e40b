"""bench/ingest.py still runs end to end (a tiny run: SQLite, HTTP and W3bStream, no MQTT): its figures come from
real accepted messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest.py"


def test_the_ingest_benchmark_runs_and_prints_its_figures() -> None:
    args = ["--devices", "10", "--rounds", "1", "--single", "20", "--batched", "40", "--batch-size", "20"]
    args += ["--w3bstream", "20", "--mqtt", "0", "--rate", "20", "--latency-seconds", "1", "--stores", "sqlite"]
    run = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^HTTP single .* proofstream +\d+ msg/s", run.stdout, re.M), run.stdout
    assert re.search(r"^ +baseline +\d+ msg/s.*ratio +\d+\.\dx$", run.stdout, re.M), run.stdout
    assert re.search(r"^W3bStream POST /v1/task .* proofstream +\d+ msg/s", run.stdout, re.M), run.stdout
    assert re.search(r"^latency at 20 msg/s offered, single, baseline +p50 .* p99 ", run.stdout, re.M), run.stdout
