"""The assigned prover's attest backend and the prover worker: wait for a quorum, then hand over its signatures."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from attest.attest_world import StoredTask, store_task
from proofstream.chain.accounts import dev_account
from proofstream.domain.anchor import NO_ANCHOR, RECORD_INPUTS, Anchor
from proofstream.domain.attestation import Attestation, attest_domain, recover_attester, result_hash, sign_digest
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.eip712 import Domain
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address, ProjectId, TaskId
from proofstream.errors import ConfigError, ProverError
from proofstream.prover.attest import AttestBackend, AttestProof
from proofstream.prover.service import ProofNotReadyError, ProverWorker
from proofstream.sdk.device import DeviceKey
from proofstream.store.ports import StoredAttestation
from proofstream.store.sqlite import SqliteStore

CHAIN_ID = 31337
ROUTER = Address("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")
TASK_MANAGER = Address("0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9")
DEVICE_DOMAIN = Domain(CHAIN_ID, Address("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"))
DEVICE = DeviceKey.from_hex("0x" + "d5" * 32)
ATTESTERS = [dev_account(i) for i in (6, 7, 8)]
PROVER = dev_account(3)
LATS = [10, 20, 50]
OUTPUTS = (40,)


class FixedLogic:
    def __init__(self, outputs: tuple[int, ...] = OUTPUTS) -> None:
        self.outputs = outputs
        self.calls = 0

    def run(self, records: Sequence[TaskRecord], previous: TaskRecord | None = None) -> tuple[int, ...]:
        self.calls += 1
        return self.outputs


class NoAnchors:
    """The chain of a device with no verified task yet."""

    def anchor(self, project: ProjectId, device: Address) -> Anchor:
        return NO_ANCHOR


N_PUBLIC = len(OUTPUTS) + len(RECORD_INPUTS)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "store.db") as opened:
        yield opened


@pytest.fixture
def task(store: SqliteStore) -> StoredTask:
    return store_task(
        store, chain_id=CHAIN_ID, task_manager=TASK_MANAGER, project=1, domain=DEVICE_DOMAIN, device=DEVICE, lats=LATS
    )


def _backend(store: SqliteStore, logic: FixedLogic, quorum: int = 2) -> AttestBackend:
    return AttestBackend(
        store,
        logic,
        chain_id=CHAIN_ID,
        router=ROUTER,
        config_version=1,
        attesters=[a.address for a in ATTESTERS],
        quorum=quorum,
    )


def _attest(
    store: SqliteStore,
    task: StoredTask,
    signer: LocalAccount,
    outputs: tuple[int, ...] = OUTPUTS,
    *,
    claimed: Address | None = None,
) -> None:
    row = task.row
    attestation = Attestation.of_outputs(row.project, row.config, row.id, row.root, outputs, _anchors(task))
    signature = sign_digest(bytes(signer.key), attestation.digest(attest_domain(CHAIN_ID, ROUTER)))
    store.put_attestation(
        StoredAttestation(row.id, claimed or Address(signer.address), attestation.result, outputs, signature, 1.0)
    )


def _anchors(task: StoredTask) -> tuple[int, int, int, int]:
    """(prevTime, prevLeaf, lastTime, lastLeaf) of a device's first task."""
    last = _circuit_task(task).last_anchor()
    return (0, 0, last.timestamp, last.leaf)


def _circuit_task(task: StoredTask) -> CircuitTask:
    records = tuple(TaskRecord(m.nonce, m.timestamp, {"lat": int(m.payload[0]), "lon": 7}) for m in task.messages)
    row = task.row
    return CircuitTask(row.project, row.id, int(row.device, 16), int(PROVER.address, 16), row.root, records)


def test_not_ready_until_a_quorum_signed_our_result(store: SqliteStore, task: StoredTask) -> None:
    logic = FixedLogic()
    backend = _backend(store, logic)
    assert not backend.ready(task.row)
    _attest(store, task, ATTESTERS[2])
    assert not backend.ready(task.row)
    with pytest.raises(ProofNotReadyError, match="1 of 2"):
        backend.prove(_circuit_task(task))
    _attest(store, task, ATTESTERS[0])
    assert backend.ready(task.row)
    proof = backend.prove(_circuit_task(task))
    assert logic.calls == 1  # the outputs were computed once and remembered
    assert isinstance(proof, AttestProof)
    expected_signers = sorted([Address(ATTESTERS[0].address), Address(ATTESTERS[2].address)], key=lambda a: int(a, 16))
    assert list(proof.signers) == expected_signers
    row = task.row
    assert proof.public_signals == (
        *OUTPUTS,
        row.project,
        row.id,
        row.root,
        int(row.device, 16),
        int(PROVER.address, 16),
        0,
        len(LATS) - 1,
        *_anchors(task),
    )
    digest = Attestation.of_outputs(row.project, 1, row.id, row.root, OUTPUTS, _anchors(task)).digest(
        attest_domain(CHAIN_ID, ROUTER)
    )
    recovered = [recover_attester(digest, proof.calldata[i * 65 : (i + 1) * 65]) for i in range(2)]
    assert recovered == expected_signers
    assert backend.verify(proof)


def test_takes_exactly_quorum_signatures_in_address_order(store: SqliteStore, task: StoredTask) -> None:
    backend = _backend(store, FixedLogic())
    for attester in ATTESTERS:
        _attest(store, task, attester)
    proof = backend.prove(_circuit_task(task))
    lowest = sorted((Address(a.address) for a in ATTESTERS), key=lambda a: int(a, 16))[:2]
    assert len(proof.calldata) == 130 and list(proof.signers) == lowest


