"""The attester: one of the k-of-n provers of an ``attest`` project, each its own process with its own key.

For every task whose commitment is on chain and that it has not attested yet, an attester trusts neither the
store nor the node that filled it; it checks, in this order:

1. the version: the task's (project, config version) has an AttestVerifier whose attester set holds this
   attester and whose config version is the task's, and the version's on-chain config hash is the hash of the
   project folder it runs (so it never signs for logic it is not running);
2. the commitment: the store's task is the chain's (project, config, device, nonce range, root);
3. every message: read under the attester's own schema (its proofstream.toml, the very file the version's
   content hash covers), of that project, config and device, signed by the device under the message domain
   the attester takes from the chain (the RPC's chain id, the deployment's DeviceRegistry as verifying
   contract), nonces and timestamps strictly increasing, from the first to the last nonce committed, at most
   ``capacity`` of them; and the Poseidon Merkle root of their leaves is the committed root. The store's
   project row (its schema and domain) is never consulted: whoever can write the store must not be able to
   make an attester accept a message signed under another domain or read under another schema. A P-256 or
   BabyJubJub device's signature is verified under the key the store holds for it, which must hash to the
   device id the chain committed (domain/device_signatures.py), so the store cannot put in a key of its own;
4. the anchor (protocol v2, domain/anchor.py): it waits until the device's previous task is no longer
   Assigned on chain, reads the device's anchor from the chain, and when the task opens it, finds the anchor's
   message among the store's messages by its leaf (so the store cannot hand it another one); the task's first
   message must come after the anchor's timestamp;
5. the logic: ``check`` and ``outputs(records, previous)`` of the project's logic.py, run in a separate process
   (the key stays in this one; see :mod:`proofstream.prover.isolated` for what that does and does not protect).

Then it signs the Attestation (domain/attestation.py), anchor values included, and stores it. A task that fails
a check is refused for good (logged with the reason); a logic crash or timeout is retried a few times first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from proofstream import logs as log
from proofstream.attester.ports import AttesterChain, AttestVersion, ChainTask
from proofstream.domain.attestation import Attestation, attest_domain, recover_attester, sign_digest
from proofstream.domain.circuit_task import TaskRecord, record_of
from proofstream.domain.device_signatures import verify_device_signature
from proofstream.domain.eip712 import Domain
from proofstream.domain.merkle import build_tree
from proofstream.domain.messages import SIGNATURE_LENGTH, DeviceMessage, message_leaf, parse_body, to_body
from proofstream.domain.schema import Schema
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address, ConfigVersion, ProjectId, TaskId
from proofstream.domain.w3bstream import W3bConfig, check_envelope
from proofstream.errors import ConfigError, MessageError, ProofstreamError, ProverError
from proofstream.prover.attest import LogicRunner
from proofstream.prover.isolated import LogicRejectedError
from proofstream.store.anchors import find_anchor_message
from proofstream.store.ports import Store, StoredAttestation, StoredMessage, TaskRow
from proofstream.store.retry import DEFAULT_BACKOFF, Backoff, TaskWriter

__all__ = ["AttestRefusedError", "Attester", "AttesterSettings"]

logger = logging.getLogger(__name__)

WATCHED = (TaskStatus.BATCHED, TaskStatus.PROVING)
"""Task states in which an attestation can still be used (a submitted task already has its quorum)."""


class AttestRefusedError(ProofstreamError):
    """The attester will not sign this task: what it was given does not check out."""

    code = "attest_refused"


@dataclass(frozen=True)
class AttesterSettings:
    config_hash: bytes
    """Content hash of the project folder this attester runs (``ProjectSpec.content_hash()``)."""
    capacity: int
    """Messages per task at most (``2**depth``)."""
    schema: Schema
    """The message schema of the project folder this attester runs (its proofstream.toml): the schema of every
    version it signs for, since it signs only for versions whose config hash is ``config_hash``."""
    project: ProjectId | None = None
    """Only this project's tasks; None: every project whose registered config hash is ``config_hash``."""
    max_attempts: int = 3
    """Logic crashes or timeouts tolerated per task before it is given up."""
    w3bstream: W3bConfig | None = None
    """The folder's ``[w3bstream]`` section: how a W3bStream message's signed request maps to the schema (None: a
    task holding one is refused)."""

    @property
    def depth(self) -> int:
        return self.capacity.bit_length() - 1


