"""The HTTP gateway: devices POST signed messages, ask for their status and their next nonce, read a project's
signing domain and ask to be registered (the gateway checks the binding signature and hands it to a registrar).

A message is acknowledged (202) only after the store has committed it durably; the store's group commit
batches the concurrent requests that the thread pool hands it. Every refusal is
``{"error": {"code", "message"}}`` with a 4xx status, and nothing is stored for it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from eth_utils.address import to_checksum_address
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from proofstream.domain.types import Address, ConfigVersion, MessageId, ProjectId
from proofstream.errors import MessageError, ProofstreamError
from proofstream.ingest.admission import DEFAULT_MAX_PENDING, AdmissionQueue, OverloadedError
from proofstream.ingest.batch import (
    BATCH_SHAPE,
    DEFAULT_MAX_BATCH_BODY_BYTES,
    DEFAULT_MAX_BATCH_MESSAGES,
    item_result,
    split_batch,
)
from proofstream.ingest.dids import did_router
from proofstream.ingest.errors import describe, error_response
from proofstream.ingest.intake import Intake
from proofstream.ingest.models import (
    Accepted,
    BatchOut,
    DeviceOut,
    ErrorBody,
    MessageStatusOut,
    NextNonce,
    ProjectOut,
    RegistrationOut,
    json_body,
    with_gateway_errors,
)
from proofstream.ingest.ports import ContentSource, DeviceStates, Registrar, VersionLiveness
from proofstream.ingest.receipts import receipt_response
from proofstream.ingest.recovery import RecoveryPool
from proofstream.ingest.registration import Registrations
from proofstream.ingest.validation import ClockWindow
from proofstream.ingest.w3bstream import W3bProjects
from proofstream.ingest.w3bstream_http import w3bstream_router
from proofstream.store.ports import ProjectConfig, Store, StoredMessage

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 16 * 1024
"""A tracker message is about 300 bytes; 16 KiB leaves room for wide schemas and bounds what a client can
make the gateway buffer."""

REGISTRATION_THREADS = 8
"""Registrations submitted at once. They wait for a chain receipt in threads of their own, so a burst of them never
holds the threads that store messages."""

MAX_PENDING_REGISTRATIONS = 64
"""Registrations a gateway takes at once (waiting for a thread or for their receipt); more are ``overloaded``."""

_MESSAGE_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


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


class SingleMessagePath:
    """``POST /messages`` answered ahead of FastAPI's routing (an ASGI middleware): the endpoint every device's
    message takes one at a time, where FastAPI's request, routing and dependency machinery cost about as much as
    admitting the message. Same body limit, admission, answers and error bodies as the route FastAPI documents
    (which still serves the OpenAPI spec); every other request goes on to FastAPI untouched."""

    def __init__(self, app: ASGIApp, *, admission: AdmissionQueue, max_body_bytes: int) -> None:
        self._app = app
        self._admission = admission
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/messages" or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        try:
            admitted = await self._admission.admit_one(await _read_body(Request(scope, receive), self._max_body_bytes))
        except ProofstreamError as exc:
            response = _error_of(exc)
        else:
            body = {"id": admitted.id, "status": str(admitted.status)}
            response = JSONResponse(body, status_code=202 if admitted.created else 200)
        await response(scope, receive, send)


def _error_of(exc: ProofstreamError) -> JSONResponse:
    """The error body of a refused request, with ``Retry-After`` when the gateway is overloaded."""
    status, code, message = describe(exc)
    response = error_response(code, message, status)
    if isinstance(exc, OverloadedError):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _project_out(configs: list[ProjectConfig]) -> dict[str, Any]:
    current = configs[-1]
    return {
        "project": current.project,
        "config": current.config,
        "configs": [c.config for c in configs],
        "chain_id": current.domain.chain_id,
        "device_registry": current.domain.verifying_contract,
        "domain": current.domain.as_dict(),
        "schema": current.schema.to_json(),
    }


def create_app(
    store: Store,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_batch_body_bytes: int = DEFAULT_MAX_BATCH_BODY_BYTES,
    max_batch_messages: int = DEFAULT_MAX_BATCH_MESSAGES,
    max_pending_messages: int = DEFAULT_MAX_PENDING,
    clock: Callable[[], float] = time.time,
    registrar: Registrar | None = None,
    owner_registration: bool = True,
    content: ContentSource | None = None,
    liveness: VersionLiveness | None = None,
    clock_window: ClockWindow | None = None,
    task_manager: str | None = None,
    w3bstream: W3bProjects | None = None,
    device_states: DeviceStates | None = None,
    recovery: RecoveryPool | None = None,
) -> FastAPI:
    """The gateway's ASGI app over ``store``; ``clock`` stamps ``received_at`` (injected for tests).

    ``max_body_bytes`` bounds a single message's body (and a registration's); a batch has its own bounds,
    ``max_batch_body_bytes`` and ``max_batch_messages`` (docs/protocol.md, "Batches"). ``max_pending_messages``
    bounds the messages being admitted at once; a request that would go over is refused ``overloaded`` (503 with
    ``Retry-After``, docs/protocol.md, "Back-pressure").

    ``registrar`` submits device registrations that passed the signature check (None: the gateway refuses them
    with ``registration_disabled`` and devices are registered by the project owner directly);
    ``owner_registration`` False has it send only registrations with a voucher (``voucher_required`` for the rest:
    the registrar's key need not own the project). ``content`` serves
    each config version's files, so anyone can recompute the content hash the chain records. ``liveness`` says whether
    a version still takes new messages (None: every version the store knows does). ``clock_window`` bounds how
    far a new message's timestamp may lie from ``clock`` (None: no bound; the node always sets one, from the
    ``gateway.max_future_seconds`` / ``gateway.max_past_seconds`` settings). ``task_manager`` is the
    TaskManager address receipts name (None: receipts carry null and the verifier must be told). ``w3bstream``
    says which project versions take W3bStream messages on ``POST /v1/task``, and how (None: none).
    ``device_states`` reads devices' registrations on chain for ``GET /did/{did}`` (ingest/dids.py; None: no DIDs
    served)."""
    app = FastAPI(
        title="proofstream gateway",
        version="1",
        description="Signed device messages in (docs/protocol.md), their status out.",
    )
    errors: dict[int | str, dict[str, Any]] = {400: {"model": ErrorBody}}

    @app.exception_handler(ProofstreamError)
    async def _proofstream_error(_: Request, exc: ProofstreamError) -> JSONResponse:
        return _error_of(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response("invalid_request", str(exc.errors()), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(code, str(exc.detail), exc.status_code)

    intake = Intake(store, clock=clock, liveness=liveness, clock_window=clock_window, recovery=recovery)
    admission = AdmissionQueue(intake, max_pending=max_pending_messages)
    app.state.admission = admission
    app.add_middleware(SingleMessagePath, admission=admission, max_body_bytes=max_body_bytes)
    app.include_router(
        w3bstream_router(store, intake, w3bstream or {}, lambda request: _read_body(request, max_body_bytes), admission)
    )
    project_path = Path(ge=0, lt=2**64, description="project id (ProjectRegistry)")
    # The handlers check these shapes themselves, with the codes docs/protocol.md gives; the spec only says them.
    id_path = Path(description="message id", json_schema_extra={"pattern": f"^{_MESSAGE_ID.pattern}$"})
    address_path = Path(description="device address", json_schema_extra={"pattern": f"^{_ADDRESS.pattern}$"})

    @app.post(
        "/messages",
        status_code=202,
        response_model=Accepted,
        responses={
            200: {"model": Accepted, "description": "The same message was already stored."},
            **{status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 413, 422, 503)},
        },
        openapi_extra=json_body("A signed device message (docs/protocol.md, wire format version 1)."),
    )
    async def post_message(request: Request) -> JSONResponse:
        # SingleMessagePath answers this request before routing; the route documents it and is its reference.
        raw = await _read_body(request, max_body_bytes)
        admitted = await admission.admit_one(raw)
        body = {"id": admitted.id, "status": str(admitted.status)}
        return JSONResponse(body, status_code=202 if admitted.created else 200)

    @app.post(
        "/v1/projects/{project}/messages",
        response_model=BatchOut,
        responses={status: {"model": ErrorBody} for status in (400, 404, 413, 422, 503)},
        openapi_extra=json_body(
            f"{BATCH_SHAPE}: signed device messages of this project, each as POST /messages "
            'takes it (docs/protocol.md, "Batches").'
        ),
    )
    async def post_messages(request: Request, project: int = project_path) -> JSONResponse:
        """Many messages in one request and one durable commit: 200 with one result per message, in order."""
        raw = await _read_body(request, max_batch_body_bytes)
        if not await run_in_threadpool(store.project_configs, ProjectId(project)):
            return error_response("unknown_project", f"project {project} is unknown to this gateway", 404)
        outcomes = await admission.admit_many(split_batch(raw, max_batch_messages), ProjectId(project))
        return JSONResponse({"results": [item_result(outcome) for outcome in outcomes]})

    @app.get("/messages/{message_id}", response_model=MessageStatusOut, responses={404: {"model": ErrorBody}})
    async def get_message(message_id: str = id_path) -> JSONResponse:
        if not _MESSAGE_ID.fullmatch(message_id):
            return error_response("unknown_message", "a message id is 0x and 64 hex digits", 404)
        stored = await run_in_threadpool(store.get_message, MessageId(message_id.lower()))
        if stored is None:
            return error_response("unknown_message", f"no message {message_id}", 404)
        return JSONResponse(_status_out(stored))

    @app.get("/messages/{message_id}/receipt", responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}})
    async def get_receipt(message_id: str = id_path) -> JSONResponse:
        """The message's inclusion in its task (docs/protocol.md, "Receipts"): everything a device needs to check
        alone, against the chain, that the message is a leaf of a task the chain settled."""
        if not _MESSAGE_ID.fullmatch(message_id):
            return error_response("unknown_message", "a message id is 0x and 64 hex digits", 404)
        return await run_in_threadpool(receipt_response, store, MessageId(message_id.lower()), task_manager)

    @app.get(
        "/devices/{address}",
        response_model=NextNonce,
        responses={**errors, 404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    )
    async def get_device(address: str = address_path, project: int = Query(ge=0, lt=2**64)) -> JSONResponse:
        if not _ADDRESS.fullmatch(address):
            return error_response("invalid_field", "address must be 0x and 40 hex digits", 422)
        configs = await run_in_threadpool(store.project_configs, ProjectId(project))
        if not configs:
            return error_response("unknown_project", f"project {project} is unknown", 404)

        def look() -> dict[str, Any]:
            device = Address(address)
            return {
                "next_nonce": store.next_nonce(ProjectId(project), device),
                "last_timestamp": store.last_timestamp(ProjectId(project), device),
            }

        return JSONResponse(await run_in_threadpool(look))

    registrations = Registrations(store, registrar, owner_registration=owner_registration, clock=clock)
    registration_threads = ThreadPoolExecutor(REGISTRATION_THREADS, thread_name_prefix="registration")
    registering = 0

    @app.get("/v1/projects/{project}", response_model=ProjectOut, responses={404: {"model": ErrorBody}})
    async def get_project(project: int = project_path) -> JSONResponse:
        """What a device signs under: the EIP-712 domain, the current config version and its schema."""
        configs = await run_in_threadpool(store.project_configs, ProjectId(project))
        if not configs:
            return error_response("unknown_project", f"project {project} is unknown to this gateway", 404)
        return JSONResponse(_project_out(configs))

    @app.post(
        "/v1/projects/{project}/devices",
        status_code=202,
        response_model=RegistrationOut,
        responses={
            200: {"model": RegistrationOut, "description": "The device is already registered in the project."},
            **{status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 413, 422, 502, 503)},
        },
        openapi_extra=json_body('{"device", "owner", "signature"}: the device key\'s EIP-712 DeviceBinding signature.'),
    )
    async def post_registration(request: Request, project: int = project_path) -> JSONResponse:
        """Ask for the device to be registered to ``owner``; the gateway checks the binding and submits it."""
        nonlocal registering
        raw = await _read_body(request, max_body_bytes)
        if registering >= MAX_PENDING_REGISTRATIONS:
            raise OverloadedError(f"the gateway is submitting {registering} registrations: retry later")
        registering += 1
        try:
            loop = asyncio.get_running_loop()
            status, body = await loop.run_in_executor(
                registration_threads, registrations.request, ProjectId(project), raw
            )
        finally:
            registering -= 1
        return JSONResponse(body, status_code=status)

    @app.get(
        "/v1/projects/{project}/devices/{address}",
        response_model=DeviceOut,
        responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    )
    async def get_project_device(address: str = address_path, project: int = project_path) -> JSONResponse:
        """Whether the device's messages are admitted yet, its next nonce and its last timestamp."""
        if not _ADDRESS.fullmatch(address):
            return error_response("invalid_field", "address must be 0x and 40 hex digits", 422)
        device = Address(to_checksum_address(address))

        def look() -> JSONResponse:
            if not store.project_configs(ProjectId(project)):
                return error_response("unknown_project", f"project {project} is unknown to this gateway", 404)
            registered = ProjectId(project) in store.device_projects(device)
            out: dict[str, Any] = {
                "project": project,
                "device": device,
                "registered": registered,
                "next_nonce": store.next_nonce(ProjectId(project), device),
                "last_timestamp": store.last_timestamp(ProjectId(project), device),
            }
            pending = None if registered else registrations.pending(project, device)
            if pending is not None:
                out["pending_tx"] = pending
            return JSONResponse(out)

        return await run_in_threadpool(look)

    @app.get("/v1/projects/{project}/versions/{version}/content", responses={404: {"model": ErrorBody}})
    async def get_content(version: int = Path(ge=1, lt=2**32), project: int = project_path) -> JSONResponse:
        """The files behind a config version's on-chain config hash (docs/projects.md, "content hash")."""
        files = (
            None
            if content is None
            else await run_in_threadpool(content.content, ProjectId(project), ConfigVersion(version))
        )
        if files is None:
            return error_response("unknown_config", f"this gateway holds no files of project {project} v{version}", 404)
        return JSONResponse(
            {
                "project": project,
                "version": version,
                "files": {name: data.decode("utf-8", errors="replace") for name, data in sorted(files.items())},
                "hash": "sha256 over `name NUL sha256(content)` of each file in name order",
            }
        )

    app.include_router(did_router(store, device_states))

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        await run_in_threadpool(store.project_configs)
        return JSONResponse({"status": "ok"})

    app.openapi_schema = with_gateway_errors(app.openapi())
    return app
