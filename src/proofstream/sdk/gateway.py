"""A small synchronous client for the gateway's HTTP API (docs/protocol.md), for devices and simulators.

Light on purpose: httpx and proofstream's pure domain modules only, never web3, fastapi or ``proofstream.chain``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from eth_utils.address import to_checksum_address

from proofstream.domain.defaults import GATEWAY_HOST, GATEWAY_PORT
from proofstream.domain.eip712 import Domain
from proofstream.domain.schema import Schema
from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, ProjectId
from proofstream.domain.vouchers import Permit, Voucher
from proofstream.errors import MessageError, ProofstreamError

DEFAULT_GATEWAY = f"http://{GATEWAY_HOST}:{GATEWAY_PORT}"
"""Where ``proofstream node`` listens by default (settings ``gateway.host`` / ``gateway.port``)."""


RETRIED_STATUSES = frozenset({429, 503})
"""The answers a gateway sends with ``Retry-After`` when it is briefly too busy (503 ``overloaded``) or a
device is too fast (429): nothing of the request was stored, so sending it again is safe."""


@dataclass(frozen=True)
class RetryPolicy:
    """How a :class:`GatewayClient` honours ``Retry-After`` (docs/protocol.md, "Back-pressure"): a 429 or 503
    that carries it is sent again after the time it asks (at most ``max_wait_s``), up to ``retries`` times.
    ``RetryPolicy(retries=0)`` never retries."""

    retries: int = 3
    max_wait_s: float = 5.0
    """A cap, so a gateway cannot park a device for long; a device may have readings to take meanwhile."""

    def wait_s(self, response: httpx.Response, retried: int) -> float | None:
        """Seconds to wait before sending again after ``response`` (the ``retried``-th retry's answer, 0 for the
        first try's), or None: not a back-pressure answer, no usable ``Retry-After``, or no retries left."""
        header = response.headers.get("Retry-After")
        if response.status_code not in RETRIED_STATUSES or header is None or retried >= self.retries:
            return None
        try:
            seconds = float(header)
        except ValueError:
            try:  # the HTTP-date form (RFC 9110, 10.2.3)
                seconds = parsedate_to_datetime(header).timestamp() - time.time()
            except (TypeError, ValueError):
                return None
        return min(max(seconds, 0.0), self.max_wait_s)


@dataclass(frozen=True)
class SendResult:
    id: MessageId
    status: str
    created: bool
    """False when the gateway already had this very message (HTTP 200 instead of 202)."""


@dataclass(frozen=True)
class ProjectInfo:
    """What a device needs to sign for a project: the EIP-712 domain, the config version and its schema."""

    project: ProjectId
    config: ConfigVersion
    """The newest config version the gateway knows: the one to sign new messages under."""
    schema: Schema
    domain: Domain
    """Chain id and DeviceRegistry address: messages and device bindings are signed under it."""

    @property
    def chain_id(self) -> int:
        return self.domain.chain_id

    @property
    def device_registry(self) -> Address:
        return self.domain.verifying_contract

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProjectInfo:
        """Parse ``GET /v1/projects/{project}``; ProofstreamError ``bad_gateway_response`` if it is not one."""
        try:
            domain = data["domain"]
            return cls(
                project=ProjectId(int(data["project"])),
                config=ConfigVersion(int(data["config"])),
                schema=Schema.from_json(data["schema"]),
                domain=Domain(
                    chain_id=int(domain["chainId"]),
                    verifying_contract=Address(str(domain["verifyingContract"])),
                    name=str(domain["name"]),
                    version=str(domain["version"]),
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProofstreamError(
                f"the gateway's project description is not understood ({exc}): is the gateway a proofstream node "
                "of the same version?",
                code="bad_gateway_response",
            ) from exc


@dataclass(frozen=True)
class RegistrationResult:
    status: str
    """``submitted`` (a transaction is on its way; 202) or ``registered`` (already in the project; 200)."""
    tx_hash: str | None


@dataclass(frozen=True)
class DeviceStatus:
    registered: bool
    """True once the gateway admits the device's messages (its DeviceRegistry binding has been indexed)."""
    next_nonce: Nonce
    pending_tx: str | None = None
    """The registration transaction this gateway submitted and has not seen indexed yet."""
    last_timestamp: int | None = None
    """Timestamp of the device's latest stored message (None: none): a new message must carry a later one."""


@dataclass(frozen=True)
class DeviceProgress:
    """Where a device stands at the gateway: what its next message must be above."""

    next_nonce: Nonce
    last_timestamp: int | None
    """Timestamp of the device's highest-nonce stored message; None when the gateway has none of it."""


class GatewayClient:
    """The gateway's HTTP API as method calls.

    Errors: the gateway's own refusals (4xx) become MessageError carrying the gateway's ``code``
    (``nonce_conflict``, ``bad_signature``, ...); an unreachable gateway and 5xx answers become ProofstreamError
    ``gateway_unavailable``, whose message names the URL. A 429 or 503 with ``Retry-After`` is first retried as
    ``retry`` says (:class:`RetryPolicy`); the error is the last answer's.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self._client = client if client is not None else httpx.Client(base_url=self.base_url, timeout=timeout)
        self._owns_client = client is None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response, retried = self._request_once(method, url, **kwargs), 0
        while (wait := self.retry.wait_s(response, retried)) is not None:
            time.sleep(wait)
            response, retried = self._request_once(method, url, **kwargs), retried + 1
        if response.status_code < 400:
            return response
        code, message = "", response.text[:300]
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            pass
        after = f" (after {retried} retries)" if retried else ""
        if response.status_code >= 500:
            raise ProofstreamError(
                f"the gateway at {self.base_url} failed ({response.status_code} {code or 'error'}){after}: {message}",
                code="gateway_unavailable",
            )
        raise MessageError(
            f"gateway refused ({response.status_code}){after}: {message}", code=code or "invalid_message"
        )

    def _request_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ProofstreamError(
                f"cannot reach the gateway at {self.base_url}: is `proofstream node` running? ({exc})",
                code="gateway_unavailable",
            ) from exc

    # --- messages ---

    def send(self, body: Mapping[str, Any]) -> SendResult:
        """POST a signed body; returns once the gateway has stored it durably."""
        response = self._request("POST", "/messages", json=dict(body))
        data = response.json()
        return SendResult(id=MessageId(data["id"]), status=data["status"], created=response.status_code == 202)

    def status(self, message_id: str) -> dict[str, Any]:
        """The gateway's view of a message: status, and task/root/tx once known."""
        result: dict[str, Any] = self._request("GET", f"/messages/{message_id}").json()
        return result

    def next_nonce(self, project: int, address: str) -> Nonce:
        """The nonce to use next, for a device that cannot keep a counter across reboots."""
        return self.progress(project, address).next_nonce

    def progress(self, project: int, address: str) -> DeviceProgress:
        """The next nonce and the last stored timestamp, for a device that lost its counter or its clock state:
        its next message needs a nonce at least ``next_nonce`` and a timestamp above ``last_timestamp``."""
        data = self._request("GET", f"/devices/{address}", params={"project": project}).json()
        last = data.get("last_timestamp")
        return DeviceProgress(Nonce(int(data["next_nonce"])), None if last is None else int(last))

    # --- projects and devices ---

    def project(self, project: int) -> ProjectInfo:
        """The project's signing domain, current config version and schema."""
        return ProjectInfo.from_json(self._request("GET", f"/v1/projects/{project}").json())

    def register(
        self,
        project: int,
        device: str,
        owner: str,
        signature: bytes,
        *,
        public_key: bytes | None = None,
        voucher: Voucher | None = None,
        permit: Permit | None = None,
    ) -> RegistrationResult:
        """Ask the gateway to register ``device`` to ``owner`` in ``project`` with the device's binding signature.

        A BabyJubJub device passes its 64-byte ``public_key`` (``Ax || Ay``); the body then carries it as
        ``"public_key": "0x..."`` (docs/protocol.md). With a ``voucher``, ``signature`` is the device's ``permit``
        signature, or empty for a voucher alone (it must name ``owner``)."""
        body: dict[str, Any] = {"device": to_checksum_address(device), "owner": to_checksum_address(owner)}
        if signature:
            body["signature"] = "0x" + signature.hex()
        if public_key is not None:
            body["public_key"] = "0x" + public_key.hex()
        if permit is not None:
            body.update(nonce=permit.nonce, expiry=permit.expiry)
        if voucher is not None:
            body["voucher"] = voucher.as_json()
        data = self._request("POST", f"/v1/projects/{project}/devices", json=body).json()
        return RegistrationResult(status=str(data["status"]), tx_hash=data.get("tx_hash"))

    def device(self, project: int, address: str) -> DeviceStatus:
        """Whether the device is admitted in the project, and its next nonce."""
        data = self._request("GET", f"/v1/projects/{project}/devices/{address}").json()
        return DeviceStatus(
            registered=bool(data["registered"]),
            next_nonce=Nonce(int(data["next_nonce"])),
            pending_tx=data.get("pending_tx"),
            last_timestamp=None if data.get("last_timestamp") is None else int(data["last_timestamp"]),
        )
