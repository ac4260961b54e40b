"""The attester worker against a real SqliteStore and an in-memory chain: what it signs, and what it refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from chain_fakes import FakeAttesterChain

from attest.attest_world import (
    CAPACITY,
    DEVICE_OWNER,
    LOGIC,
    START,
    TRACKER_SCHEMA,
    StoredTask,
    expected_metres,
    root_of,
    store_task,
    write_logic,
)
from proofstream.attester.ports import AttestVersion, ChainTask
from proofstream.attester.service import Attester, AttesterSettings
from proofstream.chain.accounts import dev_account
from proofstream.domain.anchor import Anchor
from proofstream.domain.attestation import Attestation, attest_domain, recover_attester, result_hash
from proofstream.domain.circuit_task import TaskRecord
from proofstream.domain.eip712 import Domain
from proofstream.domain.messages import digest, message_id, message_leaf, parse_body
from proofstream.domain.schema import Field, Schema
from proofstream.domain.tasks import TaskStatus, task_id
from proofstream.domain.types import Address, ConfigVersion, FieldElement, Nonce, ProjectId
from proofstream.errors import ConfigError, ProverError
from proofstream.prover.isolated import IsolatedLogic
from proofstream.sdk.device import DeviceKey, P256DeviceKey
from proofstream.store.ports import ProjectConfig, TaskRow, TaskUpdate
from proofstream.store.sqlite import SqliteStore

CHAIN_ID = 31337
ROUTER = Address("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")
TASK_MANAGER = Address("0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9")
DOMAIN = Domain(CHAIN_ID, Address("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"))
CONFIG_HASH = b"\x42" * 32
PROJECT = 1
DEVICE = DeviceKey.from_hex("0x" + "d3" * 32)
LATS = [100, 140, 120, 180]

PROVER = Address("0x90F79bf6EB2c4f870365E785982E1f101E93b906")
"""A prover account for the fake chain's tasks: the attester never reads it."""


class FakeChain(FakeAttesterChain):
    def __init__(self, attester: Address) -> None:
        super().__init__(attester, router=ROUTER, device_registry=DOMAIN.verifying_contract)
        self.versions[(ProjectId(PROJECT), ConfigVersion(1))] = AttestVersion(
            CONFIG_HASH, Address("0x" + "ab" * 20), True, ConfigVersion(1), True, 2
        )

    def commit(self, stored: StoredTask, **changes: object) -> None:
        row = stored.row
        task = ChainTask(
            task_id=row.id,
            project=row.project,
            config=row.config,
            device=row.device,
            first_nonce=row.first_nonce,
            last_nonce=row.last_nonce,
            root=FieldElement(row.root),
            prover=PROVER,
            assigned=True,
        )
        self.put_task(replace(task, **changes))  # type: ignore[arg-type]


class CountingLogic:
    def __init__(self, inner: IsolatedLogic) -> None:
        self.inner = inner
        self.calls = 0

    def run(self, records: Sequence[TaskRecord], previous: TaskRecord | None = None) -> tuple[int, ...]:
        self.calls += 1
        return self.inner.run(records, previous)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "store.db") as opened:
        yield opened


@pytest.fixture
def logic(tmp_path: Path) -> CountingLogic:
    return CountingLogic(IsolatedLogic(write_logic(tmp_path, LOGIC)))


def _attester(store: SqliteStore, logic: CountingLogic, index: int = 6) -> tuple[Attester, FakeChain]:
    account = dev_account(index)
    chain = FakeChain(Address(account.address))
    settings = AttesterSettings(config_hash=CONFIG_HASH, capacity=CAPACITY, schema=TRACKER_SCHEMA)
    return Attester(store, chain, logic, bytes(account.key), settings, clock=lambda: 42.0), chain


def _task(store: SqliteStore, **kwargs: object) -> StoredTask:
    return store_task(
        store,
        chain_id=CHAIN_ID,
        task_manager=TASK_MANAGER,
        project=PROJECT,
        domain=DOMAIN,
        **{"lats": LATS, "device": DEVICE, **kwargs},  # type: ignore[arg-type]
    )


