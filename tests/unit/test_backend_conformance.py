"""Every ProverBackend adapter through the one conformance suite (backend_conformance.py): the Groth16 backend on
the tracker-distance template's real circuit (snarkjs proves and verifies; the build is the content-hash cache
entry tests/circuit shares), the attest backend on a real store with attesters' signatures, and the
fake the pipeline tests use. The Groth16 backend runs twice: on the snarkjs CLI and on the warm fast path.

``IsolatedLogic`` is no backend (it runs a logic.py and returns outputs, no proof): the attest backend below runs
the template's logic.py through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from backend_conformance import (
    CONFIG,
    DEVICE_DOMAIN,
    DEVICE_KEY,
    OUT_OF_RANGE_LATS,
    PROJECT,
    TRACKER,
    VALID_LATS,
    BackendConformance,
    tracker_messages,
    tracker_task,
)
from fake_backend import FakeBackend

from proofstream.chain.accounts import dev_account
from proofstream.circuits.build import build_circuit
from proofstream.domain.attestation import Attestation, attest_domain, sign_digest
from proofstream.domain.circuit_task import CircuitTask
from proofstream.domain.types import Address, ConfigVersion, Nonce, ProjectId, TaskId
from proofstream.errors import ConfigError, ToolchainError
from proofstream.projects.circuit import ProjectCircuit
from proofstream.prover.attest import AttestBackend
from proofstream.prover.groth16 import Groth16Backend
from proofstream.prover.isolated import IsolatedLogic
from proofstream.prover.warm import WarmProver, fast_prover_installed
from proofstream.store.ports import ProjectConfig, StoredAttestation, TaskRow
from proofstream.store.sqlite import SqliteStore


class TestFakeBackend(BackendConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> FakeBackend:
        return FakeBackend()

    @pytest.fixture(scope="class")
    @classmethod
    def outputs(cls, task: CircuitTask) -> tuple[int, ...]:
        return (len(task.records),)

    @pytest.fixture(scope="class")
    @classmethod
    def rejected_task(cls, task: CircuitTask) -> CircuitTask:
        """The fake's one rule is the framework's: nonces increase."""
        return replace(task, records=(task.records[1], task.records[0]))


@pytest.mark.slow
class TestGroth16Backend(BackendConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> Groth16Backend:
        try:
            artifacts = build_circuit(TRACKER.circuit_path, TRACKER.circuit_name)
        except (ToolchainError, ConfigError) as exc:
            pytest.skip(f"circuit toolchain unavailable: {exc}")
        return Groth16Backend(ProjectCircuit.of(TRACKER), artifacts)


@pytest.mark.slow
class TestWarmGroth16Backend(BackendConformance):
    """The same backend on the fast path: a warm witness process and groth16py in a warm child (the fastprove
    extra), proofs verified by snarkjs against the same key."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> Iterator[Groth16Backend]:
        if not fast_prover_installed():
            pytest.skip("the fastprove extra (groth16py) is not installed")
        try:
            artifacts = build_circuit(TRACKER.circuit_path, TRACKER.circuit_name)
        except (ToolchainError, ConfigError) as exc:
            pytest.skip(f"circuit toolchain unavailable: {exc}")
        backend = Groth16Backend(ProjectCircuit.of(TRACKER), artifacts, WarmProver(artifacts))
        yield backend
        backend.close()


CHAIN_ID = 31337
ROUTER = Address("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")
ATTESTERS = [dev_account(i) for i in (6, 7, 8)]
QUORUM = 2


class TestAttestBackend(BackendConformance):
    """On a SQLite store holding the task's signed messages and two of three attesters' signatures of the
    result the template's logic.py gives (run out of process, as the node does)."""

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteStore]:
        with SqliteStore(tmp_path_factory.mktemp("attest") / "store.db") as opened:
            opened.upsert_project(
                ProjectConfig(ProjectId(PROJECT), ConfigVersion(CONFIG), TRACKER.schema, DEVICE_DOMAIN)
            )
            yield opened

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, store: SqliteStore) -> AttestBackend:
        return AttestBackend(
            store,
            IsolatedLogic(TRACKER.logic_path),
            chain_id=CHAIN_ID,
            router=ROUTER,
            config_version=CONFIG,
            attesters=[a.address for a in ATTESTERS],
            quorum=QUORUM,
        )

    @pytest.fixture(scope="class")
    @classmethod
    def task(cls, store: SqliteStore) -> CircuitTask:
        return _stored_task(store, 0xA11CE, VALID_LATS, first_nonce=10, start_minute=0)

    @pytest.fixture(scope="class")
    @classmethod
    def rejected_task(cls, store: SqliteStore) -> CircuitTask:
        return _stored_task(store, 0xBAD, OUT_OF_RANGE_LATS, first_nonce=20, start_minute=60)

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _attested(cls, store: SqliteStore, task: CircuitTask, outputs: tuple[int, ...]) -> None:
        """Two attesters of the set sign the task's result (the third stays silent)."""
        last = task.last_anchor(TRACKER.schema.payload_names)
        anchors = (task.anchor.timestamp, task.prev_leaf, last.timestamp, last.leaf)
        attestation = Attestation.of_outputs(task.project, CONFIG, task.task_id, task.root, outputs, anchors)
        for attester in ATTESTERS[:QUORUM]:
            signature = sign_digest(bytes(attester.key), attestation.digest(attest_domain(CHAIN_ID, ROUTER)))
            stored = StoredAttestation(
                TaskId(task.task_id), Address(attester.address), attestation.result, outputs, signature, 1.0
            )
            assert store.put_attestation(stored)


def _stored_task(
    store: SqliteStore, task_id: int, lats: list[int], *, first_nonce: int, start_minute: int
) -> CircuitTask:
    """The task's messages and row in ``store``, as the gateway and the sequencer leave them."""
    signed = tracker_messages(lats, first_nonce=first_nonce, start_minute=start_minute)
    for message, mid in signed:
        assert store.put_message(message, mid, 1.0).created
    task = tracker_task(task_id, [m for m, _ in signed])
    row = TaskRow(
        id=TaskId(task_id),
        project=ProjectId(PROJECT),
        config=ConfigVersion(CONFIG),
        device=DEVICE_KEY.address,
        first_nonce=Nonce(first_nonce),
        last_nonce=Nonce(first_nonce + len(lats) - 1),
        root=task.root,
        created_at=1.0,
    )
    store.create_task(row, [mid for _, mid in signed])
    return task
