"""The gateway's JSON bodies as pydantic models: they document the API (the OpenAPI schema at ``/docs``);
handlers build the same shapes as plain dicts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


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


class BatchItemOut(BaseModel):
    outcome: Literal["accepted", "duplicate", "refused"]
    id: str | None = None
    """accepted and duplicate only."""
    status: str | None = None
    """accepted (always ``received``) and duplicate (where the stored message stands) only."""
    error: ErrorDetail | None = None
    """refused only."""
    http_status: int | None = None
    """refused only: the status ``POST /messages`` answers for the same error."""


class BatchOut(BaseModel):
    results: list[BatchItemOut]
    """One per message of the request, in its order."""


def with_gateway_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI spec FastAPI generates, told how the gateway refuses a request: a parameter or body that is not
    of its declared type is 400 ``invalid_request`` in :class:`ErrorBody` (the app's own handler), never FastAPI's
    422 body, which only the routes that declare 422 themselves answer (with ErrorBody)."""
    refused = {
        "description": "Refused, nothing stored: the error body (docs/protocol.md, Errors).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for operations in spec["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            if "HTTPValidationError" in str(responses.get("422", {})):
                del responses["422"]
            if operation.get("parameters") or "requestBody" in operation:
                responses.setdefault("400", refused)
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return spec


def json_body(description: str) -> dict[str, Any]:
    """An endpoint's ``openapi_extra``: a required JSON object body. The handler reads and checks the raw bytes
    itself (with the codes docs/protocol.md gives), so the spec only says what the body is."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": description,
        }
    }
