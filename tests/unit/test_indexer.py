"""The indexer over a real SQLite store and a fake event source: the gateway's allowlist follows the chain."""

from __future__ import annotations

from chain_fakes import FakeEvents
from testbed import DOMAIN, OWNER

from proofstream.domain.schema import Schema
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address, ConfigVersion, Nonce, ProjectId, TaskId
from proofstream.indexer.ports import DeviceDeactivation, DeviceRegistration, DeviceTransfer, TaskOutcome
from proofstream.indexer.service import CHECKPOINT, Indexer
from proofstream.store.ports import ProjectConfig, TaskRow
from proofstream.store.sqlite import SqliteStore

DEVICE = Address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
OTHER = Address("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC")


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


def test_the_owner_follows_transfers_and_a_reorg_undoes_the_orphaned_ones(empty_store: SqliteStore) -> None:
    events = FakeEvents(block=10)
    events.registered.append(DeviceRegistration(ProjectId(1), DEVICE, OWNER, 3))
    events.transfers.append(DeviceTransfer(ProjectId(1), DEVICE, OTHER, 3, 2))  # in its registration's block
    indexer = Indexer(empty_store, events, start_block=0)
    indexer.tick()
    assert empty_store.device_owner(ProjectId(1), DEVICE) == OTHER
    events.transfers.append(DeviceTransfer(ProjectId(1), DEVICE, OWNER, 12, 0))
    events.block = 12
    indexer.tick()
    assert empty_store.device_owner(ProjectId(1), DEVICE) == OWNER
    events.reorg(10)  # the transfer back at block 12 is gone from the new chain
    events.block = 13
    indexer.tick()
    assert empty_store.device_owner(ProjectId(1), DEVICE) == OTHER
    assert empty_store.device_projects(DEVICE) == {1}


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


def _allowed(store: SqliteStore) -> tuple[set[ProjectId], set[ProjectId]]:
    """The projects DEVICE and OTHER are admitted to."""
    return store.device_projects(DEVICE), store.device_projects(OTHER)


def _registered(events: FakeEvents, *at: tuple[int, Address, int]) -> None:
    """Registrations of (project, device, block) added to ``events``."""
    events.registered += [DeviceRegistration(ProjectId(p), device, OWNER, block) for p, device, block in at]


def test_events_wait_for_their_confirmations(empty_store: SqliteStore) -> None:
    events = FakeEvents(block=9)
    events.registered.append(DeviceRegistration(ProjectId(1), DEVICE, OWNER, 8))
    indexer = Indexer(empty_store, events, start_block=0, confirmations=2)
    assert indexer.tick() == 7
    assert empty_store.device_projects(DEVICE) == set()
    events.block = 10
    assert indexer.tick() == 8
    assert empty_store.device_projects(DEVICE) == {1}


def test_a_new_indexer_resumes_after_the_checkpoint(empty_store: SqliteStore) -> None:
    events = FakeEvents(block=10)
    events.registered.append(DeviceRegistration(ProjectId(1), DEVICE, OWNER, 4))
    Indexer(empty_store, events, start_block=0).tick()
    empty_store.remove_device(ProjectId(1), DEVICE)  # were block 4 read again, the device would be back
    events.registered.append(DeviceRegistration(ProjectId(1), OTHER, OWNER, 12))
    events.block = 12
    Indexer(empty_store, events, start_block=0).tick()  # a restarted node
    assert _allowed(empty_store) == (set(), {1})


def test_a_checkpoint_of_a_bare_block_number_is_resumed_from(empty_store: SqliteStore) -> None:
    """As the indexer wrote it before it kept block hashes."""
    empty_store.set_checkpoint(CHECKPOINT, "5")
    events = FakeEvents(block=10)
    _registered(events, (1, DEVICE, 5), (1, OTHER, 6))
    Indexer(empty_store, events, start_block=0).tick()
    assert _allowed(empty_store) == (set(), {1})


def test_a_reorg_undoes_the_devices_of_the_orphaned_blocks(empty_store: SqliteStore) -> None:
    events = FakeEvents(block=10)
    _registered(events, (1, DEVICE, 3), (2, DEVICE, 4))
    indexer = Indexer(empty_store, events, start_block=0)
    indexer.tick()
    _registered(events, (1, OTHER, 11))
    events.deactivated.append(DeviceDeactivation(ProjectId(2), DEVICE, 12))
    events.block = 12
    indexer.tick()
    assert _allowed(empty_store) == ({1}, {1})
    events.reorg(10)  # blocks 11 and 12 are replaced: another registration instead
    _registered(events, (3, OTHER, 11))
    events.block = 13
    indexer.tick()
    assert _allowed(empty_store) == ({1, 2}, {3})


def test_a_reorg_deeper_than_the_kept_hashes_reads_again_from_the_start(empty_store: SqliteStore) -> None:
    events = FakeEvents(block=10)
    _registered(events, (1, DEVICE, 3), (1, OTHER, 7))
    indexer = Indexer(empty_store, events, start_block=2)
    indexer.tick()  # one range: the only kept hash is block 10's
    events.reorg(5)
    events.block = 10
    indexer.tick()
    assert _allowed(empty_store) == ({1}, set())


class _ReorgWhileReading(FakeEvents):
    """Replaces block 8 between the indexer's reads of one range, once."""

    def device_deactivations(self, from_block: int, to_block: int) -> list[DeviceDeactivation]:
        if not self._forks:
            self.reorg(7)
            self.block = 10
        return super().device_deactivations(from_block, to_block)


def test_a_range_the_chain_changed_under_is_read_again(empty_store: SqliteStore) -> None:
    events = _ReorgWhileReading(block=10)
    events.registered.append(DeviceRegistration(ProjectId(1), DEVICE, OWNER, 8))
    indexer = Indexer(empty_store, events, start_block=0)
    indexer.tick()
    assert empty_store.device_projects(DEVICE) == set()  # read on the old chain: not written
    events.registered.append(DeviceRegistration(ProjectId(1), OTHER, OWNER, 9))
    indexer.tick()
    assert _allowed(empty_store) == (set(), {1})
