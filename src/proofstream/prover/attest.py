"""The ``attest`` backend of the task's assigned prover: no proof to compute, a quorum of signatures to gather.

Attesters (:mod:`proofstream.attester`) each re-check and re-run a task and store a signed attestation. The
assigned prover runs the same logic (out of process), keeps only attestations that sign *its* result under
this deployment's domain, by signers of the verifier's set, and once ``quorum`` of them agree hands the
Router their signatures in increasing signer order (what contracts/AttestVerifier.sol checks).

Too few attestations yet: :class:`~proofstream.prover.service.ProofNotReadyError` (the worker puts the task back
and retries later). Enough attesters signed something else that a quorum for our result can never form:
ProverError ``attest_disagreement`` (the task fails, with every result in the reason).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from eth_utils.address import to_checksum_address

from proofstream import logs as log
from proofstream.domain.attestation import (
    Attestation,
    AttestationError,
    attest_domain,
    pack_signatures,
    recover_attester,
)
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.eip712 import Domain
from proofstream.domain.layout import record_public_inputs
from proofstream.domain.messages import SIGNATURE_LENGTH
from proofstream.domain.types import Address, ConfigVersion, TaskId
from proofstream.errors import ConfigError, ProverError
from proofstream.prover.ports import Proof
from proofstream.prover.service import ProofNotReadyError
from proofstream.store.ports import Store, StoredAttestation, TaskRow

__all__ = ["AttestBackend", "AttestProof", "LogicRunner"]

logger = logging.getLogger(__name__)

OUTPUT_CACHE_SIZE = 4096
"""Outputs remembered per task id, so a task waiting for attesters runs the logic once, not once per try."""


class LogicRunner(Protocol):
    """Runs a project's logic over a task's records (:class:`proofstream.prover.isolated.IsolatedLogic`)."""

    def run(self, records: Sequence[TaskRecord], previous: TaskRecord | None = None) -> tuple[int, ...]: ...


@dataclass(frozen=True, slots=True)
class AttestProof:
    """A quorum of attestations in the shape the Router takes."""

    public_signals: tuple[int, ...]
    """``[outputs..., project, taskId, root, device, prover, firstNonce, lastNonce]``, as the Router builds them."""
    calldata: bytes
    """The ``quorum`` signatures, 65 bytes each, in strictly increasing signer order."""
    signers: tuple[Address, ...]
    config: ConfigVersion
    backend: str = "attest"


class AttestBackend:
    """The ProverBackend (and DeferringBackend) of one attest config version of one project."""

    name = "attest"

    def __init__(
        self,
        store: Store,
        logic: LogicRunner,
        *,
        chain_id: int,
        router: str,
        config_version: int,
        attesters: Sequence[str],
        quorum: int,
        is_registered: Callable[[Address], bool] | None = None,
    ) -> None:
        self._attesters = frozenset(Address(to_checksum_address(a)) for a in attesters)
        if len(self._attesters) != len(attesters):
            raise ConfigError("the attester list names one address twice")
        if not 1 <= quorum <= len(self._attesters):
            raise ConfigError(f"attest quorum {quorum} must be between 1 and the number of attesters")
        self._store = store
        self._logic = logic
        self._domain: Domain = attest_domain(chain_id, router)
        self._config = ConfigVersion(config_version)
        self._quorum = quorum
        self._is_registered = is_registered
        self._outputs: OrderedDict[int, tuple[int, ...]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def quorum(self) -> int:
        return self._quorum

    @property
    def domain(self) -> Domain:
        return self._domain

    def ready(self, task: TaskRow) -> bool:
        """Cheap (one read, no signature checks, no logic run): could ``prove`` give an answer now?

        True once some result has ``quorum`` attesters of the set, or when no result can reach it any more."""
        if task.config != self._config:
            return True  # prove() says why it cannot
        signed = [a for a in self._store.attestations(task.id) if a.attester in self._attesters]
        best = max(Counter(a.result for a in signed).values(), default=0)
        remaining = len(self._attesters) - len(signed)
        return best >= self._quorum or best + remaining < self._quorum

    def prove(self, task_inputs: CircuitTask) -> AttestProof:
        task = self._store.get_task(TaskId(task_inputs.task_id))
        if task is None:
            raise ProverError(f"task {task_inputs.task_id} is not in the store", code="unknown_task")
        if task.config != self._config:
            raise ProverError(
                f"task {task.id} is of config version {task.config}; this attest backend verifies version "
                f"{self._config}",
                code="wrong_config",
            )
        if not task_inputs.records:
            raise ProverError(f"task {task.id} has no messages", code="invalid_task")
        outputs = self._outputs_of(task_inputs)
        last = task_inputs.last_anchor()
        anchors = (task_inputs.anchor.timestamp, task_inputs.prev_leaf, last.timestamp, last.leaf)
        attestation = Attestation.of_outputs(
            task_inputs.project, self._config, task_inputs.task_id, task_inputs.root, outputs, anchors
        )
        agreeing, others = self._sort(attestation, self._store.attestations(task.id))
        if len(agreeing) >= self._quorum:
            chosen = dict(sorted(agreeing.items(), key=lambda item: int(item[0], 16))[: self._quorum])
            record = record_public_inputs(task_inputs)
            return AttestProof(
                public_signals=(*outputs, *record),
                calldata=pack_signatures(chosen),
                signers=tuple(chosen),
                config=self._config,
            )
        possible = len(self._attesters) - len(others)
        if possible < self._quorum:
            raise ProverError(
                f"task {task.id}: our outputs {list(outputs)} can no longer get {self._quorum} attestations; "
                f"attesters signed other results: {others}",
                code="attest_disagreement",
            )
        raise ProofNotReadyError(
            f"task {task.id}: {len(agreeing)} of {self._quorum} attestations of outputs {list(outputs)} so far"
        )

    def verify(self, proof: Proof) -> bool:
        """What AttestVerifier checks, bar the ProverRegistry (unless ``is_registered`` was given)."""
        if not isinstance(proof, AttestProof) or proof.config != self._config:
            return False
        signatures = proof.calldata
        if len(signatures) != self._quorum * SIGNATURE_LENGTH:
            return False
        try:
            digest = Attestation.from_public_inputs(proof.public_signals, self._config).digest(self._domain)
            previous = 0
            for i in range(self._quorum):
                signer = recover_attester(digest, signatures[i * SIGNATURE_LENGTH : (i + 1) * SIGNATURE_LENGTH])
                if int(signer, 16) <= previous or not self._counts(signer):
                    return False
                previous = int(signer, 16)
        except AttestationError:
            return False
        return True

    # --- helpers ------------------------------------------------------------------------------------------------

    def _outputs_of(self, task: CircuitTask) -> tuple[int, ...]:
        with self._lock:
            cached = self._outputs.get(task.task_id)
        if cached is not None:
            return cached
        outputs = self._logic.run(task.records, task.opened_previous)
        with self._lock:
            self._outputs[task.task_id] = outputs
            while len(self._outputs) > OUTPUT_CACHE_SIZE:
                self._outputs.popitem(last=False)
        return outputs

    def _counts(self, signer: Address) -> bool:
        return signer in self._attesters and (self._is_registered is None or self._is_registered(signer))

    def _sort(
        self, ours: Attestation, stored: Sequence[StoredAttestation]
    ) -> tuple[dict[Address, bytes], dict[Address, list[int]]]:
        """Split the stored attestations into valid signatures of our result, by signer, and the outputs of
        attesters of the set who signed another result."""
        digest = ours.digest(self._domain)
        agreeing: dict[Address, bytes] = {}
        others: dict[Address, list[int]] = {}
        for a in stored:
            if not self._counts(a.attester):
                continue
            if a.result != ours.result:
                others[a.attester] = list(a.outputs)
                continue
            try:
                signer = recover_attester(digest, a.signature)
            except AttestationError:
                signer = None
            if signer != a.attester:
                # A row whose signature is not its attester's (a corrupted or forged write to the store).
                log.warning(logger, "attestation signature does not match", task=a.task_id, attester=a.attester)
                continue
            agreeing[a.attester] = a.signature
        return agreeing, others
