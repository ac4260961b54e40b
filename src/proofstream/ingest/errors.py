"""The gateway's error codes and the HTTP status of each (docs/protocol.md, "Errors"): one table for every
transport, so a device sees the same code whichever way its message came."""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from proofstream import logs as log
from proofstream.errors import ConflictError, MessageError, ProofstreamError, StoreError

logger = logging.getLogger(__name__)

STATUS_OF_CODE: dict[str, int] = {
    "invalid_json": 400,
    "invalid_request": 400,
    "invalid_did": 400,
    "body_too_large": 413,
    "batch_too_large": 413,
    "schema_mismatch": 422,
    "invalid_field": 422,
    "unsupported_version": 422,
    "project_mismatch": 422,
    "bad_signature": 401,
    "bad_voucher": 401,
    "voucher_required": 403,
    "unauthorized_issuer": 403,
    "unknown_device": 403,
    "device_not_in_project": 403,
    "registration_disabled": 403,
    "w3bstream_refused": 403,
    "w3bstream_disabled": 403,
    "key_type_unsupported": 422,
    "unknown_project": 404,
    "unknown_config": 404,
    "unknown_message": 404,
    "unknown_did": 404,
    "not_found": 404,
    "method_not_allowed": 405,
    "not_batched": 409,
    "nonce_conflict": 409,
    "stale_nonce": 409,
    "stale_timestamp": 409,
    "stale_config": 409,
    "timestamp_in_future": 422,
    "timestamp_too_old": 422,
    "already_registered": 409,
    "voucher_used": 409,
    "binding_used": 409,
    "voucher_expired": 422,
    "binding_expired": 422,
    "retired_config": 410,
    "receipt_unavailable": 500,
    "registration_failed": 502,
    "store_error": 503,
    "chain_unavailable": 503,
}
"""HTTP status of each error code; a code not listed is a 400 (MessageError) or 500 (anything else)."""


def error_response(code: str, message: str, status: int | None = None) -> JSONResponse:
    """``{"error": {"code", "message"}}`` with the code's status (or ``status``)."""
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status if status is not None else STATUS_OF_CODE.get(code, 400),
    )


def describe(exc: ProofstreamError) -> tuple[int, str, str]:
    """The HTTP status, code and message a device is told for ``exc``, whether it refused a whole request or one
    item of a batch. A store failure other than an ordering conflict is logged here and told only as
    ``store_error`` (503): its details are the operator's, not the device's."""
    if isinstance(exc, StoreError) and not isinstance(exc, ConflictError):
        log.error(logger, "store failed", code=exc.code, error=exc)
        return 503, "store_error", "the store is unavailable"
    return STATUS_OF_CODE.get(exc.code, 400 if isinstance(exc, MessageError) else 500), exc.code, exc.message
