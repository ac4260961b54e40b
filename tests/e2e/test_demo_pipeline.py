"""The whole pipeline as `proofstream demo` runs it: devices -> HTTP gateway -> store -> tasks -> Groth16 proofs
-> Router -> DApp -> ERC-20, on a real anvil. Each owner's on-chain balance must equal the Python reference logic
(the tracker-distance template's logic.py) over the very messages the store holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofstream.demo import DEMO_CAPACITY, demo_project, run_demo, run_signed_demo
from proofstream.domain.circuit_task import TaskRecord
from proofstream.domain.tasks import TaskStatus
from proofstream.store.sqlite import SqliteStore
from proofstream.templates.tracker_distance import logic

pytestmark = pytest.mark.slow


def test_demo_pays_each_owner_what_the_reference_logic_computes(tmp_path: Path) -> None:
    fixes = DEMO_CAPACITY + 3
    summary = run_demo(devices=3, messages=fixes, data_dir=tmp_path)
    spec = demo_project(tmp_path)  # the project the run scaffolded into its data folder
    assert (spec.capacity, spec.depth) == (DEMO_CAPACITY, 4)
    fields = spec.schema.payload_names
    assert fields == ("lat", "lon")
    assert (summary.project_name, summary.backend, summary.output_name) == ("tracker-demo", "groth16", "metres")

    assert [d.accepted for d in summary.devices] == [fixes] * 3
    # 19 fixes a device: one full task (capacity 16) and the 3 left over when the demo flushes.
    assert sorted(t.messages for t in summary.tasks) == [3, 3, 3, 16, 16, 16]
    assert {t.status for t in summary.tasks} == {"settled"}
    assert all(t.constraints and t.constraints > 16_000 for t in summary.tasks)  # TrackerDistance(4), not (3)

    with SqliteStore(tmp_path / "proofstream.sqlite3") as store:
        expected: dict[str, int] = {}
        # Each device's tasks in nonce order: a task is paid from the last fix of the one before (the anchor).
        last: dict[str, TaskRecord] = {}
        tasks = sorted(store.tasks_with_status(*TaskStatus), key=lambda t: (t.device.lower(), t.first_nonce))
        for task in tasks:
            messages = store.task_messages(task.id)
            assert [m.message.nonce for m in messages] == list(range(task.first_nonce, task.last_nonce + 1))
            records = [
                TaskRecord(
                    m.message.nonce,
                    m.message.timestamp,
                    dict(zip(fields, map(int, m.message.payload), strict=True)),
                )
                for m in messages
            ]
            logic.check(records)
            previous = last.get(task.device.lower())
            assert previous is None or previous.timestamp < records[0].timestamp
            (metres,) = logic.outputs(records, previous)
            last[task.device.lower()] = records[-1]
            assert task.outputs == (metres,)
            expected[task.device.lower()] = expected.get(task.device.lower(), 0) + metres
            for message in messages:
                stored = store.get_message(message.id)
                assert stored is not None
                assert stored.status == "settled"
                assert stored.tx_hash == task.route_tx
                assert stored.root == task.root

    for device in summary.devices:
        metres = expected[device.device.lower()]
        assert metres > 0
        assert device.proven == device.reference == metres
        assert device.tokens_wei == metres * summary.rate_per_unit_wei
    assert sum(t.output or 0 for t in summary.tasks) == sum(expected.values())


def test_the_demo_signed_half_pays_babyjubjub_devices_through_in_circuit_signatures(tmp_path: Path) -> None:
    """The second half of `proofstream demo`: BabyJubJub trackers whose signatures the proof itself checks."""
    summary = run_signed_demo(devices=1, messages=5, data_dir=tmp_path)
    assert summary.project_name == "tracker-signed"
    assert [d.accepted for d in summary.devices] == [5]
    assert sorted(t.messages for t in summary.tasks) == [1, 4]  # capacity 4 with signatures
    assert {t.status for t in summary.tasks} == {"settled"}
    assert all(t.constraints and t.constraints > 20_000 for t in summary.tasks)  # the EdDSA checks are in there
    (device,) = summary.devices
    assert device.proven == device.reference > 0
    assert device.tokens_wei == device.proven * summary.rate_per_unit_wei
