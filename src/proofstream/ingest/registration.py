"""Device registration through the gateway: the device's signed binding is checked here and handed to a
:class:`~proofstream.ingest.ports.Registrar` (the chain), once per device while it is pending."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
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
        self._pending: dict[tuple[int, str], tuple[str, str]] = {}
        """(project, device) -> (owner, tx hash)."""

    def pending(self, project: int, device: str) -> str | None:
        entry = self._pending.get((project, device))
        return None if entry is None else entry[1]

    def request(self, project: ProjectId, raw: bytes) -> tuple[int, dict[str, Any]]:
        configs = self._store.project_configs(project)
        if not configs:
            raise MessageError(f"project {project} is unknown to this gateway", code="unknown_project")
        request = admit_registration(raw, configs[-1], self._clock())
        if project in self._store.device_projects(request.device):
            # Its owner is whatever the chain recorded (maybe not this request's): say nothing about it.
            self._pending.pop((project, request.device), None)
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
        # One registration at a time: two concurrent requests for one device must not send two transactions.
        with self._lock:
            earlier = self._pending.get((project, request.device))
            if earlier is not None and not registrar.still_pending(earlier[1]):
                log.warning(logger, "registration dropped by the chain", project=project, device=request.device)
                earlier = None  # a reorganisation took it away: send it again
            if earlier is not None:
                owner, tx_hash = earlier
                if owner != request.owner:
                    raise MessageError(
                        f"device {request.device} already has a registration to {owner} pending in tx {tx_hash}",
                        code="already_registered",
                    )
                return 202, {**out, "status": "submitted", "tx_hash": tx_hash}
            try:
                tx_hash = registrar.register_device(request)
            except ProofstreamError as exc:
                log.warning(logger, "registration failed", project=project, device=request.device, error=exc)
                code = exc.code if exc.code in REGISTRAR_CODES else "registration_failed"
                raise ProofstreamError(f"the registration could not be submitted: {exc}", code=code) from exc
            self._pending[(project, request.device)] = (request.owner, tx_hash)
        log.info(
            logger, "registration submitted", project=project, device=request.device, owner=request.owner, tx=tx_hash
        )
        return 202, {**out, "status": "submitted", "tx_hash": tx_hash}
