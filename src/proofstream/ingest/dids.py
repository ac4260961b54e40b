"""``GET /did/{did}``: the W3C DID document of a registered device (docs/protocol.md, "DIDs"), mounted by the
gateway's app (ingest/http.py).

The identifier is parsed and the document built in :mod:`proofstream.domain.did`; the device's registrations
(owner, active) come from the chain through a :class:`~proofstream.ingest.ports.DeviceStates`, for every project
this gateway serves. A DID of no device registered in any of them is ``404 unknown_did``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from proofstream.domain.did import DeviceDid, Membership, did_document, parse_did
from proofstream.domain.types import Address, ProjectId
from proofstream.errors import MessageError, ProofstreamError
from proofstream.ingest.models import ErrorBody
from proofstream.ingest.ports import DeviceStates
from proofstream.store.ports import Store

__all__ = ["DID_MEDIA_TYPE", "did_router"]

DID_MEDIA_TYPE = "application/did+json"
"""The DID document's media type (W3C DID Core, JSON representation)."""


def _memberships(store: Store, states: DeviceStates, parsed: DeviceDid) -> tuple[list[Membership], int, Address]:
    configs = store.project_configs()
    if not configs:
        raise MessageError("this gateway serves no project", code="unknown_did")
    domain = configs[-1].domain
    if parsed.chain_id is not None and parsed.chain_id != domain.chain_id:
        raise MessageError(
            f"{parsed.did} names chain {parsed.chain_id}; this gateway serves chain {domain.chain_id}",
            code="unknown_did",
        )
    projects = sorted({ProjectId(c.project) for c in configs})
    if parsed.key_type == "secp256k1" and any(store.device_key(p, parsed.device) for p in projects):
        # A BabyJubJub or P-256 device's id is a hash of its key, not an account: it has no did:pkh.
        raise MessageError(f"{parsed.device} is not a secp256k1 device", code="unknown_did")
    found = [m for m in (states.membership(p, parsed.device) for p in projects) if m is not None]
    if not found:
        raise MessageError(f"no device {parsed.device} is registered in this gateway's projects", code="unknown_did")
    return found, domain.chain_id, domain.verifying_contract


def did_router(store: Store, states: DeviceStates | None) -> APIRouter:
    """The DID route over ``store`` (which projects this gateway serves) and ``states`` (the chain; None: every
    DID is answered ``503 chain_unavailable``)."""
    router = APIRouter()

    @router.get("/did/{did}", responses={status: {"model": ErrorBody} for status in (400, 404, 503)})
    async def get_did(did: str) -> JSONResponse:
        """The DID document of a registered device: did:pkh (secp256k1) or did:key (P-256)."""
        parsed = parse_did(did)
        if states is None:
            raise ProofstreamError("this gateway reads no chain: it serves no DIDs", code="chain_unavailable")
        memberships, chain_id, registry = await run_in_threadpool(_memberships, store, states, parsed)
        document = did_document(parsed, chain_id, registry, memberships)
        return JSONResponse(document, media_type=DID_MEDIA_TYPE)

    return router