def test_verify_refuses_tampered_proofs(store: SqliteStore, task: StoredTask) -> None:
    backend = _backend(store, FixedLogic())
    _attest(store, task, ATTESTERS[0])
    _attest(store, task, ATTESTERS[1])
    proof = backend.prove(_circuit_task(task))
    first, second = proof.calldata[:65], proof.calldata[65:]
    for calldata in (second + first, first + first, first, proof.calldata + first):
        assert not backend.verify(AttestProof(proof.public_signals, calldata, proof.signers, proof.config))
    other = (OUTPUTS[0] + 1, *proof.public_signals[1:])
    assert not backend.verify(AttestProof(other, proof.calldata, proof.signers, proof.config))


def test_ignores_forged_rows_and_signers_outside_the_set(store: SqliteStore, task: StoredTask) -> None:
    backend = _backend(store, FixedLogic())
    _attest(store, task, ATTESTERS[0])
    _attest(store, task, dev_account(9), claimed=Address(ATTESTERS[1].address))  # signed by someone else
    _attest(store, task, dev_account(4))  # not in the set
    with pytest.raises(ProofNotReadyError):
        backend.prove(_circuit_task(task))


def test_a_quorum_for_another_result_fails_the_task(store: SqliteStore, task: StoredTask) -> None:
    backend = _backend(store, FixedLogic())
    _attest(store, task, ATTESTERS[0], (41,))
    assert not backend.ready(task.row)
    _attest(store, task, ATTESTERS[1], (41,))
    assert backend.ready(task.row)
    with pytest.raises(ProverError, match="can no longer") as info:
        backend.prove(_circuit_task(task))
    assert info.value.code == "attest_disagreement"


def test_the_worker_puts_a_waiting_task_back_and_proves_it_later(store: SqliteStore, task: StoredTask) -> None:
    logic = FixedLogic()
    worker = ProverWorker(
        store, _backend(store, logic), prover=PROVER.address, n_public=N_PUBLIC, constraints=None, anchors=NoAnchors()
    )
    assert worker.tick() is None
    assert store.get_task(task.row.id).status is TaskStatus.BATCHED  # type: ignore[union-attr]
    _attest(store, task, ATTESTERS[0])
    _attest(store, task, ATTESTERS[1])
    proven = worker.tick()
    assert proven is not None and proven.status is TaskStatus.PROVING
    assert proven.outputs == (OUTPUTS[0],)
    assert proven.proof is not None and proven.proof.backend == "attest" and len(proven.proof.calldata) == 130


def test_the_worker_puts_back_a_task_that_turns_out_not_ready(store: SqliteStore, task: StoredTask) -> None:
    """ready() saw a quorum of some result; prove() finds it is not ours and more attesters may still come."""
    backend = AttestBackend(
        store,
        FixedLogic(),
        chain_id=CHAIN_ID,
        router=ROUTER,
        config_version=1,
        attesters=[*(a.address for a in ATTESTERS), dev_account(9).address],
        quorum=2,
    )
    worker = ProverWorker(
        store, backend, prover=PROVER.address, n_public=N_PUBLIC, constraints=None, anchors=NoAnchors()
    )
    _attest(store, task, ATTESTERS[0], (41,))
    _attest(store, task, ATTESTERS[1], (41,))
    assert worker.tick() is None
    row = store.get_task(task.row.id)
    assert row is not None and row.status is TaskStatus.BATCHED and row.proof is None


def test_the_worker_fails_a_task_whose_quorum_disagrees(store: SqliteStore, task: StoredTask) -> None:
    worker = ProverWorker(
        store,
        _backend(store, FixedLogic()),
        prover=PROVER.address,
        n_public=N_PUBLIC,
        constraints=None,
        anchors=NoAnchors(),
    )
    _attest(store, task, ATTESTERS[0], (41,))
    _attest(store, task, ATTESTERS[1], (41,))
    failed = worker.tick()
    assert (
        failed is not None
        and failed.status is TaskStatus.FAILED
        and "attest_disagreement" not in (failed.reason or "x")
    )
    assert "can no longer" in (failed.reason or "")


def test_a_task_of_another_config_version_is_refused(store: SqliteStore, task: StoredTask) -> None:
    backend = AttestBackend(
        store,
        FixedLogic(),
        chain_id=CHAIN_ID,
        router=ROUTER,
        config_version=2,
        attesters=[a.address for a in ATTESTERS],
        quorum=2,
    )
    with pytest.raises(ProverError, match="config version 1") as info:
        backend.prove(_circuit_task(task))
    assert info.value.code == "wrong_config"


def test_backend_settings_are_checked(store: SqliteStore) -> None:
    with pytest.raises(ConfigError, match="quorum"):
        _backend(store, FixedLogic(), quorum=4)
    with pytest.raises(ConfigError, match="twice"):
        AttestBackend(
            store,
            FixedLogic(),
            chain_id=1,
            router=ROUTER,
            config_version=1,
            attesters=[ATTESTERS[0].address, ATTESTERS[0].address.lower()],
            quorum=1,
        )


def test_unknown_task(store: SqliteStore, task: StoredTask) -> None:
    circuit = _circuit_task(task)
    missing = CircuitTask(circuit.project, TaskId(7), circuit.device, circuit.prover, circuit.root, circuit.records)
    with pytest.raises(ProverError, match="not in the store"):
        _backend(store, FixedLogic()).prove(missing)


def test_result_hash_matches_the_stored_one(store: SqliteStore, task: StoredTask) -> None:
    _attest(store, task, ATTESTERS[0])
    assert store.attestations(task.row.id)[0].result == result_hash(OUTPUTS)