def test_signs_a_good_task_once(store: SqliteStore, logic: CountingLogic) -> None:
    attester, chain = _attester(store, logic)
    stored = _task(store)
    chain.commit(stored)
    assert attester.tick() == 1
    (attestation,) = store.attestations(stored.row.id)
    assert attestation.attester == attester.address
    assert attestation.outputs == (expected_metres(LATS),)
    assert attestation.result == result_hash([expected_metres(LATS)])
    last = stored.messages[-1]
    anchors = (0, 0, last.timestamp, message_leaf(PROJECT, last))
    expected = Attestation.of_outputs(PROJECT, 1, stored.row.id, stored.row.root, [expected_metres(LATS)], anchors)
    digest = expected.digest(attest_domain(CHAIN_ID, ROUTER))
    assert recover_attester(digest, attestation.signature) == attester.address
    assert chain.registrations == 1
    assert attester.tick() == 0 and logic.calls == 1 and chain.registrations == 1


def test_a_restarted_attester_does_not_sign_again(store: SqliteStore, logic: CountingLogic) -> None:
    first, chain = _attester(store, logic)
    stored = _task(store)
    chain.commit(stored)
    first.tick()
    second, chain2 = _attester(store, logic)
    chain2.commit(stored)
    assert second.tick() == 0
    assert logic.calls == 1 and len(store.attestations(stored.row.id)) == 1


def test_refuses_a_task_with_a_badly_signed_message(store: SqliteStore, logic: CountingLogic) -> None:
    attester, chain = _attester(store, logic)
    stored = _task(store, forge_at=2, forger=DeviceKey.from_hex("0x" + "e4" * 32))
    chain.commit(stored)  # the chain holds the root of exactly these (forged) messages
    assert attester.tick() == 0
    assert store.attestations(stored.row.id) == []
    assert logic.calls == 0  # refused before any project code ran
    assert attester.tick() == 0 and store.attestations(stored.row.id) == []


P256_DEVICE = P256DeviceKey.from_hex("0x" + "d5" * 32)


def test_signs_a_task_of_p256_signed_messages(store: SqliteStore, logic: CountingLogic) -> None:
    attester, chain = _attester(store, logic)
    stored = _task(store, device=P256_DEVICE)
    assert all(len(m.signature) == 64 for m in stored.messages)
    chain.commit(stored)
    assert attester.tick() == 1
    assert [a.outputs for a in store.attestations(stored.row.id)] == [(expected_metres(LATS),)]


@pytest.mark.parametrize("swap_key", [False, True], ids=["forged", "forged-with-the-store-key-swapped"])
def test_refuses_a_task_with_a_forged_p256_message(store: SqliteStore, logic: CountingLogic, swap_key: bool) -> None:
    """Signed by another P-256 key; with ``swap_key`` the store (whoever can write it) also holds the forger's key
    for the device, which does not hash to the device id the chain committed."""
    attester, chain = _attester(store, logic)
    forger = P256DeviceKey.from_hex("0x" + "e5" * 32)
    stored = _task(store, device=P256_DEVICE, forge_at=1, forger=forger)
    if swap_key:
        store.upsert_device(ProjectId(PROJECT), P256_DEVICE.address, DEVICE_OWNER, key=forger.public_key)
    chain.commit(stored)
    assert attester.tick() == 0
    assert store.attestations(stored.row.id) == [] and logic.calls == 0


def test_refuses_messages_that_are_not_the_committed_batch(store: SqliteStore, logic: CountingLogic) -> None:
    attester, chain = _attester(store, logic)
    stored = _task(store)
    chain.commit(stored, root=stored.row.root + 1)
    attester.tick()
    assert store.attestations(stored.row.id) == []


