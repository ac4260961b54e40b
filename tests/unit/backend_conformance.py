"""The proof-backend conformance suite: every ProverBackend adapter (Groth16, attest, the tests' fake; PLONK when it
comes) subclasses BackendConformance and provides the ``backend`` fixture (and, where its project differs from the
tracker-distance template, the task fixtures); the same tests then run against it.

Not collected by itself (the class name does not start with ``Test``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import pytest

from proofstream.domain.anchor import anchor_after
from proofstream.domain.circuit_task import CircuitTask, TaskRecord, record_of
from proofstream.domain.eip712 import Domain
from proofstream.domain.layout import PUBLIC_INPUTS, batch_root, record_public_inputs
from proofstream.domain.messages import DeviceMessage, digest, message_id, parse_body
from proofstream.domain.types import Address, MessageId
from proofstream.errors import ProverError
from proofstream.projects.circuit import reference_outputs
from proofstream.projects.scaffold import template_dir
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.prover.ports import Proof, ProverBackend
from proofstream.sdk.device import DeviceKey

TRACKER: ProjectSpec = load_project(template_dir("tracker-distance"))
"""The project every backend proves here, unless a subclass says otherwise."""
FIELDS = TRACKER.schema.payload_names
PROJECT = 7
CONFIG = 2
DEVICE_KEY = DeviceKey.from_hex("0x" + "c3" * 32)
PROVER = 0x2546BCD3C84621E976D8185A91A922AE77ECEC30
DEVICE_DOMAIN = Domain(31337, Address("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"))
START = 1_764_300_000


def tracker_messages(
    lats: Sequence[int], *, first_nonce: int = 10, start_minute: int = 0
) -> list[tuple[DeviceMessage, MessageId]]:
    """Signed tracker fixes, one minute apart from ``start_minute`` on, as the gateway stores them."""
    found = []
    for i, lat in enumerate(lats):
        nonce, timestamp = first_nonce + i, START + 60 * (start_minute + i)
        payload = {"lat": lat, "lon": 193_405_000 + 1_500 * i}
        body = DEVICE_KEY.sign_message(TRACKER.schema, DEVICE_DOMAIN, PROJECT, CONFIG, nonce, timestamp, payload)
        message = parse_body(json.dumps(body).encode(), lambda _p, _c: TRACKER.schema)
        found.append((message, message_id(digest(message, DEVICE_DOMAIN))))
    return found


def tracker_task(task_id: int, messages: Sequence[DeviceMessage]) -> CircuitTask:
    """The task of ``messages``, chained to a previous fix the proof opens (the anchor leaf is set)."""
    records = tuple(record_of(m) for m in messages)
    first = records[0]
    previous = TaskRecord(
        first.nonce - 1, first.timestamp - 30, {"lat": first.payload["lat"] - 800, "lon": 193_400_000}
    )
    device = int(DEVICE_KEY.address, 16)
    fields = [previous.payload[name] for name in FIELDS]
    anchor = anchor_after(PROJECT, device, CONFIG, previous.nonce, previous.timestamp, fields)
    root = batch_root(PROJECT, device, records, FIELDS, TRACKER.depth)
    return CircuitTask(PROJECT, task_id, device, PROVER, root, records, CONFIG, anchor, previous)


VALID_LATS = [142_520_000 + 900 * i for i in range(4)]
OUT_OF_RANGE_LATS = [142_520_000, 180_000_001, 142_521_800]
"""The second fix lies past the tracker's latitude range (0..180,000,000): its logic refuses the batch."""


