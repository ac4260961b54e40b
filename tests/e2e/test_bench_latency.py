"""bench/latency.py still runs end to end (a tiny run on a latency-mode node): every message it sent settled on
chain, every owner was paid, and its percentiles come from those messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from toolchain_check import toolchain_available

pytestmark = [pytest.mark.slow, pytest.mark.chain]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "latency.py"


def test_the_latency_benchmark_runs_and_prints_its_figures() -> None:
    if not toolchain_available():
        pytest.skip("node and node_modules (npm ci) are needed to build the circuit and run anvil")
    args = ["--devices", "1", "--seconds", "2", "--workers", "1", "--no-warm-up", "--json"]
    run = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["messages"] == figures["settled"] == 2
    assert figures["owners_paid"] == 1
    assert 0 < figures["p50_s"] <= figures["p99_s"] <= figures["max_s"]