@pytest.mark.parametrize(
    "change", [{"last_nonce": 9}, {"device": DeviceKey.from_hex("0x" + "d4" * 32).address}, {"config": 2}]
)
def test_refuses_a_store_task_that_differs_from_the_chain(
    store: SqliteStore, logic: CountingLogic, change: dict[str, object]
) -> None:
    attester, chain = _attester(store, logic)
    stored = _task(store)
    chain.commit(stored, **change)
    chain.versions[(ProjectId(PROJECT), ConfigVersion(2))] = replace(
        chain.versions[(ProjectId(PROJECT), ConfigVersion(1))], verifier_config=ConfigVersion(2)
    )
    attester.tick()
    assert store.attestations(stored.row.id) == []


def test_refuses_a_batch_the_logic_rejects(store: SqliteStore, logic: CountingLogic) -> None:
    attester, chain = _attester(store, logic)
    stored = _task(store, lats=[100, 0, 120])
    chain.commit(stored)
    assert attester.tick() == 0
    assert store.attestations(stored.row.id) == [] and logic.calls == 1
    attester.tick()
    assert logic.calls == 1  # a rejection is final


def test_a_crashing_logic_is_retried_then_given_up(store: SqliteStore, tmp_path: Path) -> None:
    broken = CountingLogic(IsolatedLogic(write_logic(tmp_path, "def check(r):\n    raise RuntimeError('boom')\n")))
    attester, chain = _attester(store, broken)
    stored = _task(store)
    chain.commit(stored)
    for _ in range(5):
        attester.tick()
    assert broken.calls == 3 and store.attestations(stored.row.id) == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"config_hash": b"\x43" * 32}, "config hash"),
        ({"in_set": False}, "not in the attester set"),
        ({"is_attest_verifier": False}, "not an AttestVerifier"),
        ({"verifier_config": ConfigVersion(2)}, "checks config version 2"),
    ],
)
def test_signs_only_for_versions_that_run_its_logic_and_list_it(
    store: SqliteStore, logic: CountingLogic, change: dict[str, object], why: str, caplog: pytest.LogCaptureFixture
) -> None:
    attester, chain = _attester(store, logic)
    key = (ProjectId(PROJECT), ConfigVersion(1))
    chain.versions[key] = replace(chain.versions[key], **change)  # type: ignore[arg-type]
    stored = _task(store)
    chain.commit(stored)
    assert attester.tick() == 0
    assert store.attestations(stored.row.id) == [] and logic.calls == 0
    assert why in caplog.text
    _task(store, first_nonce=10)
    attester.tick()
    assert chain.version_lookups == 1  # the version's verdict is cached


def test_skips_tasks_not_yet_on_chain_or_already_settled(store: SqliteStore, logic: CountingLogic) -> None:
    attester, chain = _attester(store, logic)
    invisible = _task(store, first_nonce=10)
    settled = _task(store, first_nonce=20)
    chain.commit(settled, assigned=False)
    # The device's last task: were it before the others, they would wait for it (their predecessor) to settle.
    unassigned = _task(store, assign_tx=None, first_nonce=30)
    chain.commit(unassigned)
    assert attester.tick() == 0 and logic.calls == 0
    chain.commit(invisible)  # the assignment shows up on chain later
    assert attester.tick() == 1
    assert [a.attester for a in store.attestations(invisible.row.id)] == [attester.address]


def test_ignores_submitted_tasks_and_other_projects(store: SqliteStore, logic: CountingLogic) -> None:
    account = dev_account(6)
    chain = FakeChain(Address(account.address))
    settings = AttesterSettings(CONFIG_HASH, CAPACITY, TRACKER_SCHEMA, project=ProjectId(2))
    attester = Attester(store, chain, logic, bytes(account.key), settings)
    stored = _task(store)
    chain.commit(stored)
    assert attester.tick() == 0
    other, chain_other = _attester(store, logic)
    chain_other.commit(stored)
    store.update_task(stored.row.id, TaskStatus.PROVING)
    store.update_task(stored.row.id, TaskStatus.SUBMITTED)
    assert other.tick() == 0 and logic.calls == 0


