"""The gateway's error codes and the HTTP status of each (docs/protocol.md, "Errors"): one table for every
transport, so a device sees the same code whichever way its message came."""

from __future__ import annotations

from fastapi.responses import JSONResponse

STATUS_OF_CODE: dict[str, int] = {
    "invalid_json": 400,
    "invalid_request": 400,
    "body_too_large": 413,
    "schema_mismatch": 422,
    "invalid_field": 422,
    "unsupported_version": 422,
    "bad_signature": 401,
    "unknown_device": 403,
    "device_not_in_project": 403,
    "registration_disabled": 403,
    "unknown_project": 404,
    "unknown_config": 404,
    "unknown_message": 404,
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
