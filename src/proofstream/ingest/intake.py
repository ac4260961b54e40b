"""The one admission path every transport shares: check a raw message, then store it durably.

A transport (HTTP today) hands :meth:`Intake.accept` the raw bytes and answers the device with what it returns;
whatever it raises is a ProofstreamError whose code the transport maps (``ingest.errors``). Nothing is stored
for a refused message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from proofstream import logs as log
from proofstream.domain.types import ConfigVersion, MessageId, ProjectId
from proofstream.errors import MessageError
from proofstream.ingest.ports import VersionLiveness
from proofstream.ingest.validation import ClockWindow, admit, check_clock
from proofstream.store.ports import RECEIVED, MessageStatus, Store

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
    ) -> None:
        self._store = store
        self._clock = clock
        self._liveness = liveness
        self._clock_window = clock_window

    def accept(self, raw: bytes) -> Admitted:
        admitted = admit(raw, self._store)
        message = admitted.message
        now = self._clock()
        # A resend of a stored message gets its status below, whatever the version's liveness or the clock say.
        checks = self._liveness is not None or self._clock_window is not None
        if checks and self._store.get_message(admitted.id) is None:
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
        # The store refuses, atomically with the insert, a nonce or timestamp out of order (stale_timestamp).
        put = self._store.put_message(message, admitted.id, now)
        if put.created:
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
