"""Chained proving on a real chain: each tracker's three tasks are proven before the first of them settles (against
the anchors their predecessors will leave) and settle in one routeBatch, in order, paying what the reference logic
computes over the device's messages, boundaries included."""

from __future__ import annotations

from dataclasses import replace

import pytest

from proofstream.demo import DEMO_TEMPLATE
from proofstream.projects.scaffold import template_dir
from proofstream.projects.spec import load_project
from proofstream.settings import ChainSettings, GatewaySettings, Settings
from proofstream.simulation import run_project

pytestmark = pytest.mark.slow


def test_a_device_s_tasks_are_proven_ahead_and_settle_together_in_one_route_batch() -> None:
    spec = load_project(template_dir(DEMO_TEMPLATE))
    messages = 3 * spec.capacity  # three full tasks a device
    # A proof may wait long for others: the batch is sent once nothing else could join it.
    settings = replace(Settings(gateway=GatewaySettings(port=0)), chain=ChainSettings(route_wait_seconds=300))
    summary = run_project(spec, devices=2, messages=messages, settings=settings)
    assert sorted(t.messages for t in summary.tasks) == [spec.capacity] * 6
    assert {t.status for t in summary.tasks} == {"settled"}
    for device in summary.devices:
        own = [t for t in summary.tasks if t.device.lower() == device.device.lower()]
        # The second and third were proven against anchors no chain held yet, and routed after their predecessors.
        assert len({t.route_tx for t in own}) == 1
        assert device.proven == device.reference > 0
        assert device.tokens_wei == device.reference * summary.rate_per_unit_wei
    gas = summary.gas()
    assert gas.route_transactions < gas.tasks
    assert (gas.messages, gas.tasks) == (6 * spec.capacity, 6)
    assert gas.per_message == round((gas.assign + gas.route) / gas.messages)
