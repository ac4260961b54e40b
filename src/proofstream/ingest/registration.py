"""Device registration through the gateway: the device's signed binding is checked here and handed to a
:class:`~proofstream.ingest.ports.Registrar` (the chain), once per device while it is pending."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from proofstream import logs as log
from proofstream.domain.types import ProjectId
from proofstream.errors import MessageError, ProofstreamError
from proofstream.ingest.ports import Registrar
from proofstream.ingest.validation import admit_registration
from proofstream.store.ports import Store

logger = logging.getLogger(__name__)

REGISTRAR_CODES = frozenset(
    {
        "chain_unavailable",
        "already_registered",
        "bad_signature",
        "bad_voucher",
        "invalid_field",
        "unauthorized_issuer",
        "voucher_expired",
        "binding_expired",
        "voucher_used",
        "binding_used",
        "key_type_unsupported",
    }
)
"""Registrar error codes passed to the device as they are (the chain's refusals of a voucher registration)."""


class Registrations:
    """Registrations this gateway has submitted and not yet seen indexed, so a device that asks again (a retry,
    a reboot) gets the same transaction instead of a second one that would revert."""

    def __init__(
        self,
        store: Store,
        registrar: Registrar | None,
        *,
        owner_registration: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._registrar = registrar
        self._owner_registration = owner_registration
        """False: the registrar sends only voucher registrations (anyone may; the owner's key need not be here)."""
        self._clock = clock
        self._lock = threading.Lock()
        self._registrations: dict[tuple[int, str], tuple[str, Future[str]]] = {}
        """(project, device) -> (owner, its tx hash): a future still running while the registration is being
        submitted, done once it was sent and not yet indexed. A failed submission leaves the map before its future
        fails, so an entry's future never holds an error."""

    def pending(self, project: int, device: str) -> str | None:
        entry = self._registrations.get((project, device))
        return None if entry is None or not entry[1].done() else entry[1].result()

    def request(self, project: ProjectId, raw: bytes) -> tuple[int, dict[str, Any]]:
        configs = self._store.project_configs(project)
        if not configs:
            raise MessageError(f"project {project} is unknown to this gateway", code="unknown_project")
        request = admit_registration(raw, configs[-1], self._clock())
        if project in self._store.device_projects(request.device):
            # Its owner is whatever the chain recorded (maybe not this request's): say nothing about it.
            self._registrations.pop((project, request.device), None)
            return 200, {"project": project, "device": request.device, "status": "registered"}
        out: dict[str, Any] = {"project": project, "device": request.device, "owner": request.owner}
        registrar = self._registrar
        if registrar is None:
            raise MessageError(
                "this gateway does not submit registrations: ask the project owner to call "
                "DeviceRegistry.registerDevice(project, device, owner, signature) with this signature",
                code="registration_disabled",
            )
        if request.voucher is None and not self._owner_registration:
            raise MessageError(
                "this gateway registers devices only with a voucher signed by the project owner or a manufacturer "
                "it registered (docs/protocol.md, 'Vouchers')",
                code="voucher_required",
            )
        key = (int(project), request.device)
        stale = self._registrations.get(key)
        if stale is not None and stale[1].done() and not registrar.still_pending(stale[1].result()):
            # Asked of the chain outside the lock. A reorganisation took it away: send it again.
            log.warning(logger, "registration dropped by the chain", project=project, device=request.device)
            with self._lock:
                if self._registrations.get(key) is stale:
                    del self._registrations[key]
        with self._lock:
            earlier = self._registrations.get(key)
            mine: Future[str] | None = None
            if earlier is None:
                mine = Future()
                self._registrations[key] = (request.owner, mine)
        if mine is None:
            assert earlier is not None
            owner, submitted = earlier
            if owner != request.owner:
                where = f"in tx {submitted.result()}" if submitted.done() else "(being submitted)"
                raise MessageError(
                    f"device {request.device} already has a registration to {owner} pending {where}",
                    code="already_registered",
                )
            # The same registration: its tx, once the submission under way is done (or its error).
            return 202, {**out, "status": "submitted", "tx_hash": submitted.result()}
        try:
            tx_hash = registrar.register_device(request)
        except ProofstreamError as exc:
            log.warning(logger, "registration failed", project=project, device=request.device, error=exc)
            code = exc.code if exc.code in REGISTRAR_CODES else "registration_failed"
            failure = ProofstreamError(f"the registration could not be submitted: {exc}", code=code)
            self._forget(key, mine)
            mine.set_exception(failure)
            raise failure from exc
        except BaseException as exc:
            self._forget(key, mine)
            mine.set_exception(exc)
            raise
        mine.set_result(tx_hash)
        log.info(
            logger, "registration submitted", project=project, device=request.device, owner=request.owner, tx=tx_hash
        )
        return 202, {**out, "status": "submitted", "tx_hash": tx_hash}

    def _forget(self, key: tuple[int, str], submission: Future[str]) -> None:
        with self._lock:
            if self._registrations.get(key, (None, None))[1] is submission:
                del self._registrations[key]
