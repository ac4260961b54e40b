"""The W3bStream v0.25 API node's endpoints on the gateway: ``POST /v1/task`` and ``GET /v1/task/{id}``.

Firmware written for W3bStream posts here unchanged (docs/protocol.md, "W3bStream endpoint"); its messages go
through ``ingest.w3bstream`` into the same store and pipeline as proofstream's own, and replays are refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import MessageId
from proofstream.ingest.admission import AdmissionQueue
from proofstream.ingest.intake import Intake
from proofstream.ingest.validation import Admitted
from proofstream.ingest.w3bstream import W3bProjects
from proofstream.store.ports import Store, StoredMessage

SETTLED_COMMENT = "The task has been completed. Please check the generated proof in the corresponding DApp contract."
"""W3bStream's own words for a settled task, so its clients read the same trail."""


def _time(unix: float | None) -> str:
    """A time as Go's encoding/json writes a time.Time (RFC 3339, UTC)."""
    return datetime.fromtimestamp(unix or 0, UTC).isoformat().replace("+00:00", "Z")


def states(store: Store, stored: StoredMessage) -> list[dict[str, Any]]:
    """The message's trail as W3bStream's query answers it: packed (stored), assigned (its task is on chain),
    then settled (with the route transaction) or failed (with the reason)."""
    trail: list[dict[str, Any]] = [{"state": "packed", "time": _time(stored.received_at)}]
    task = None if stored.task_id is None else store.get_task(stored.task_id)
    if task is None:
        return trail
    if task.assign_tx is not None:
        trail.append({"state": "assigned", "time": _time(task.created_at), "transaction_hash": task.assign_tx})
    if task.status == TaskStatus.SETTLED:
        trail.append(
            {
                "state": "settled",
                "time": _time(task.updated_at),
                "comment": SETTLED_COMMENT,
                "transaction_hash": task.route_tx,
            }
        )
    elif task.status == TaskStatus.FAILED:
        trail.append({"state": "failed", "time": _time(task.updated_at), "error": task.reason or "failed"})
    return trail


def w3bstream_router(
    store: Store,
    intake: Intake,
    projects: W3bProjects,
    read_body: Callable[[Request], Awaitable[bytes]],
    admission: AdmissionQueue,
) -> APIRouter:
    """The two endpoints over ``store``; ``read_body`` reads a request within the gateway's body limit. A task
    takes the path of ``POST /messages`` through ``admission`` (checked on the event loop against the gateway's
    one directory, then stored in a group commit, within the same bound as every other transport's messages)."""
    router = APIRouter(tags=["W3bStream"])

    def check(raw: bytes, now: float) -> Admitted:
        return intake.check_w3b(raw, now, projects)

    @router.post(
        "/v1/task",
        responses={
            status: {"description": "error", "content": {"application/json": {}}}
            for status in (400, 401, 403, 404, 409, 410, 413, 422, 503)
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
                "description": "A W3bStream v0.25 task: nonce, projectID, projectVersion, payload, signature.",
            }
        },
    )
    async def post_task(request: Request) -> JSONResponse:
        """200 ``{"taskID", "id", "status", "created"}`` once durably stored; the same message again: 200 with the
        same id and ``created`` false. ``taskID`` is the message id (W3bStream's field name)."""
        admitted = await admission.admit_one(await read_body(request), check)
        return JSONResponse(
            {"taskID": admitted.id, "id": admitted.id, "status": str(admitted.status), "created": admitted.created}
        )

    @router.get("/v1/task/{task_id}")
    async def get_task(task_id: str) -> JSONResponse:
        """W3bStream's trail of states; an id the gateway does not hold answers no states, as W3bStream does."""

        def look() -> dict[str, Any]:
            stored = store.get_message(MessageId(task_id.lower()))
            if stored is None:
                return {"projectID": "", "taskID": task_id, "states": []}
            return {"projectID": str(stored.message.project), "taskID": task_id, "states": states(store, stored)}

        return JSONResponse(await run_in_threadpool(look))

    return router
