"""The store conformance suite: the behaviour every Store adapter must have, whatever it keeps its data in.

It knows no adapter. ``test_store_conformance.py`` runs it on each adapter of its ``ADAPTERS`` (SQLite and
PostgreSQL); an adapter shipped elsewhere subclasses StoreConformance and provides the
``adapter`` fixture. Not collected by itself (the class name does not start with ``Test``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from testbed import CHAIN_ID, DOMAIN, OWNER, TASK_MANAGER, TRACKER, TRACKER_SCHEMA

from proofstream.chain.accounts import DEV_PRIVATE_KEYS
from proofstream.domain.eip712 import Domain
from proofstream.domain.messages import DeviceMessage, digest, message_id, parse_body
from proofstream.domain.schema import Field, Schema
from proofstream.domain.tasks import TaskStatus, task_id
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, ProjectId, TaskId
from proofstream.errors import ConflictError, StaleTaskError, StoreError
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import (
    NO_CHANGE,
    ProjectConfig,
    Store,
    StoredAttestation,
    StoredProof,
    TaskRow,
    TaskUpdate,
)

OTHER_PROJECT = ProjectConfig(ProjectId(2), ConfigVersion(3), TRACKER_SCHEMA, DOMAIN)
KEYS = [DeviceKey.from_hex(key) for key in DEV_PRIVATE_KEYS[:3]]
"""Device keys: anvil's first three development keys."""
ATTESTERS = [
    Address("0x976EA74026E726554dB657fA54763abd0C3a0aa9"),
    Address("0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"),
    Address("0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"),
]
PROOF = StoredProof(
    backend="groth16",
    outputs=(1234, 2**200),
    calldata=bytes(range(256)),
    public_signals=(1234, 2**200, *range(7), 1_764_300_000, 2**254 - 1, 1_764_300_009, 3),
    prev_time=1_764_300_000,
    prev_leaf=2**254 - 1,
    last_time=1_764_300_009,
    last_leaf=3,
)
"""A proof with numbers past what a JSON double or a 64-bit column holds."""

Adapter = Callable[[Path], Store]
"""Opens a handle on the database that belongs to a place (a fresh temporary directory): the same place again opens
the same database (how the suite reopens a store), another place a new, empty one."""

StoreFactory = Callable[[], Store]


def signed(
    key: DeviceKey,
    nonce: int,
    *,
    lat: int = 100,
    project: ProjectConfig = TRACKER,
    timestamp: int | None = None,
) -> tuple[DeviceMessage, MessageId]:
    """A signed tracker message and its id, as the gateway would hand them to the store."""
    body = key.sign_message(
        project.schema,
        project.domain,
        project.project,
        project.config,
        nonce,
        min(1_764_300_000 + nonce, 2**64 - 1) if timestamp is None else timestamp,
        {"lat": lat, "lon": 200},
    )
    message = parse_body(json.dumps(body).encode(), lambda _p, _c: project.schema)
    return message, message_id(digest(message, project.domain))


def attestation(
    task: TaskId, attester: Address, *, outputs: tuple[int, ...] = (1234,), signature: bytes = b"\x11" * 65
) -> StoredAttestation:
    result = bytes([sum(outputs) % 256]) * 32
    return StoredAttestation(task, attester, result, outputs, signature, created_at=7.5)


def new_task(key: DeviceKey, first: int, last: int, *, created_at: float = 1000.0, root: int = 12345) -> TaskRow:
    return TaskRow(
        id=task_id(CHAIN_ID, TASK_MANAGER, TRACKER.project, key.address, Nonce(first)),
        project=TRACKER.project,
        config=TRACKER.config,
        device=key.address,
        first_nonce=Nonce(first),
        last_nonce=Nonce(last),
        root=root,
        created_at=created_at,
    )