class BackendConformance:
    """Behaviour every ProverBackend adapter must have. Subclasses override ``backend`` (class-scoped: a real
    backend is built once) and, for a project other than the tracker's, ``task``, ``outputs`` and
    ``rejected_task``."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> ProverBackend:
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def task(cls) -> CircuitTask:
        """A task the backend proves."""
        return tracker_task(0xA11CE, [m for m, _ in tracker_messages(VALID_LATS)])

    @pytest.fixture(scope="class")
    @classmethod
    def outputs(cls, task: CircuitTask) -> tuple[int, ...]:
        """The outputs its proof must carry: the project logic's."""
        return reference_outputs(
            TRACKER.logic(), task.records, TRACKER.capacity, task.opened_previous, task.anchor.timestamp
        )

    @pytest.fixture(scope="class")
    @classmethod
    def rejected_task(cls) -> CircuitTask:
        """A task that breaks the project's rules (a fix out of range), which the backend must refuse."""
        return tracker_task(0xBAD, [m for m, _ in tracker_messages(OUT_OF_RANGE_LATS)])

    @pytest.fixture(scope="class")
    @classmethod
    def proof(cls, backend: ProverBackend, task: CircuitTask) -> Proof:
        return backend.prove(task)

    def test_is_a_prover_backend_named_as_its_proofs(self, backend: ProverBackend, proof: Proof) -> None:
        assert isinstance(backend, ProverBackend)
        assert backend.name and proof.backend == backend.name
        assert isinstance(proof.calldata, bytes) and proof.calldata

    def test_public_signals_are_the_outputs_then_the_record_inputs(
        self, proof: Proof, task: CircuitTask, outputs: tuple[int, ...]
    ) -> None:
        """The layout the Router rebuilds: outputs first, then the record inputs in RECORD_INPUTS order, the next
        anchor (lastTime, lastLeaf) pinned to the task's last record."""
        n = len(outputs)
        assert len(proof.public_signals) == n + len(PUBLIC_INPUTS)
        assert proof.public_signals[:n] == outputs
        assert proof.public_signals[n:] == record_public_inputs(task, FIELDS)
        named = dict(zip(PUBLIC_INPUTS, proof.public_signals[n:], strict=True))
        assert (named["taskId"], named["prover"], named["prevLeaf"]) == (task.task_id, task.prover, task.prev_leaf)
        assert named["lastLeaf"] == task.last_anchor(FIELDS).leaf != 0

    def test_its_own_proof_verifies(self, backend: ProverBackend, proof: Proof) -> None:
        assert backend.verify(proof) is True

    @pytest.mark.parametrize("which", ["an output", "taskId", "root", "lastLeaf"])
    def test_a_proof_with_a_changed_public_signal_does_not_verify(
        self, backend: ProverBackend, proof: Proof, outputs: tuple[int, ...], which: str
    ) -> None:
        """Signals every backend binds (an attestation does not sign ``prover``: the Router checks the sender)."""
        index = 0 if which == "an output" else len(outputs) + PUBLIC_INPUTS.index(which)
        signals = list(proof.public_signals)
        signals[index] += 1
        assert backend.verify(dataclasses.replace(proof, public_signals=tuple(signals))) is False  # type: ignore[type-var]

    def test_a_proof_of_another_kind_does_not_verify(self, backend: ProverBackend, proof: Proof) -> None:
        """The same signals and bytes in another backend's proof type: a backend checks only its own proofs."""
        foreign = _ForeignProof(proof.public_signals, proof.calldata)
        assert backend.verify(foreign) is False

    def test_a_task_without_messages_is_refused(self, backend: ProverBackend, task: CircuitTask) -> None:
        with pytest.raises(ProverError) as refused:
            backend.prove(dataclasses.replace(task, records=()))
        assert refused.value.code == "invalid_task"

    def test_a_task_breaking_the_projects_rules_is_refused(
        self, backend: ProverBackend, rejected_task: CircuitTask
    ) -> None:
        with pytest.raises(ProverError) as refused:
            backend.prove(rejected_task)
        assert refused.value.code == "invalid_task"


@dataclasses.dataclass(frozen=True)
class _ForeignProof:
    public_signals: tuple[int, ...]
    calldata: bytes
    backend: str = "foreign"
