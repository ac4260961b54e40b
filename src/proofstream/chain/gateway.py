"""The gateway's view of the chain (:mod:`proofstream.ingest.ports`): registering devices as the project owner,
asking whether a config version still takes messages, and a device's registrations (for its DID document)."""

from __future__ import annotations

import threading
import time

from eth_account.signers.local import LocalAccount

from proofstream.chain.contracts.registries import DeviceRegistry, ProjectRegistry
from proofstream.domain.did import Membership
from proofstream.domain.messages import SIGNATURE_LENGTH_P256
from proofstream.domain.types import Address, ConfigVersion, ProjectId
from proofstream.errors import ProofstreamError, TransactionRevertedError
from proofstream.ports import DeviceRegistrationRequest

LIVE_CACHE_S = 2.0
"""How long the gateway trusts its last answer to "is this config version live?"."""


REVERT_CODES = {
    "DeviceAlreadyRegistered": "already_registered",
    "VoucherExpired": "voucher_expired",
    "PermitExpired": "binding_expired",
    "VoucherNonceUsed": "voucher_used",
    "PermitNonceUsed": "binding_used",
    "NotAVoucherIssuer": "unauthorized_issuer",
    "WrongVoucherSigner": "bad_voucher",
    "WrongSigner": "bad_signature",
    "VoucherOwnerMismatch": "invalid_field",
    "VoucherNamesNoOwner": "invalid_field",
}
"""The gateway's error code for each DeviceRegistry revert a registration can meet (the simulation before the
send catches them, so a refused registration costs no gas)."""


class ChainRegistrar:
    """Sends a device's own signed binding to the DeviceRegistry, paid by the project owner; or a registration
    with a voucher, which any funded key may send (``owner`` is then just the payer)."""

    def __init__(self, devices: DeviceRegistry, owner: LocalAccount) -> None:
        self._devices = devices
        self._owner = owner

    def register_device(self, request: DeviceRegistrationRequest) -> str:
        try:
            if request.public_key is not None and len(request.signature) == SIGNATURE_LENGTH_P256:
                r, s = (int.from_bytes(request.signature[i : i + 32], "big") for i in (0, 32))
                receipt = self._devices.register_p256_device(
                    request.project, *request.public_key, request.owner, r, s, sender=self._owner
                )
            elif request.public_key is not None:  # a BabyJubJub device: its key is registered with it
                r8x, r8y, s = (int.from_bytes(request.signature[i : i + 32], "big") for i in (0, 32, 64))
                receipt = self._devices.register_bjj_device(
                    request.project, *request.public_key, request.owner, r8x, r8y, s, sender=self._owner
                )
            elif request.voucher is not None and request.permit is not None:
                receipt = self._devices.register_device_with_voucher(
                    request.project, request.device, request.owner, request.voucher, request.permit, sender=self._owner
                )
            elif request.voucher is not None:
                receipt = self._devices.register_device_by_voucher(
                    request.project, request.device, request.owner, request.voucher, sender=self._owner
                )
            else:
                receipt = self._devices.register_device(
                    request.project, request.device, request.owner, request.signature, sender=self._owner
                )
        except TransactionRevertedError as exc:
            if exc.error_name == "P256Unavailable":
                raise ProofstreamError(
                    "this chain has no P256VERIFY precompile (EIP-7951): it cannot register P-256 devices",
                    code="key_type_unsupported",
                ) from exc
            code = REVERT_CODES.get(exc.error_name or "")
            if code is not None:
                raise ProofstreamError(str(exc), code=code) from exc
            raise
        return receipt.tx_hash

    def still_pending(self, tx_hash: str) -> bool:
        return self._devices.transaction_known(tx_hash)


class ChainLiveness:
    """ProjectRegistry.isLive as of the block ``confirmations`` deep (a version added or retired in a block a
    reorganisation may still take away does not count yet), cached ``cache_s`` seconds: asked for every new
    message, and a grace period ends at a block, so a message arriving that close to it is held back by the
    sequencer instead (never lost)."""

    def __init__(self, projects: ProjectRegistry, *, confirmations: int = 0, cache_s: float = LIVE_CACHE_S) -> None:
        self._projects = projects
        self._confirmations = confirmations
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self._cache: dict[tuple[ProjectId, ConfigVersion], tuple[bool, float]] = {}

    def is_live(self, project: ProjectId, version: ConfigVersion) -> bool:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get((project, version))
        if cached is not None and now - cached[1] < self._cache_s:
            return cached[0]
        live = self._projects.is_live(project, version, confirmations=self._confirmations)
        with self._lock:
            self._cache[(project, version)] = (live, now)
        return live


class ChainDeviceStates:
    """DeviceRegistry.deviceOwner and isActive, read for each DID document (two calls per project, uncached: a
    document says what the chain holds now)."""

    def __init__(self, devices: DeviceRegistry) -> None:
        self._devices = devices

    def membership(self, project: ProjectId, device: Address) -> Membership | None:
        owner = self._devices.device_owner(project, device)
        if owner is None:
            return None
        return Membership(project, owner, self._devices.is_active(project, device))
