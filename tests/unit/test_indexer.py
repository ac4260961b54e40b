"""The indexer over a real SQLite store and a fake event source: the gateway's allowlist follows the chain."""

from __future__ import annotations

from pathlib import Path

from chain_fakes import FakeEvents

from proofstream.domain.types import Address, ProjectId
from proofstream.indexer.ports import DeviceDeactivation, DeviceRegistration
from proofstream.indexer.service import Indexer
from proofstream.store.sqlite import SqliteStore

DEVICE = Address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
OWNER = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")


def test_a_deactivated_device_leaves_the_allowlist(tmp_path: Path) -> None:
    events = FakeEvents()
    events.registered += [
        DeviceRegistration(ProjectId(1), DEVICE, OWNER, 3),
        DeviceRegistration(ProjectId(2), DEVICE, OWNER, 4, key=(5, 6)),
    ]
    with SqliteStore(tmp_path / "s.db") as store:
        indexer = Indexer(store, events, start_block=0)
        indexer.tick()
        assert store.device_projects(DEVICE) == {1, 2}
        events.deactivated.append(DeviceDeactivation(ProjectId(1), DEVICE, 12))
        events.block = 12
        indexer.tick()
        assert store.device_projects(DEVICE) == {2}
        assert store.device_key(ProjectId(2), DEVICE) == (5, 6)  # a receipt of its messages still checks


def test_registered_and_deactivated_in_one_range_ends_deactivated(tmp_path: Path) -> None:
    events = FakeEvents()
    events.registered.append(DeviceRegistration(ProjectId(1), DEVICE, OWNER, 5))
    events.deactivated.append(DeviceDeactivation(ProjectId(1), DEVICE, 6))
    with SqliteStore(tmp_path / "s.db") as store:
        Indexer(store, events, start_block=0).tick()
        assert store.device_projects(DEVICE) == set()
