"""The HTTP gateway: devices POST signed messages, and ask for their status and their next nonce.

A message is acknowledged (202) only after the store has committed it durably; the store's group commit
batches the concurrent requests that the thread pool hands it. Every refusal is
``{"error": {"code", "message"}}`` with a 4xx status, and nothing is stored for it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from proofstream.domain.types import Address, MessageId, ProjectId
from proofstream.errors import ConflictError, MessageError, ProofstreamError, StoreError
from proofstream.ingest.validation import admit
from proofstream.store.ports import RECEIVED, Store, StoredMessage

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 16 * 1024
"""A tracker message is about 300 bytes; 16 KiB leaves room for wide schemas and bounds what a client can
make the gateway buffer."""

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
    "unknown_project": 404,
    "unknown_config": 404,
    "unknown_message": 404,
    "not_found": 404,
    "method_not_allowed": 405,
    "nonce_conflict": 409,
    "stale_nonce": 409,
    "store_error": 503,
}
"""HTTP status of each error code; a code not listed is a 400 (MessageError) or 500 (anything else)."""

_MESSAGE_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class Accepted(BaseModel):
    id: str
    status: str


class MessageStatusOut(BaseModel):
    id: str
    status: str
    reason: str | None = None
    task_id: str | None = None
    """Decimal string: task ids are field elements, too big for JSON numbers in most clients."""
    leaf_index: int | None = None
    root: str | None = None
    """Decimal string of the task's Poseidon Merkle root."""
    tx_hash: str | None = None


class NextNonce(BaseModel):
    next_nonce: int


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_response(code: str, message: str, status: int | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status if status is not None else STATUS_OF_CODE.get(code, 400),
    )


def _status_out(stored: StoredMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"id": stored.id, "status": str(stored.status)}
    if stored.reason is not None:
        out["reason"] = stored.reason
    if stored.task_id is not None:
        out["task_id"] = str(stored.task_id)
        out["leaf_index"] = stored.leaf_index
        out["root"] = None if stored.root is None else str(stored.root)
    if stored.tx_hash is not None:
        out["tx_hash"] = stored.tx_hash
    return out


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than ``limit`` bytes whatever Content-Length says (it may lie or be absent)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError as exc:
            raise MessageError("Content-Length is not a number", code="invalid_request") from exc
        if size > limit:
            raise MessageError(f"body of {size} bytes exceeds {limit}", code="body_too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise MessageError(f"body exceeds {limit} bytes", code="body_too_large")
    return bytes(body)


def create_app(
    store: Store, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, clock: Callable[[], float] = time.time
) -> FastAPI:
    """The gateway's ASGI app over ``store``; ``clock`` stamps ``received_at`` (injected for tests)."""
    app = FastAPI(
        title="proofstream gateway",
        version="1",
        description="Signed device messages in (docs/protocol.md), their status out.",
    )
    errors: dict[int | str, dict[str, Any]] = {400: {"model": ErrorBody}}

    @app.exception_handler(ProofstreamError)
    async def _proofstream_error(_: Request, exc: ProofstreamError) -> JSONResponse:
        if isinstance(exc, StoreError) and not isinstance(exc, ConflictError):
            logger.error("store failed code=%s error=%s", exc.code, exc)
            return error_response("store_error", "the store is unavailable", 503)
        status = STATUS_OF_CODE.get(exc.code, 400 if isinstance(exc, MessageError) else 500)
        return error_response(exc.code, exc.message, status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response("invalid_request", str(exc.errors()), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(code, str(exc.detail), exc.status_code)

    def ingest(raw: bytes) -> tuple[int, dict[str, Any]]:
        admitted = admit(raw, store)
        message = admitted.message
        put = store.put_message(message, admitted.id, clock())
        if put.created:
            logger.info(
                "message stored id=%s project=%d device=%s nonce=%d",
                admitted.id,
                message.project,
                message.device,
                message.nonce,
            )
            return 202, {"id": admitted.id, "status": RECEIVED}
        stored = store.get_message(admitted.id)
        status = RECEIVED if stored is None else str(stored.status)
        logger.info("message resent id=%s status=%s", admitted.id, status)
        return 200, {"id": admitted.id, "status": status}

    @app.post(
        "/messages",
        status_code=202,
        response_model=Accepted,
        responses={
            200: {"model": Accepted, "description": "The same message was already stored."},
            **{status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 413, 422)},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
                "description": "A signed device message (docs/protocol.md, wire format version 1).",
            }
        },
    )
    async def post_message(request: Request) -> JSONResponse:
        raw = await _read_body(request, max_body_bytes)
        status, body = await run_in_threadpool(ingest, raw)
        return JSONResponse(body, status_code=status)

    @app.get("/messages/{message_id}", response_model=MessageStatusOut, responses={404: {"model": ErrorBody}})
    async def get_message(message_id: str) -> JSONResponse:
        if not _MESSAGE_ID.fullmatch(message_id):
            return error_response("unknown_message", "a message id is 0x and 64 hex digits", 404)
        stored = await run_in_threadpool(store.get_message, MessageId(message_id.lower()))
        if stored is None:
            return error_response("unknown_message", f"no message {message_id}", 404)
        return JSONResponse(_status_out(stored))

    @app.get(
        "/devices/{address}",
        response_model=NextNonce,
        responses={**errors, 404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    )
    async def get_device(address: str, project: int = Query(ge=0, lt=2**64)) -> JSONResponse:
        if not _ADDRESS.fullmatch(address):
            return error_response("invalid_field", "address must be 0x and 40 hex digits", 422)
        configs = await run_in_threadpool(store.project_configs, ProjectId(project))
        if not configs:
            return error_response("unknown_project", f"project {project} is unknown", 404)
        nonce = await run_in_threadpool(store.next_nonce, ProjectId(project), Address(address))
        return JSONResponse({"next_nonce": nonce})

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        await run_in_threadpool(store.project_configs)
        return JSONResponse({"status": "ok"})

    return app