class StoreConformance:
    """Behaviour every Store adapter must have. Runners override the ``adapter`` fixture."""

    @pytest.fixture
    def adapter(self) -> Adapter:
        """The adapter under test: overridden by every runner of the suite."""
        raise NotImplementedError

    @pytest.fixture
    def store_factory(self, adapter: Adapter, tmp_path: Path) -> Iterator[StoreFactory]:
        """Opens a new handle on one fresh, empty database each call; closes them all at teardown."""
        opened: list[Store] = []

        def factory() -> Store:
            store = adapter(tmp_path)
            opened.append(store)
            return store

        yield factory
        for store in opened:
            store.close()

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> Store:
        store = store_factory()
        store.upsert_project(TRACKER)
        store.upsert_project(OTHER_PROJECT)
        return store

    def put(self, store: Store, key: DeviceKey, nonce: int, **kwargs: Any) -> MessageId:
        message, mid = signed(key, nonce, **kwargs)
        assert store.put_message(message, mid, 1.5).created
        return mid

    # --- projects and devices ---

    def test_projects_round_trip(self, store: Store) -> None:
        assert store.get_project(TRACKER.project, TRACKER.config) == TRACKER
        assert store.get_project(TRACKER.project, ConfigVersion(2)) is None
        assert store.project_configs() == [TRACKER, OTHER_PROJECT]
        assert store.project_configs(ProjectId(2)) == [OTHER_PROJECT]
        assert store.project_configs(ProjectId(9)) == []

    def test_project_domain_may_change_but_not_its_schema(self, store: Store) -> None:
        moved = ProjectConfig(TRACKER.project, TRACKER.config, TRACKER.schema, Domain(1, TASK_MANAGER))
        store.upsert_project(moved)
        assert store.get_project(TRACKER.project, TRACKER.config) == moved
        other_schema = Schema(payload=(Field("lat", "uint32"),))
        with pytest.raises(StoreError) as caught:
            store.upsert_project(ProjectConfig(TRACKER.project, TRACKER.config, other_schema, DOMAIN))
        assert caught.value.code == "schema_conflict"
        assert store.get_project(TRACKER.project, TRACKER.config) == moved

    def test_project_ids_use_the_whole_uint64_range(self, store: Store) -> None:
        big = ProjectConfig(ProjectId(2**64 - 1), ConfigVersion(2**32 - 1), TRACKER_SCHEMA, DOMAIN)
        store.upsert_project(big)
        assert store.get_project(big.project, big.config) == big
        assert store.project_configs()[-1] == big

    def test_checkpoints_round_trip(self, store: Store) -> None:
        assert store.get_checkpoint("indexer") is None
        store.set_checkpoint("indexer", "10")
        store.set_checkpoint("indexer", "12")
        assert store.get_checkpoint("indexer") == "12"

    def test_devices_allowlist(self, store: Store) -> None:
        device = KEYS[0].address
        assert store.device_projects(device) == set()
        store.upsert_device(ProjectId(1), device, OWNER)
        store.upsert_device(ProjectId(2), Address(device.lower()), OWNER)
        store.upsert_device(ProjectId(2), device, OWNER)  # idempotent
        assert store.device_projects(Address(device.upper().replace("0X", "0x"))) == {1, 2}
        assert store.device_projects(KEYS[1].address) == set()
        store.remove_device(ProjectId(1), device)
        assert store.device_projects(device) == {2}

    def test_a_deactivated_device_is_refused_for_good_and_keeps_its_key(self, store: Store) -> None:
        device = KEYS[0].address
        store.upsert_device(ProjectId(1), device, OWNER, key=(5, 6))
        store.upsert_device(ProjectId(2), device, OWNER, key=(5, 6))
        store.deactivate_device(ProjectId(1), device)
        assert store.device_projects(device) == {2}
        assert store.device_key(ProjectId(1), device) == (5, 6)
        store.upsert_device(ProjectId(1), device, OWNER, key=(5, 6))  # a re-read registration event
        assert store.device_projects(device) == {2}

    def test_rewinding_undoes_the_device_events_of_later_blocks_only(self, store: Store) -> None:
        early, late, by_hand = (k.address for k in KEYS[:3])
        store.upsert_device(ProjectId(1), early, OWNER, block=5)
        store.upsert_device(ProjectId(1), late, OWNER, block=9)
        store.upsert_device(ProjectId(1), by_hand, OWNER)
        store.upsert_device(ProjectId(2), early, OWNER, block=5)
        store.deactivate_device(ProjectId(1), early, block=8)
        store.deactivate_device(ProjectId(2), early, block=6)
        store.rewind_devices(7)
        assert store.device_projects(early) == {1}  # its deactivation at 8 is undone, the one at 6 stays
        assert store.device_projects(late) == set()
        assert store.device_key(ProjectId(1), late) is None
        assert store.device_projects(by_hand) == {1}
        store.upsert_device(ProjectId(1), late, OWNER, block=8)  # read again from the new chain
        assert store.device_projects(late) == {1}

    def test_the_owner_follows_the_transfers_in_chain_order_and_a_rewind_undoes_them(self, store: Store) -> None:
        device, stranger = KEYS[0].address, KEYS[1].address
        first, second, third = (Address(k.address) for k in KEYS)
        store.upsert_device(ProjectId(1), device, OWNER, block=5)
        assert store.device_owner(ProjectId(1), device) == OWNER
        assert store.device_owner(ProjectId(2), device) is None and store.device_owner(ProjectId(1), stranger) is None
        store.transfer_device(ProjectId(1), device, second, block=9, log_index=1)
        store.transfer_device(ProjectId(1), device, first, block=9, log_index=0)  # written out of order
        store.transfer_device(ProjectId(1), Address(device.lower()), second, block=9, log_index=1)  # read again
        assert store.device_owner(ProjectId(1), Address(device.lower())) == second
        store.transfer_device(ProjectId(1), device, third, block=12, log_index=0)
        store.upsert_device(ProjectId(1), device, OWNER)  # a re-read registration moves nothing back
        assert store.device_owner(ProjectId(1), device) == third
        store.rewind_devices(9)
        assert store.device_owner(ProjectId(1), device) == second
        store.rewind_devices(7)
        assert store.device_owner(ProjectId(1), device) == OWNER
        store.transfer_device(ProjectId(1), device, third, block=8, log_index=0)
        store.remove_device(ProjectId(1), device)  # its transfers go with it
        store.upsert_device(ProjectId(1), device, OWNER)
        assert store.device_owner(ProjectId(1), device) == OWNER

    # --- messages ---

    def test_put_then_get(self, store: Store) -> None:
        message, mid = signed(KEYS[0], 3)
        result = store.put_message(message, mid, 42.25)
        assert (result.message_id, result.created) == (mid, True)
        stored = store.get_message(mid)
        assert stored is not None
        assert stored.message == message
        assert stored.received_at == 42.25
        assert stored.status == "received"
        assert (stored.task_id, stored.leaf_index, stored.root, stored.tx_hash, stored.reason) == (None,) * 5
        assert store.get_message(MessageId("0x" + "00" * 32)) is None

    def test_same_message_again_is_not_created_twice(self, store: Store) -> None:
        message, mid = signed(KEYS[0], 3)
        assert store.put_message(message, mid, 1.0).created
        again = store.put_message(message, mid, 2.0)
        assert (again.message_id, again.created) == (mid, False)
        stored = store.get_message(mid)
        assert stored is not None and stored.received_at == 1.0
        assert len(store.unbatched_messages(TRACKER.project)) == 1

    def test_other_message_with_a_used_nonce_is_a_conflict(self, store: Store) -> None:
        first = self.put(store, KEYS[0], 3, lat=1)
        message, mid = signed(KEYS[0], 3, lat=2)
        with pytest.raises(ConflictError) as caught:
            store.put_message(message, mid, 1.0)
        assert caught.value.code == "nonce_conflict"
        assert store.get_message(mid) is None
        assert [m.id for m in store.unbatched_messages(TRACKER.project)] == [first]

    def test_same_nonce_in_another_project_or_by_another_device_is_fine(self, store: Store) -> None:
        self.put(store, KEYS[0], 3)
        self.put(store, KEYS[1], 3)
        self.put(store, KEYS[0], 3, project=OTHER_PROJECT)
        assert len(store.unbatched_messages(TRACKER.project)) == 2

    def test_message_of_an_unknown_project_config_is_refused(self, store: Store) -> None:
        unknown = ProjectConfig(ProjectId(7), ConfigVersion(1), TRACKER_SCHEMA, DOMAIN)
        message, mid = signed(KEYS[0], 0, project=unknown)
        with pytest.raises(StoreError) as caught:
            store.put_message(message, mid, 1.0)
        assert caught.value.code == "unknown_project"
        assert store.get_message(mid) is None

    def test_next_nonce(self, store: Store) -> None:
        device = KEYS[0].address
        assert store.next_nonce(TRACKER.project, device) == 0
        for nonce in (9, 2, 10):  # gaps and disorder; 10 after 9 checks the ordering is numeric
            self.put(store, KEYS[0], nonce)
        assert store.next_nonce(TRACKER.project, device) == 11
        assert store.next_nonce(TRACKER.project, Address(device.lower())) == 11
        assert store.next_nonce(OTHER_PROJECT.project, device) == 0
        assert store.next_nonce(TRACKER.project, KEYS[1].address) == 0
        self.put(store, KEYS[0], 2**64 - 1)
        assert store.next_nonce(TRACKER.project, device) == 2**64

    def test_timestamps_strictly_increase_with_the_nonce(self, store: Store) -> None:
        self.put(store, KEYS[0], 0, timestamp=100)
        self.put(store, KEYS[0], 10, timestamp=200)
        for nonce, timestamp in ((11, 200), (11, 150), (5, 100), (5, 200), (5, 50)):
            message, mid = signed(KEYS[0], nonce, timestamp=timestamp)
            with pytest.raises(ConflictError) as caught:
                store.put_message(message, mid, 2.0)
            assert caught.value.code == "stale_timestamp", (nonce, timestamp)
            assert store.get_message(mid) is None
        self.put(store, KEYS[0], 5, timestamp=150)  # a gap filled between its neighbours
        self.put(store, KEYS[0], 11, timestamp=201)
        self.put(store, KEYS[1], 0, timestamp=1)  # per device
        self.put(store, KEYS[0], 0, timestamp=1, project=OTHER_PROJECT)  # and per project
        again, mid = signed(KEYS[0], 0, timestamp=100)
        assert not store.put_message(again, mid, 3.0).created  # a resend is never refused

    def test_config_versions_never_decrease_with_the_nonce(self, store: Store) -> None:
        """A task holds one version: a device alternating between two live ones would make each message a task."""
        v2 = ProjectConfig(ProjectId(1), ConfigVersion(2), TRACKER_SCHEMA, DOMAIN)
        store.upsert_project(v2)
        self.put(store, KEYS[0], 0, timestamp=100)
        self.put(store, KEYS[0], 10, timestamp=200)
        self.put(store, KEYS[0], 20, timestamp=300, project=v2)
        for nonce, timestamp, project in ((21, 400, TRACKER), (5, 150, v2)):  # back to v1; v2 before a v1
            message, mid = signed(KEYS[0], nonce, timestamp=timestamp, project=project)
            with pytest.raises(ConflictError) as caught:
                store.put_message(message, mid, 2.0)
            assert caught.value.code == "stale_config", nonce
            assert store.get_message(mid) is None
        self.put(store, KEYS[0], 5, timestamp=150)  # gaps filled in order: v1 among v1s,
        self.put(store, KEYS[0], 15, timestamp=250, project=v2)  # v2 between a v1 and a v2
        self.put(store, KEYS[0], 21, timestamp=400, project=v2)

    def test_last_timestamp(self, store: Store) -> None:
        device = KEYS[0].address
        assert store.last_timestamp(TRACKER.project, device) is None
        self.put(store, KEYS[0], 9, timestamp=900)
        self.put(store, KEYS[0], 2, timestamp=200)  # stored later, lower nonce: not the last
        assert store.last_timestamp(TRACKER.project, device) == 900
        assert store.last_timestamp(TRACKER.project, Address(device.lower())) == 900
        assert store.last_timestamp(OTHER_PROJECT.project, device) is None
        self.put(store, KEYS[0], 2**64 - 1, timestamp=2**64 - 1)
        assert store.last_timestamp(TRACKER.project, device) == 2**64 - 1

    def test_unbatched_messages_are_ordered_by_device_then_nonce(self, store: Store) -> None:
        ids = {(k, n): self.put(store, KEYS[k], n) for k, n in [(1, 5), (0, 10), (1, 0), (0, 9), (2, 2**64 - 1)]}
        self.put(store, KEYS[0], 1, project=OTHER_PROJECT)
        listed = store.unbatched_messages(TRACKER.project)
        expected = sorted(ids, key=lambda kn: (int(KEYS[kn[0]].address, 16), kn[1]))
        assert [m.id for m in listed] == [ids[kn] for kn in expected]
        assert all(m.status == "received" for m in listed)
        assert [m.id for m in store.unbatched_messages(TRACKER.project, limit=2)] == [ids[kn] for kn in expected[:2]]

    # --- tasks ---

    def test_create_task_puts_messages_in_leaf_order(self, store: Store) -> None:
        ids = [self.put(store, KEYS[0], n) for n in range(4)]
        other = self.put(store, KEYS[1], 0)
        task = new_task(KEYS[0], 0, 2, root=2**250 + 7)
        store.create_task(task, [ids[2], ids[0], ids[1]])
        got = store.get_task(task.id)
        assert got is not None and replace(got, updated_at=None) == task
        assert [m.id for m in store.task_messages(task.id)] == [ids[2], ids[0], ids[1]]
        stored = store.get_message(ids[0])
        assert stored is not None
        assert (stored.status, stored.task_id, stored.leaf_index, stored.root) == (
            "batched",
            task.id,
            1,
            task.root,
        )
        assert {m.id for m in store.unbatched_messages(TRACKER.project)} == {ids[3], other}

    def test_a_nonce_at_or_below_a_batched_one_is_stale(self, store: Store) -> None:
        ids = [self.put(store, KEYS[0], n) for n in (0, 2, 3)]
        store.create_task(new_task(KEYS[0], 0, 3), ids)
        message, mid = signed(KEYS[0], 1)  # arrives after nonces 2 and 3 were batched
        with pytest.raises(ConflictError) as caught:
            store.put_message(message, mid, 2.0)
        assert caught.value.code == "stale_nonce"
        assert store.get_message(mid) is None
        assert store.put_message(*signed(KEYS[0], 4), 2.0).created
        assert store.put_message(*signed(KEYS[1], 1), 2.0).created  # other devices are not affected

    def test_create_task_is_all_or_nothing(self, store: Store) -> None:
        ids = [self.put(store, KEYS[0], n) for n in range(3)]
        first = new_task(KEYS[0], 0, 0)
        store.create_task(first, [ids[0]])
        foreign = self.put(store, KEYS[1], 0)
        bad_lists = [
            [ids[1], ids[0]],  # ids[0] is already in a task
            [ids[1], MessageId("0x" + "00" * 32)],  # unknown
            [ids[1], foreign],  # another device
        ]
        for message_ids in bad_lists:
            task = new_task(KEYS[0], 1, 2)
            with pytest.raises(StoreError) as caught:
                store.create_task(task, message_ids)
            assert caught.value.code == "task_conflict"
            assert store.get_task(task.id) is None
            stored = store.get_message(ids[1])
            assert stored is not None and stored.status == "received" and stored.task_id is None
        with pytest.raises(StoreError) as caught:
            store.create_task(first, [ids[1]])  # the id exists
        assert caught.value.code == "task_conflict"

    def test_message_status_follows_its_task(self, store: Store) -> None:
        ids = [self.put(store, KEYS[0], n) for n in range(2)]
        task = new_task(KEYS[0], 0, 1)
        store.create_task(task, ids)
        tx = "0x" + "ab" * 32
        steps = [
            (TaskStatus.PROVING, NO_CHANGE),
            (TaskStatus.SUBMITTED, TaskUpdate(route_tx=tx)),
            (TaskStatus.SETTLED, NO_CHANGE),
        ]
        for status, change in steps:
            store.update_task(task.id, status, change)
            for mid in ids:
                stored = store.get_message(mid)
                assert stored is not None and stored.status == status
        stored = store.get_message(ids[1])
        assert stored is not None and stored.tx_hash == tx and stored.leaf_index == 1

    def test_failed_task_gives_its_messages_the_reason(self, store: Store) -> None:
        mid = self.put(store, KEYS[0], 0)
        task = new_task(KEYS[0], 0, 0)
        store.create_task(task, [mid])
        store.update_task(task.id, TaskStatus.FAILED, TaskUpdate(reason="dapp reverted: paused"))
        stored = store.get_message(mid)
        assert stored is not None
        assert (stored.status, stored.reason) == ("failed", "dapp reverted: paused")

    def test_update_task_fields_round_trip(self, store: Store) -> None:
        mid = self.put(store, KEYS[0], 0)
        task = new_task(KEYS[0], 0, 0)
        store.create_task(task, [mid])
        change = TaskUpdate(
            proof=PROOF,
            assign_tx="0x" + "01" * 32,
            gas_assign=210_000,
            gas_route=251_000,
            constraints=2600,
            prove_seconds=0.9,
        )
        updated = store.update_task(task.id, TaskStatus.PROVING, change)
        assert updated == store.get_task(task.id)
        assert (updated.status, updated.proof, updated.outputs) == (TaskStatus.PROVING, PROOF, PROOF.outputs)
        assert (updated.gas_assign, updated.gas_route, updated.constraints) == (210_000, 251_000, 2600)
        assert updated.prove_seconds == 0.9 and updated.assign_tx == "0x" + "01" * 32
        kept = store.update_task(task.id, change=TaskUpdate(reason="slow"))
        assert (kept.status, kept.reason, kept.proof, kept.gas_assign) == (TaskStatus.PROVING, "slow", PROOF, 210_000)

    def test_a_dropped_proof_is_gone_and_the_rest_kept(self, store: Store) -> None:
        mid = self.put(store, KEYS[0], 0)
        task = new_task(KEYS[0], 0, 0)
        store.create_task(task, [mid])
        store.update_task(task.id, TaskStatus.PROVING, TaskUpdate(proof=PROOF, constraints=2600))
        dropped = store.update_task(task.id, TaskStatus.BATCHED, TaskUpdate(drop_proof=True))
        assert (dropped.status, dropped.proof, dropped.outputs, dropped.constraints) == (
            TaskStatus.BATCHED,
            None,
            None,
            2600,
        )
        assert store.get_task(task.id) == dropped

    def test_update_task_refusals(self, store: Store) -> None:
        mid = self.put(store, KEYS[0], 0)
        task = new_task(KEYS[0], 0, 0)
        store.create_task(task, [mid])
        with pytest.raises(StoreError) as caught:
            store.update_task(TaskId(1), TaskStatus.PROVING)
        assert caught.value.code == "unknown_task"
        with pytest.raises(ValueError, match="both set and drop"):
            TaskUpdate(proof=PROOF, drop_proof=True)

    def test_expect_lets_one_claimant_win(self, store: Store) -> None:
        mid = self.put(store, KEYS[0], 0)
        task = new_task(KEYS[0], 0, 0)
        store.create_task(task, [mid])
        store.update_task(task.id, TaskStatus.PROVING, expect=TaskStatus.BATCHED)
        with pytest.raises(StaleTaskError) as caught:
            store.update_task(task.id, TaskStatus.PROVING, expect=TaskStatus.BATCHED)
        assert caught.value.code == "stale_task"

    def test_the_store_refuses_an_illegal_transition_in_the_same_write(self, store: Store) -> None:
        """domain.tasks is enforced by the store, not only by the roles: a final task never moves again, and a
        task cannot skip proving; nothing is written when it refuses."""
        mid = self.put(store, KEYS[0], 0)
        task = new_task(KEYS[0], 0, 0)
        store.create_task(task, [mid])
        with pytest.raises(StaleTaskError, match="cannot go from batched to submitted"):
            store.update_task(task.id, TaskStatus.SUBMITTED, TaskUpdate(route_tx="0xabc"))
        row = store.get_task(task.id)
        assert row is not None and (row.status, row.route_tx) == (TaskStatus.BATCHED, None)
        store.update_task(task.id, TaskStatus.FAILED, TaskUpdate(reason="assignment refused"))
        for later in (TaskStatus.BATCHED, TaskStatus.PROVING, TaskStatus.SETTLED):
            with pytest.raises(StaleTaskError):
                store.update_task(task.id, later)
        store.update_task(
            task.id, TaskStatus.FAILED, TaskUpdate(reason="still failed")
        )  # the same status: no transition
        assert store.get_task(task.id).reason == "still failed"  # type: ignore[union-attr]

    def test_concurrent_claims_have_exactly_one_winner(self, store: Store) -> None:
        mid = self.put(store, KEYS[0], 0)
        task = new_task(KEYS[0], 0, 0)
        store.create_task(task, [mid])
        wins: list[bool] = []

        def claim() -> None:
            try:
                store.update_task(task.id, TaskStatus.PROVING, expect=TaskStatus.BATCHED)
                wins.append(True)
            except StaleTaskError:
                wins.append(False)

        threads = [threading.Thread(target=claim) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(wins) == [False] * 7 + [True]

    def test_tasks_with_status(self, store: Store) -> None:
        tasks = []
        for i, key in enumerate(KEYS):
            mid = self.put(store, key, 0)
            task = new_task(key, 0, 0, created_at=100.0 - i)
            store.create_task(task, [mid])
            tasks.append(task)
        store.update_task(tasks[1].id, TaskStatus.PROVING)
        assert [t.id for t in store.tasks_with_status(TaskStatus.BATCHED)] == [tasks[2].id, tasks[0].id]
        both = store.tasks_with_status(TaskStatus.BATCHED, TaskStatus.PROVING)
        assert [t.id for t in both] == [tasks[2].id, tasks[1].id, tasks[0].id]
        assert store.tasks_with_status(TaskStatus.SETTLED) == []
        assert store.tasks_with_status() == []

    # --- concurrency and reopening ---

    def test_concurrent_writers_all_land(self, store: Store) -> None:
        errors: list[BaseException] = []

        def write(k: int) -> None:
            try:
                for nonce in range(15):
                    self.put(store, KEYS[k % 3], 100 * k + nonce)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(k,)) for k in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(store.unbatched_messages(TRACKER.project)) == 90

    def test_same_message_from_many_threads_is_created_once(self, store: Store) -> None:
        message, mid = signed(KEYS[0], 0)
        created: list[bool] = []
        threads = [
            threading.Thread(target=lambda: created.append(store.put_message(message, mid, 1.0).created))
            for _ in range(10)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(created) == [False] * 9 + [True]

    def test_everything_survives_reopening(self, store_factory: StoreFactory) -> None:
        first = store_factory()
        first.upsert_project(TRACKER)
        first.upsert_device(TRACKER.project, KEYS[0].address, OWNER)
        ids = [self.put(first, KEYS[0], n) for n in range(3)]
        task = new_task(KEYS[0], 0, 1)
        first.create_task(task, ids[:2])
        first.update_task(task.id, TaskStatus.PROVING, TaskUpdate(proof=PROOF))
        first.close()
        second = store_factory()
        assert second.get_project(TRACKER.project, TRACKER.config) == TRACKER
        assert second.device_projects(KEYS[0].address) == {TRACKER.project}
        got = second.get_task(task.id)
        assert got is not None and got.proof == PROOF and got.status == TaskStatus.PROVING
        assert [m.id for m in second.task_messages(task.id)] == ids[:2]
        assert [m.id for m in second.unbatched_messages(TRACKER.project)] == ids[2:]
        assert second.next_nonce(TRACKER.project, KEYS[0].address) == 3

    # --- attestations ---

    def _task(self, store: Store) -> TaskRow:
        task = new_task(KEYS[0], 0, 0)
        store.create_task(task, [self.put(store, KEYS[0], 0)])
        return task

    def test_attestations_round_trip_in_attester_order(self, store: Store) -> None:
        task = self._task(store)
        assert store.attestations(task.id) == []
        big = (2**256 - 1, 0, 7)
        given = [attestation(task.id, ATTESTERS[0]), attestation(task.id, ATTESTERS[1], outputs=big)]
        given.append(attestation(task.id, Address(ATTESTERS[2].lower())))
        for a in given:
            assert store.put_attestation(a) is True
        got = store.attestations(task.id)
        assert [a.attester for a in got] == sorted(ATTESTERS, key=lambda a: int(a, 16))
        by_attester = {a.attester: a for a in got}
        assert by_attester[ATTESTERS[1]] == given[1]
        assert by_attester[ATTESTERS[2]].attester == ATTESTERS[2]  # checksummed whatever case came in
        assert store.attestations(TaskId(task.id + 1)) == []

    def test_same_attestation_again_is_not_created_twice(self, store: Store) -> None:
        task = self._task(store)
        first = attestation(task.id, ATTESTERS[0])
        assert store.put_attestation(first) is True
        assert store.put_attestation(replace(first, created_at=99.0)) is False
        assert store.attestations(task.id) == [first]

    def test_another_result_or_signature_from_the_same_attester_is_a_conflict(self, store: Store) -> None:
        task = self._task(store)
        first = attestation(task.id, ATTESTERS[0])
        store.put_attestation(first)
        for changed in (
            attestation(task.id, ATTESTERS[0], outputs=(1,)),
            attestation(task.id, ATTESTERS[0], signature=b"\x22" * 65),
            replace(first, outputs=(1235,)),
        ):
            with pytest.raises(ConflictError) as caught:
                store.put_attestation(changed)
            assert caught.value.code == "attestation_conflict"
        assert store.attestations(task.id) == [first]
        assert store.put_attestation(attestation(task.id, ATTESTERS[1], outputs=(1,))) is True

    def test_attestation_of_an_unknown_task_is_refused(self, store: Store) -> None:
        with pytest.raises(StoreError) as caught:
            store.put_attestation(attestation(TaskId(12345), ATTESTERS[0]))
        assert caught.value.code == "unknown_task"

    def test_attestations_survive_reopening(self, store_factory: StoreFactory) -> None:
        first = store_factory()
        first.upsert_project(TRACKER)
        task = self._task(first)
        stored = attestation(task.id, ATTESTERS[1])
        first.put_attestation(stored)
        first.close()
        assert store_factory().attestations(task.id) == [stored]
