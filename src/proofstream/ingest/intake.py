"""The one admission path every transport shares: check a raw message, then store it durably.

A transport hands :meth:`Intake.accept` the raw bytes of one message, or :meth:`Intake.accept_many` those of a
batch (or checks with :meth:`Intake.check` / :meth:`Intake.check_w3b` and stores a group with :meth:`Intake.store`),
and answers the device with what it returns; a refusal is a ProofstreamError whose code the transport maps
(``ingest.errors``). Every check reads the same :class:`~proofstream.ingest.directory.CachedDirectory`, whatever
the transport or format. Nothing is stored for a refused message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from proofstream import logs as log
from proofstream.domain.messages import DeviceMessage
from proofstream.domain.types import ConfigVersion, MessageId, ProjectId
from proofstream.errors import MessageError, ProofstreamError, StoreError
from proofstream.ingest import validation
from proofstream.ingest.directory import CachedDirectory
from proofstream.ingest.ports import VersionLiveness
from proofstream.ingest.recovery import MIN_POOLED, RecoveryPool
from proofstream.ingest.validation import ClockWindow, admit, check_clock
from proofstream.ingest.w3bstream import W3bProjects, admit_w3b
from proofstream.store.ports import RECEIVED, MessageStatus, NewMessage, Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Admitted:
    id: MessageId
    created: bool
    """False for a resend of a stored message: not an error, and ``status`` is where that message stands."""
    status: MessageStatus


class Intake:
    """Admission over ``store``: signature, device and schema (``validation.admit``), the version's liveness,
    the clock window, then the store's own ordering rules, atomic with the insert."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        liveness: VersionLiveness | None = None,
        clock_window: ClockWindow | None = None,
        recovery: RecoveryPool | None = None,
    ) -> None:
        """``recovery``: where a batch of at least ``recovery.MIN_POOLED`` messages has its signers recovered
        (None: in the calling thread)."""
        self._store = store
        self._recovery = recovery
        self._directory = CachedDirectory(store)
        self._clock = clock
        self._liveness = liveness
        self._clock_window = clock_window

    def now(self) -> float:
        """The gateway's clock (what stamps ``received_at``)."""
        return self._clock()

    def accept(self, raw: bytes) -> Admitted:
        """Admit one message: raise the ProofstreamError of its refusal, or return it once durably stored."""
        admitted = admit(raw, self._directory)
        now = self._clock()
        self._check_new(admitted, now)
        # The store refuses, atomically with the insert, a nonce or timestamp out of order (stale_timestamp).
        put = self._store.put_message(admitted.message, admitted.id, now)
        return self._answer(admitted, put.created)

    def accept_many(self, raws: Sequence[bytes], project: ProjectId | None = None) -> list[Admitted | ProofstreamError]:
        """Admit many messages in order, with one durable commit.

        Each item passes exactly the checks :meth:`accept` makes and is stored by the store's own rules
        (``Store.put_messages``); a refused item's place holds its error and the others go on. With ``project``
        (the HTTP batch's path), an item of another project is refused with ``project_mismatch``. A store failure
        of the commit itself raises, and then nothing of the request is stored."""
        now = self._clock()
        if self._recovery is not None and len(raws) >= MIN_POOLED:
            return self.store(self._check_pooled(raws, now, project, self._recovery), now)
        checked: list[validation.Admitted | ProofstreamError] = []
        for raw in raws:
            try:
                checked.append(self.check(raw, now, project))
            except MessageError as exc:
                checked.append(exc)
        return self.store(checked, now)

    def _check_pooled(
        self, raws: Sequence[bytes], now: float, project: ProjectId | None, recovery: RecoveryPool
    ) -> list[validation.Admitted | ProofstreamError]:
        """:meth:`check` of every item, the secp256k1 signers recovered in ``recovery``'s workers at once."""
        first: list[validation.Unrecovered | validation.Admitted | MessageError] = []
        for raw in raws:
            try:
                first.append(validation.parse_for_recovery(raw, self._directory))
            except MessageError as exc:
                first.append(exc)
        waiting = [item for item in first if isinstance(item, validation.Unrecovered)]
        signers = iter(recovery.recover([(item.digest, item.message.signature) for item in waiting]))
        checked: list[validation.Admitted | ProofstreamError] = []
        for item in first:
            try:
                if isinstance(item, MessageError):
                    raise item
                if isinstance(item, validation.Unrecovered):
                    signer = next(signers)
                    if isinstance(signer, MessageError):
                        raise signer
                    item = validation.admit_recovered(item, signer, self._directory)
                checked.append(self._checked(item, now, project))
            except MessageError as exc:
                checked.append(exc)
        return checked

    def check(self, raw: bytes, now: float, project: ProjectId | None = None) -> validation.Admitted:
        """Every check of :meth:`accept` short of the store's own ordering rules: raise the MessageError of its
        refusal. With ``project``, a message of another project is refused (``project_mismatch``)."""
        return self._checked(admit(raw, self._directory), now, project)

    def _checked(self, admitted: validation.Admitted, now: float, project: ProjectId | None) -> validation.Admitted:
        """:meth:`check` once ``admitted`` passed admission: the batch's project, liveness and the clock window."""
        if project is not None and admitted.message.project != project:
            raise MessageError(
                f"message of project {admitted.message.project} sent to project {project}: post it to "
                f"/v1/projects/{admitted.message.project}/messages",
                code="project_mismatch",
            )
        self._check_new(admitted, now)
        return admitted

    def store(
        self, checked: Sequence[validation.Admitted | ProofstreamError], now: float
    ) -> list[Admitted | ProofstreamError]:
        """Store what :meth:`check` passed in one durable commit (a refusal in ``checked`` keeps its place): one
        outcome per item, in order; raises StoreError if the commit fails, and then nothing of it is stored."""
        passed = [item for item in checked if isinstance(item, validation.Admitted)]
        stored = iter(self._store.put_messages([NewMessage(a.message, a.id, a.envelope) for a in passed], now))
        results: list[Admitted | ProofstreamError] = []
        for item in checked:
            if not isinstance(item, validation.Admitted):
                results.append(item)
                continue
            outcome = next(stored)
            results.append(outcome if isinstance(outcome, StoreError) else self._answer(item, outcome.created))
        return results

    def check_w3b(self, raw: bytes, now: float, projects: W3bProjects) -> validation.Admitted:
        """:meth:`check` for a W3bStream v0.25 body (``ingest.w3bstream.admit_w3b``), its envelope kept for
        :meth:`store`: the same directory, liveness and clock window as every other message."""
        admitted = admit_w3b(raw, self._directory, projects, now)
        self._check_new(admitted, now)
        return admitted

    def _check_new(self, admitted: validation.Admitted, now: float) -> None:
        """The version's liveness and the clock window, for a message not stored yet: a resend of a stored
        message gets its status, whatever the version's liveness or the clock say by now (so the store is asked
        only about a message these checks refuse)."""
        try:
            self._check_live_and_clock(admitted.message, now)
        except MessageError:
            if self._store.get_message(admitted.id) is None:
                raise

    def _check_live_and_clock(self, message: DeviceMessage, now: float) -> None:
        project, version = ProjectId(message.project), ConfigVersion(message.config)
        if self._liveness is not None and not self._liveness.is_live(project, version):
            # A new message under a retired version would be stored and never settled: say so instead.
            raise MessageError(
                f"config version {message.config} of project {message.project} is retired: sign under the "
                f"current version (GET /v1/projects/{message.project})",
                code="retired_config",
            )
        if self._clock_window is not None:
            check_clock(message.timestamp, now, self._clock_window)

    def _answer(self, admitted: validation.Admitted, created: bool) -> Admitted:
        message = admitted.message
        if created:
            log.info(
                logger,
                "message stored",
                message=admitted.id,
                project=message.project,
                device=message.device,
                nonce=message.nonce,
            )
            return Admitted(admitted.id, True, RECEIVED)
        stored = self._store.get_message(admitted.id)
        status: MessageStatus = RECEIVED if stored is None else stored.status
        log.info(logger, "message resent", message=admitted.id, status=status)
        return Admitted(admitted.id, False, status)