def test_refuses_a_key_that_is_not_the_chain_account(store: SqliteStore, logic: CountingLogic) -> None:
    chain = FakeChain(Address(dev_account(6).address))
    with pytest.raises(ConfigError, match="does not belong"):
        Attester(
            store, chain, logic, bytes(dev_account(7).key), AttesterSettings(CONFIG_HASH, CAPACITY, TRACKER_SCHEMA)
        )


def test_logic_errors_propagate_as_prover_errors_from_attest(store: SqliteStore, tmp_path: Path) -> None:
    slow = CountingLogic(IsolatedLogic(write_logic(tmp_path, "def check(r):\n    while True: pass\n"), timeout_s=0.5))
    attester, chain = _attester(store, slow)
    stored = _task(store)
    chain.commit(stored)
    with pytest.raises(ProverError, match="longer than"):
        attester.attest(stored.row, chain.tasks[stored.row.id])


# --- the store's project row (schema, domain) is not what the attester checks signatures against ---------------

OTHER_DOMAIN = Domain(CHAIN_ID, Address("0x" + "66" * 20))
"""Same chain, another verifying contract: a DeviceRegistry the attester's deployment does not use."""
SWAPPED = Schema(payload=(Field("lon", "uint32"), Field("lat", "uint32")))
"""The tracker schema with its fields in the other order: another signed struct, other leaves."""


def _stored_under(
    store: SqliteStore, *, row: ProjectConfig, signed: tuple[Schema, Domain], committed: Schema
) -> StoredTask:
    """A task whose messages the device signed under ``signed`` (schema, domain), kept in a store whose project
    row is ``row``, and committed on chain with the root of the messages read under ``committed``."""
    store.upsert_project(row)
    schema, domain = signed
    ids, as_committed = [], []
    for nonce, lat in enumerate(LATS):
        body = DEVICE.sign_message(schema, domain, PROJECT, 1, nonce, START + nonce, {"lat": lat, "lon": 7})
        raw = json.dumps(body).encode()
        message = parse_body(raw, lambda _p, _c: row.schema)  # as the store hands it out
        ids.append(message_id(digest(message, domain)))
        store.put_message(message, ids[-1], 1.0)
        as_committed.append(parse_body(raw, lambda _p, _c: committed))
    task = TaskRow(
        id=task_id(CHAIN_ID, TASK_MANAGER, PROJECT, DEVICE.address, 0),
        project=ProjectId(PROJECT),
        config=ConfigVersion(1),
        device=DEVICE.address,
        first_nonce=Nonce(0),
        last_nonce=Nonce(len(LATS) - 1),
        root=root_of(PROJECT, as_committed),
        created_at=1.0,
    )
    store.create_task(task, ids)
    return StoredTask(store.update_task(task.id, change=TaskUpdate(assign_tx="0x" + "aa" * 32)), tuple(as_committed))


def test_a_store_row_with_another_domain_does_not_get_a_replayed_message_signed(
    store: SqliteStore, logic: CountingLogic
) -> None:
    # Signed by the device, but under another deployment's domain; the store's row claims that domain.
    attester, chain = _attester(store, logic)
    row = ProjectConfig(ProjectId(PROJECT), ConfigVersion(1), TRACKER_SCHEMA, OTHER_DOMAIN)
    stored = _stored_under(store, row=row, signed=(TRACKER_SCHEMA, OTHER_DOMAIN), committed=TRACKER_SCHEMA)
    chain.commit(stored)
    assert attester.tick() == 0
    assert store.attestations(stored.row.id) == [] and logic.calls == 0


