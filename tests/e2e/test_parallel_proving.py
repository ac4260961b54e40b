"""A node with ``prover.workers = 2`` on the fast path: two prover threads, one warm lane each, prove the tasks of
several devices at once, and every task still settles once with what the reference logic computes."""

from __future__ import annotations

import pytest

from proofstream.demo import demo_project
from proofstream.prover.warm import fast_prover_installed
from proofstream.settings import GatewaySettings, ProverSettings, Settings
from proofstream.simulation import run_project

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not fast_prover_installed(), reason="the fastprove extra (groth16py) is not installed"),
]


def test_two_fast_prover_workers_settle_every_task_once_as_the_reference_pays() -> None:
    settings = Settings(gateway=GatewaySettings(port=0), prover=ProverSettings(workers=2, backend="fast"))
    summary = run_project(demo_project(), devices=4, messages=8, settings=settings)
    assert len(summary.tasks) >= 4  # at least one task per device
    assert {t.status for t in summary.tasks} == {"settled"}
    assert len({t.task_id for t in summary.tasks}) == len(summary.tasks)  # each task once
    assert all(t.route_tx for t in summary.tasks)  # routed, alone or in a batch with tasks proven by the other worker
    assert all(t.prove_seconds is not None and t.prove_seconds > 0 for t in summary.tasks)
    for device in summary.devices:
        assert device.proven == device.reference > 0
        assert device.tokens_wei == device.reference * summary.rate_per_unit_wei
