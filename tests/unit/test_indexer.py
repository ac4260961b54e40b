"""The indexer over a real SQLite store and a fake event source: the gateway's allowlist follows the chain."""

from __future__ import annotations

from chain_fakes import FakeEvents
from testbed import DOMAIN, OWNER

from proofstream.domain.schema import Schema
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address, ConfigVersion, Nonce, ProjectId, TaskId
from proofstream.indexer.ports import DeviceDeactivation, DeviceRegistration, TaskOutcome
from proofstream.indexer.service import Indexer
from proofstream.store.ports import ProjectConfig, TaskRow
from proofstream.store.sqlite import SqliteStore

DEVICE = Address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")


def test_a_deactivated_device_leaves_the_allowlist(empty_store: SqliteStore) -> None:
    events = FakeEvents()
    events.registered += [
        DeviceRegistration(ProjectId(1), DEVICE, OWNER, 3),
        DeviceRegistration(ProjectId(2), DEVICE, OWNER, 4, key=(5, 6)),
    ]
    indexer = Indexer(empty_store, events, start_block=0)
    indexer.tick()
    assert empty_store.device_projects(DEVICE) == {1, 2}
    events.deactivated.append(DeviceDeactivation(ProjectId(1), DEVICE, 12))
    events.block = 12
    indexer.tick()
    assert empty_store.device_projects(DEVICE) == {2}
    assert empty_store.device_key(ProjectId(2), DEVICE) == (5, 6)  # a receipt of its messages still checks


def test_registered_and_deactivated_in_one_range_ends_deactivated(empty_store: SqliteStore) -> None:
    events = FakeEvents()
    events.registered.append(DeviceRegistration(ProjectId(1), DEVICE, OWNER, 5))
    events.deactivated.append(DeviceDeactivation(ProjectId(1), DEVICE, 6))
    Indexer(empty_store, events, start_block=0).tick()
    assert empty_store.device_projects(DEVICE) == set()


def _task(store: SqliteStore, first_nonce: int, *path: TaskStatus) -> TaskId:
    """A task of no messages (the indexer reads none) taken along ``path`` from batched."""
    row = TaskRow(
        id=TaskId(1000 + first_nonce),
        project=ProjectId(1),
        config=ConfigVersion(1),
        device=DEVICE,
        first_nonce=Nonce(first_nonce),
        last_nonce=Nonce(first_nonce + 3),
        root=5,
        created_at=1.0,
    )
    store.create_task(row, [])
    for status in path:
        store.update_task(row.id, status)
    return row.id


def test_task_outcomes_finish_the_tasks_the_chain_finished(empty_store: SqliteStore) -> None:
    """A task the submitter lost track of ends as the chain says, with the tx hash taken from the event."""
    empty_store.upsert_project(ProjectConfig(ProjectId(1), ConfigVersion(1), Schema(payload=()), DOMAIN))
    submitted = _task(empty_store, 0, TaskStatus.PROVING, TaskStatus.SUBMITTED)
    proving = _task(empty_store, 4, TaskStatus.PROVING)
    # Settled by the submitter from the chain's state alone (after a restart): no tx hash.
    settled_here = _task(empty_store, 8, TaskStatus.PROVING, TaskStatus.SUBMITTED, TaskStatus.SETTLED)
    events = FakeEvents()
    events.outcomes += [
        TaskOutcome(submitted, True, "0xaa", 5),
        TaskOutcome(proving, False, "0xbb", 6, "Refused(7)"),
        TaskOutcome(settled_here, True, "0xcc", 7),
        TaskOutcome(TaskId(4242), True, "0xdd", 8),  # not this store's task
    ]
    Indexer(empty_store, events, start_block=0).tick()
    rows = [empty_store.get_task(t) for t in (submitted, proving, settled_here)]
    assert [(r.status, r.route_tx, r.reason) for r in rows if r is not None] == [
        (TaskStatus.SETTLED, "0xaa", None),
        (TaskStatus.FAILED, "0xbb", "Refused(7)"),
        (TaskStatus.SETTLED, "0xcc", None),
    ]
    assert empty_store.get_task(TaskId(4242)) is None
