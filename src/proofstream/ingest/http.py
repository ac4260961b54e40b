"""The HTTP gateway: devices POST signed messages, ask for their status and their next nonce, read a project's
signing domain and ask to be registered (the gateway checks the binding signature and hands it to a registrar).

A message is acknowledged (202) only after the store has committed it durably; the store's group commit
batches the concurrent requests that the thread pool hands it. Every refusal is
``{"error": {"code", "message"}}`` with a 4xx status, and nothing is stored for it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from eth_utils.address import to_checksum_address
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from proofstream.domain.merkle import MAX_DEPTH, MerkleTree, build_tree
from proofstream.domain.messages import message_leaf
from proofstream.domain.receipts import build_receipt
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import Address, ConfigVersion, MessageId, ProjectId
from proofstream.errors import ConflictError, MessageError, ProofstreamError, StoreError
from proofstream.ingest.validation import ClockWindow, admit, admit_registration, check_clock
from proofstream.ports import DeviceRegistrationRequest
from proofstream.store.ports import RECEIVED, ProjectConfig, Store, StoredMessage

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

Registrar = Callable[[DeviceRegistrationRequest], str]
ContentSource = Callable[[ProjectId, ConfigVersion], Mapping[str, bytes] | None]
"""The files a config version's content hash covers, by name; None for a version the node does not hold."""
"""Submits DeviceRegistry.registerDevice for a checked request and returns the transaction hash; raises a
ProofstreamError (``chain_unavailable``, ``already_registered``, anything else becomes ``registration_failed``)."""

_REGISTRAR_CODES = frozenset({"chain_unavailable", "already_registered"})
"""Registrar error codes passed to the device as they are."""

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
    last_timestamp: int | None = None
    """Timestamp of the device's highest-nonce stored message (null: none): the next one must be above it."""


class DomainOut(BaseModel):
    name: str
    version: str
    chainId: int  # noqa: N815 -- EIP-712's own spelling, so the object can be used as the typed-data domain
    verifyingContract: str  # noqa: N815


class ProjectOut(BaseModel):
    project: int
    config: int
    """The newest config version: the one devices sign new messages under."""
    configs: list[int]
    chain_id: int
    device_registry: str
    domain: DomainOut
    schema_: list[list[str]] = Field(alias="schema")
    """Payload fields of ``config`` in signing order, ``[[name, type], ...]`` (after the fixed header)."""


class RegistrationOut(BaseModel):
    project: int
    device: str
    owner: str | None = None
    status: str
    """``submitted`` (202: the registration transaction was sent) or ``registered`` (200: nothing to do)."""
    tx_hash: str | None = None


class DeviceOut(BaseModel):
    project: int
    device: str
    registered: bool
    """True once the gateway admits the device's messages (its DeviceRegistry binding is indexed)."""
    next_nonce: int
    last_timestamp: int | None = None
    pending_tx: str | None = None


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


def _tree_with_root(leaves: list[int], root: int) -> MerkleTree | None:
    """The tree over ``leaves`` whose root is ``root``: the store keeps the root, not the circuit's depth, and the
    depth is the one that reproduces the recorded root (from the smallest that holds the leaves)."""
    smallest = max(0, (len(leaves) - 1).bit_length())
    for depth in range(smallest, MAX_DEPTH + 1):
        tree = build_tree(leaves, depth)
        if tree.root == root:
            return tree
    return None


def _receipt(store: Store, message_id: MessageId, task_manager: str | None) -> JSONResponse:
    stored = store.get_message(message_id)
    if stored is None:
        return error_response("unknown_message", f"no message {message_id}", 404)
    task = None if stored.task_id is None else store.get_task(stored.task_id)
    if task is None or stored.leaf_index is None:
        return error_response(
            "not_batched", f"message {message_id} is in no task yet: ask again once its status is batched", 409
        )
    messages = store.task_messages(task.id)
    tree = _tree_with_root([message_leaf(task.project, m.message) for m in messages], task.root)
    config = store.get_project(task.project, task.config)
    if tree is None or config is None:
        logger.error("no receipt for message=%s task=%d: its stored leaves do not give its root", message_id, task.id)
        return error_response("receipt_unavailable", f"task {task.id} of this gateway is inconsistent", 500)
    receipt = build_receipt(
        message_id_=message_id,
        message=stored.message,
        domain=config.domain,
        leaf_index=stored.leaf_index,
        path=tree.inclusion_proof(stored.leaf_index).siblings,
        task=task.id,
        first_nonce=task.first_nonce,
        last_nonce=task.last_nonce,
        root=task.root,
        task_manager=task_manager,
        tx_hash=task.route_tx if task.status is TaskStatus.SETTLED else None,
        public_key=store.device_key(task.project, task.device),
    )
    return JSONResponse(receipt.to_json())


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