def test_a_store_row_with_another_domain_does_not_make_it_refuse_an_honest_task(
    store: SqliteStore, logic: CountingLogic
) -> None:
    attester, chain = _attester(store, logic)
    row = ProjectConfig(ProjectId(PROJECT), ConfigVersion(1), TRACKER_SCHEMA, OTHER_DOMAIN)
    stored = _stored_under(store, row=row, signed=(TRACKER_SCHEMA, DOMAIN), committed=TRACKER_SCHEMA)
    chain.commit(stored)
    assert attester.tick() == 1
    (attestation,) = store.attestations(stored.row.id)
    assert attestation.outputs == (expected_metres(LATS),)


def test_a_store_row_with_another_schema_does_not_get_a_message_of_that_schema_signed(
    store: SqliteStore, logic: CountingLogic
) -> None:
    # The device signed a struct of another layout (and the chain holds the root of that layout's leaves).
    attester, chain = _attester(store, logic)
    row = ProjectConfig(ProjectId(PROJECT), ConfigVersion(1), SWAPPED, DOMAIN)
    stored = _stored_under(store, row=row, signed=(SWAPPED, DOMAIN), committed=SWAPPED)
    chain.commit(stored)
    assert attester.tick() == 0
    assert store.attestations(stored.row.id) == [] and logic.calls == 0


def test_a_store_row_with_another_schema_does_not_make_it_refuse_an_honest_task(
    store: SqliteStore, logic: CountingLogic
) -> None:
    attester, chain = _attester(store, logic)
    row = ProjectConfig(ProjectId(PROJECT), ConfigVersion(1), SWAPPED, DOMAIN)
    stored = _stored_under(store, row=row, signed=(TRACKER_SCHEMA, DOMAIN), committed=TRACKER_SCHEMA)
    chain.commit(stored)
    assert attester.tick() == 1
    (attestation,) = store.attestations(stored.row.id)
    assert attestation.outputs == (expected_metres(LATS),)


def test_waits_for_the_predecessor_then_counts_from_its_anchor(store: SqliteStore, logic: CountingLogic) -> None:
    """Protocol v2: an attestation signs the device's anchor, so it is made only once the previous task is final,
    and the logic reads the anchor's fix, found in the store by its leaf."""
    attester, chain = _attester(store, logic)
    first = _task(store)
    second = _task(store, lats=[70, 90], first_nonce=len(LATS))
    chain.commit(second)
    chain.pending.add(second.row.id)
    assert attester.tick() == 0
    assert store.attestations(second.row.id) == []
    chain.pending.clear()
    last = first.messages[-1]
    chain.anchors[(ProjectId(PROJECT), DEVICE.address.lower())] = Anchor(last.timestamp, message_leaf(PROJECT, last), 1)
    assert attester.tick() == 1
    (attestation,) = store.attestations(second.row.id)
    assert attestation.outputs == (expected_metres([LATS[-1], 70, 90]),)
    end = second.messages[-1]
    anchors = (last.timestamp, message_leaf(PROJECT, last), end.timestamp, message_leaf(PROJECT, end))
    expected = Attestation.of_outputs(PROJECT, 1, second.row.id, second.row.root, attestation.outputs, anchors)
    assert recover_attester(expected.digest(attest_domain(CHAIN_ID, ROUTER)), attestation.signature) == attester.address


def test_refuses_a_task_whose_time_was_already_paid(store: SqliteStore, logic: CountingLogic) -> None:
    attester, chain = _attester(store, logic)
    stored = _task(store)
    chain.commit(stored)
    chain.anchors[(ProjectId(PROJECT), DEVICE.address.lower())] = Anchor(stored.messages[0].timestamp, 5, 1)
    assert attester.tick() == 0
    assert store.attestations(stored.row.id) == []


def test_refuses_an_anchor_leaf_the_store_cannot_open(store: SqliteStore, logic: CountingLogic) -> None:
    attester, chain = _attester(store, logic)
    _task(store)
    second = _task(store, lats=[70], first_nonce=len(LATS))
    chain.commit(second)
    chain.anchors[(ProjectId(PROJECT), DEVICE.address.lower())] = Anchor(1, 12345, 1)  # a leaf no stored message has
    assert attester.tick() == 0
    assert store.attestations(second.row.id) == []
