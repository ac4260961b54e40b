"""Device SDK: a device's secp256k1 key, message signing, and a client for the gateway.

This module is the future light ``proofstream[device]`` extra: it uses coincurve (libsecp256k1), eth-abi,
eth-utils and httpx only, never web3, fastapi or ``proofstream.chain``.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import coincurve
import httpx
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from proofstream.domain.eip712 import Domain, binding_digest
from proofstream.domain.messages import body_dict, build_message, digest
from proofstream.domain.schema import Schema
from proofstream.domain.types import Address, MessageId, Nonce
from proofstream.errors import ConfigError, MessageError, ProofstreamError

logger = logging.getLogger(__name__)

KEY_FILE_MODE = 0o600
"""A device key file is readable by its owner only."""


class DeviceKey:
    """A device's secp256k1 private key. Its address is the device id."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise ConfigError("a secp256k1 private key is 32 bytes")
        try:
            self._key = coincurve.PrivateKey(secret)
        except ValueError as exc:
            raise ConfigError("not a valid secp256k1 private key") from exc
        public = self._key.public_key.format(compressed=False)[1:]
        self.address = Address(to_checksum_address(keccak(public)[-20:]))

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(os.urandom(32))

    @classmethod
    def from_hex(cls, secret: str) -> DeviceKey:
        text = secret.strip().removeprefix("0x")
        try:
            return cls(bytes.fromhex(text))
        except ValueError as exc:
            raise ConfigError("a private key is 64 hex digits") from exc

    def to_hex(self) -> str:
        return "0x" + self._key.secret.hex()

    def __repr__(self) -> str:  # never print the secret
        return f"DeviceKey(address={self.address})"

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write the key as hex to a file created with mode 0600 (never readable by others, even briefly)."""
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        try:
            fd = os.open(path, flags, KEY_FILE_MODE)
        except FileExistsError as exc:
            raise ConfigError(f"{path} exists; refusing to overwrite a device key") from exc
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), KEY_FILE_MODE)  # O_CREAT's mode does not apply to an existing file
            handle.write(self.to_hex() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> DeviceKey:
        file = Path(path)
        mode = stat.S_IMODE(file.stat().st_mode)
        if mode & 0o077:
            logger.warning("device key file is readable by others path=%s mode=%o", file, mode)
        return cls.from_hex(file.read_text(encoding="utf-8"))

    def sign_digest(self, message_digest: bytes) -> bytes:
        """65-byte ``r || s || v`` (v in {27, 28}, low s) over a 32-byte digest, RFC 6979 deterministic."""
        if len(message_digest) != 32:
            raise ValueError("a digest is 32 bytes")
        signature = self._key.sign_recoverable(message_digest, hasher=None)
        return bytes(signature[:64]) + bytes([signature[64] + 27])

    def sign_message(
        self,
        schema: Schema,
        domain: Domain,
        project: int,
        config: int,
        nonce: int,
        timestamp: int,
        payload: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Sign a message and return its JSON body (the dict to POST to ``/messages``)."""
        unsigned = build_message(schema, project, config, self.address, nonce, timestamp, dict(payload))
        signature = self.sign_digest(digest(unsigned, domain))
        signed = build_message(schema, project, config, self.address, nonce, timestamp, dict(payload), signature)
        return body_dict(signed)

    def sign_binding(self, domain: Domain, project: int, owner: str) -> bytes:
        """The device's consent to be registered to ``owner`` in ``project`` (for registerDevice)."""
        return self.sign_digest(binding_digest(domain, project, self.address, Address(owner)))


@dataclass(frozen=True)
class SendResult:
    id: MessageId
    status: str
    created: bool
    """False when the gateway already had this very message (HTTP 200 instead of 202)."""


class GatewayClient:
    """A small synchronous client for the gateway's HTTP API.

    Errors: the gateway's own refusals become MessageError carrying the gateway's ``code``
    (``nonce_conflict``, ``bad_signature``, ...); network failures and 5xx become ProofstreamError
    ``gateway_unavailable``.
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        self._client = client if client is not None else httpx.Client(base_url=base_url, timeout=timeout)
        self._owns_client = client is None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ProofstreamError(f"gateway unreachable: {exc}", code="gateway_unavailable") from exc
        if response.status_code >= 500:
            raise ProofstreamError(f"gateway error {response.status_code}", code="gateway_unavailable")
        if response.status_code >= 400:
            code, message = "invalid_message", response.text
            try:
                error = response.json()["error"]
                code, message = str(error["code"]), str(error["message"])
            except (ValueError, KeyError, TypeError):
                pass
            raise MessageError(f"gateway refused ({response.status_code}): {message}", code=code)
        return response

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
        response = self._request("GET", f"/devices/{address}", params={"project": project})
        return Nonce(int(response.json()["next_nonce"]))