class Attester:
    def __init__(
        self,
        store: Store,
        chain: AttesterChain,
        logic: LogicRunner,
        secret: bytes,
        settings: AttesterSettings,
        *,
        clock: Callable[[], float] = time.time,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        """``backoff``: how a failed write of an attestation is retried (``store.retry``)."""
        if settings.capacity < 1 or settings.capacity & (settings.capacity - 1):
            raise ConfigError(f"capacity {settings.capacity} must be a power of two")
        self._store = store
        self._tasks = TaskWriter(store, backoff)
        self._chain = chain
        self._logic = logic
        self._secret = secret
        self._settings = settings
        self._clock = clock
        self._domain = attest_domain(chain.chain_id, chain.router)
        self._message_domain = Domain(chain.chain_id, chain.device_registry)
        """What devices sign under, from the chain: never the store's copy."""
        self.address: Address = chain.attester
        # The key must be the account the chain knows as this attester, or every signature would be wasted.
        probe = bytes(32)
        if recover_attester(probe, sign_digest(secret, probe)) != self.address:
            raise ConfigError(f"the attester key does not belong to {self.address}")
        self._versions: dict[tuple[ProjectId, ConfigVersion], str | None] = {}
        self._finished: set[TaskId] = set()
        self._attempts: dict[TaskId, int] = {}
        self._registered = False

    # --- the loop -----------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, poll_seconds: float) -> None:
        """Attest until ``stop`` is set; a failed tick is logged and retried, never fatal."""
        log.info(logger, "attester running", attester=self.address, router=self._chain.router)
        while not stop.is_set():
            try:
                busy = self.tick() > 0
            except ProofstreamError as exc:
                log.error(logger, "attester tick failed, retrying", error=exc)
                busy = False
            if not busy:
                stop.wait(poll_seconds)

    def tick(self) -> int:
        """Register if needed, then attest every waiting task; returns how many were attested."""
        if not self._registered:
            self._chain.ensure_registered()
            self._registered = True
        attested = 0
        for task in self._store.tasks_with_status(*WATCHED):
            if task.assign_tx is None or task.id in self._finished:
                continue
            if self._settings.project is not None and task.project != self._settings.project:
                continue
            attested += self._consider(task)
        return attested

    def _consider(self, task: TaskRow) -> int:
        if any(a.attester == self.address for a in self._store.attestations(task.id)):
            self._finished.add(task.id)  # attested before a restart
            return 0
        on_chain = self._chain.task(task.id)
        if on_chain is None:
            return 0  # the assignment is not visible yet (or was reorged out): look again next tick
        if not on_chain.assigned:
            self._finished.add(task.id)  # settled or failed: too late to help
            return 0
        if self._chain.predecessor_pending(task.id):
            return 0  # the device's anchor is not known until its previous task is final: look again later
        refusal = self._version_refusal(on_chain.project, on_chain.config)
        if refusal is not None:
            self._finished.add(task.id)
            log.debug(logger, "not attesting", task=task.id, reason=refusal)
            return 0
        try:
            self.attest(task, on_chain)
        except (AttestRefusedError, LogicRejectedError) as exc:
            self._finished.add(task.id)
            log.error(logger, "attestation refused", task=task.id, reason=exc)
            return 0
        except ProverError as exc:
            attempts = self._attempts.get(task.id, 0) + 1
            self._attempts[task.id] = attempts
            if attempts >= self._settings.max_attempts:
                self._finished.add(task.id)
            log.error(logger, "logic failed", task=task.id, attempt=attempts, reason=exc)
            return 0
        self._finished.add(task.id)
        return 1

    # --- the checks ---------------------------------------------------------------------------------------------

    def _version_refusal(self, project: ProjectId, config: ConfigVersion) -> str | None:
        """Why this attester must not sign for (project, config), or None. Cached: a version's verifier and
        config hash never change on chain."""
        key = (project, config)
        if key not in self._versions:
            version = self._chain.version(project, config)
            self._versions[key] = _version_refusal(version, config, self._settings.config_hash)
            if self._versions[key] is not None:
                log.warning(logger, "not attesting", project=project, config=config, reason=self._versions[key])
        return self._versions[key]

    def attest(self, task: TaskRow, on_chain: ChainTask) -> StoredAttestation:
        """Check ``task`` against its on-chain commitment, run the logic, sign and store; AttestRefusedError
        (or LogicRejectedError) with the reason when it does not check out."""
        _check_commitment(task, on_chain)
        messages = self._check_messages(on_chain, self._store.task_messages(task.id))
        records = tuple(record_of(m) for m in messages)
        anchor = self._chain.anchor(on_chain.project, on_chain.device)
        if messages[0].timestamp <= anchor.timestamp:
            raise AttestRefusedError(
                f"the task's first message (t={messages[0].timestamp}) is not after the device's anchor "
                f"(t={anchor.timestamp}): its time was already paid"
            )
        prev_leaf = anchor.prev_leaf(on_chain.config)
        previous = self._anchor_message(task, on_chain, prev_leaf) if prev_leaf else None
        outputs = self._logic.run(records, previous)
        last = messages[-1]
        anchors = (anchor.timestamp, prev_leaf, last.timestamp, message_leaf(on_chain.project, last))
        attestation = Attestation.of_outputs(
            on_chain.project, on_chain.config, task.id, on_chain.root, outputs, anchors
        )
        stored = StoredAttestation(
            task_id=task.id,
            attester=self.address,
            result=attestation.result,
            outputs=outputs,
            signature=sign_digest(self._secret, attestation.digest(self._domain)),
            created_at=self._clock(),
        )
        self._tasks.write(task.id, partial(self._store.put_attestation, stored))
        log.info(logger, "task attested", task=task.id, attester=self.address, outputs=list(outputs))
        return stored

    def _anchor_message(self, task: TaskRow, on_chain: ChainTask, leaf: int) -> TaskRecord:
        """The anchor's message: the last message of one of the device's earlier tasks in the store whose leaf,
        read under this attester's own schema, is the chain's anchor leaf."""

        def is_anchor(stored: StoredMessage) -> bool:
            return message_leaf(on_chain.project, self._own_reading(stored)) == leaf

        found = find_anchor_message(self._store, task.project, task.device, task.first_nonce, is_anchor)
        if found is None:
            raise AttestRefusedError("the device's anchor message is not among the stored messages")
        return record_of(self._own_reading(found))

    def _check_messages(self, on_chain: ChainTask, stored: Sequence[StoredMessage]) -> tuple[DeviceMessage, ...]:
        """The task's messages as this attester reads them (its own schema), once every check passed."""
        if not 1 <= len(stored) <= self._settings.capacity:
            raise AttestRefusedError(f"a task holds 1..{self._settings.capacity} messages, this one {len(stored)}")
        messages: list[DeviceMessage] = []
        for m in stored:
            message = self._own_reading(m)
            where = f"message {m.id} (nonce {message.nonce})"
            if (message.project, message.config, message.device) != (
                on_chain.project,
                on_chain.config,
                on_chain.device,
            ):
                raise AttestRefusedError(
                    f"{where} is not of project {on_chain.project} config {on_chain.config} device {on_chain.device}"
                )
            try:
                self._check_signed(m, message)
            except MessageError as exc:
                raise AttestRefusedError(f"{where}: {exc}") from exc
            if messages and not (message.nonce > messages[-1].nonce and message.timestamp > messages[-1].timestamp):
                raise AttestRefusedError(f"{where} does not follow nonce {messages[-1].nonce} in order")
            messages.append(message)
        if (messages[0].nonce, messages[-1].nonce) != (on_chain.first_nonce, on_chain.last_nonce):
            raise AttestRefusedError(
                f"messages run from nonce {messages[0].nonce} to {messages[-1].nonce}, the "
                f"commitment from {on_chain.first_nonce} to {on_chain.last_nonce}"
            )
        leaves = [message_leaf(on_chain.project, m) for m in messages]
        root = build_tree(leaves, self._settings.depth).root
        if root != on_chain.root:
            raise AttestRefusedError(f"the messages' Merkle root {root} is not the committed root {on_chain.root}")
        return tuple(messages)

    def _check_signed(self, stored: StoredMessage, message: DeviceMessage) -> None:
        """The device signed this message: its EIP-712 digest (secp256k1 recovered, P-256 verified under the
        device's key), its BabyJubJub ``m``, or for a W3bStream message the request its envelope holds, read again
        under this attester's own ``[w3bstream]`` section."""
        if stored.envelope is None:
            # A secp256k1 signature recovers its key; only the others need the one the device registered.
            registered = len(message.signature) != SIGNATURE_LENGTH
            key = self._store.device_key(message.project, message.device) if registered else None
            verify_device_signature(message, self._message_domain, key)
            return
        if self._settings.w3bstream is None:
            raise MessageError("a W3bStream message, and the project folder has no [w3bstream] section")
        check_envelope(stored.envelope, message, self._settings.w3bstream)

    def _own_reading(self, stored: StoredMessage) -> DeviceMessage:
        """The stored message's wire body read again under this attester's own schema, so the store's schema
        decides neither the signed struct, nor the leaf, nor what the logic sees."""
        try:
            return parse_body(to_body(stored.message), lambda _project, _config: self._settings.schema)
        except MessageError as exc:
            raise AttestRefusedError(f"message {stored.id} does not fit the project's schema: {exc}") from exc


def _check_commitment(task: TaskRow, on_chain: ChainTask) -> None:
    ours = (task.project, task.config, task.device, task.first_nonce, task.last_nonce, task.root)
    theirs = (
        on_chain.project,
        on_chain.config,
        on_chain.device,
        on_chain.first_nonce,
        on_chain.last_nonce,
        on_chain.root,
    )
    if ours != theirs:
        raise AttestRefusedError(
            "the store's task (project, config, device, first, last, root) = "
            f"{ours} is not the chain's commitment {theirs}"
        )


def _version_refusal(version: AttestVersion | None, config: ConfigVersion, config_hash: bytes) -> str | None:
    if version is None:
        return "the chain does not know this project version"
    if not version.is_attest_verifier:
        return f"its verifier {version.verifier} is not an AttestVerifier"
    if version.verifier_config != config:
        return f"its verifier {version.verifier} checks config version {version.verifier_config}, not {config}"
    if not version.in_set:
        return f"this attester is not in the attester set of verifier {version.verifier}"
    if version.config_hash != config_hash:
        return (
            f"its registered config hash 0x{version.config_hash.hex()} is not the hash 0x{config_hash.hex()} of "
            "the project folder this attester runs (different logic.py or proofstream.toml)"
        )
    return None