class _Registrations:
    """Registrations this gateway has submitted and not yet seen indexed, so a device that asks again (a retry,
    a reboot) gets the same transaction instead of a second one that would revert."""

    def __init__(self, store: Store, register: Registrar | None) -> None:
        self._store = store
        self._register = register
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
        request = admit_registration(raw, configs[-1])
        if project in self._store.device_projects(request.device):
            # Its owner is whatever the chain recorded (maybe not this request's): say nothing about it.
            self._pending.pop((project, request.device), None)
            return 200, {"project": project, "device": request.device, "status": "registered"}
        out: dict[str, Any] = {"project": project, "device": request.device, "owner": request.owner}
        if self._register is None:
            raise MessageError(
                "this gateway does not submit registrations: ask the project owner to call "
                "DeviceRegistry.registerDevice(project, device, owner, signature) with this signature",
                code="registration_disabled",
            )
        # One registration at a time: two concurrent requests for one device must not send two transactions.
        with self._lock:
            earlier = self._pending.get((project, request.device))
            if earlier is not None:
                owner, tx_hash = earlier
                if owner != request.owner:
                    raise MessageError(
                        f"device {request.device} already has a registration to {owner} pending in tx {tx_hash}",
                        code="already_registered",
                    )
                return 202, {**out, "status": "submitted", "tx_hash": tx_hash}
            try:
                tx_hash = self._register(request)
            except ProofstreamError as exc:
                logger.warning("registration failed project=%d device=%s error=%s", project, request.device, exc)
                code = exc.code if exc.code in _REGISTRAR_CODES else "registration_failed"
                raise ProofstreamError(f"the registration could not be submitted: {exc}", code=code) from exc
            self._pending[(project, request.device)] = (request.owner, tx_hash)
        logger.info(
            "registration submitted project=%d device=%s owner=%s tx=%s",
            project,
            request.device,
            request.owner,
            tx_hash,
        )
        return 202, {**out, "status": "submitted", "tx_hash": tx_hash}


def create_app(
    store: Store,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    clock: Callable[[], float] = time.time,
    register: Registrar | None = None,
    content: ContentSource | None = None,
    live: Callable[[ProjectId, ConfigVersion], bool] | None = None,
    clock_window: ClockWindow | None = None,
    task_manager: str | None = None,
) -> FastAPI:
    """The gateway's ASGI app over ``store``; ``clock`` stamps ``received_at`` (injected for tests).

    ``register`` submits device registrations that passed the signature check (None: the gateway refuses them
    with ``registration_disabled`` and devices are registered by the project owner directly). ``content`` serves
    each config version's files, so anyone can recompute the content hash the chain records. ``live`` says whether
    a version still takes new messages (None: every version the store knows does). ``clock_window`` bounds how
    far a new message's timestamp may lie from ``clock`` (None: no bound; the node always sets one, from the
    ``gateway.max_future_seconds`` / ``gateway.max_past_seconds`` settings). ``task_manager`` is the
    TaskManager address receipts name (None: receipts carry null and the verifier must be told)."""
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
        key = (ProjectId(message.project), ConfigVersion(message.config))
        now = clock()
        # A resend of a stored message gets its status below, whatever the version's liveness or the clock say.
        if (live is not None or clock_window is not None) and store.get_message(admitted.id) is None:
            if live is not None and not live(*key):
                # A new message under a retired version would be stored and never settled: say so instead.
                raise MessageError(
                    f"config version {message.config} of project {message.project} is retired: sign under the "
                    f"current version (GET /v1/projects/{message.project})",
                    code="retired_config",
                )
            if clock_window is not None:
                check_clock(message.timestamp, now, clock_window)
        # The store refuses, atomically with the insert, a nonce or timestamp out of order (stale_timestamp).
        put = store.put_message(message, admitted.id, now)
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

    @app.get("/messages/{message_id}/receipt", responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}})
    async def get_receipt(message_id: str) -> JSONResponse:
        """The message's inclusion in its task (docs/protocol.md, "Receipts"): everything a device needs to check
        alone, against the chain, that the message is a leaf of a task the chain settled."""
        if not _MESSAGE_ID.fullmatch(message_id):
            return error_response("unknown_message", "a message id is 0x and 64 hex digits", 404)
        return await run_in_threadpool(_receipt, store, MessageId(message_id.lower()), task_manager)

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

        def look() -> dict[str, Any]:
            device = Address(address)
            return {
                "next_nonce": store.next_nonce(ProjectId(project), device),
                "last_timestamp": store.last_timestamp(ProjectId(project), device),
            }

        return JSONResponse(await run_in_threadpool(look))

    registrations = _Registrations(store, register)
    project_path = Path(ge=0, lt=2**64, description="project id (ProjectRegistry)")

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
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
                "description": '{"device", "owner", "signature"}: the device key\'s EIP-712 DeviceBinding signature.',
            }
        },
    )
    async def post_registration(request: Request, project: int = project_path) -> JSONResponse:
        """Ask for the device to be registered to ``owner``; the gateway checks the binding and submits it."""
        raw = await _read_body(request, max_body_bytes)
        status, body = await run_in_threadpool(registrations.request, ProjectId(project), raw)
        return JSONResponse(body, status_code=status)

    @app.get(
        "/v1/projects/{project}/devices/{address}",
        response_model=DeviceOut,
        responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    )
    async def get_project_device(address: str, project: int = project_path) -> JSONResponse:
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
            None if content is None else await run_in_threadpool(content, ProjectId(project), ConfigVersion(version))
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

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        await run_in_threadpool(store.project_configs)
        return JSONResponse({"status": "ok"})

    return app
