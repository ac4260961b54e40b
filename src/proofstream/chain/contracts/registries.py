"""The three registries: projects (config versions, pause), devices (key bindings) and provers.

A device binds itself with an EIP-712 DeviceBinding signature whose digest is :func:`proofstream.domain.eip712.
binding_digest`; :func:`sign_device_binding` signs it with a local account (the tests' devices).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_typing import Hash32
from eth_utils.address import to_checksum_address

from proofstream.chain.client import Receipt
from proofstream.chain.contracts._wrapper import Wrapper, address_or_none, position
from proofstream.chain.contracts.events import (
    BjjKeyRegisteredEvent,
    DeviceDeactivatedEvent,
    DeviceRegisteredEvent,
    DeviceTransferredEvent,
    P256KeyRegisteredEvent,
    VersionAddedEvent,
    VersionRetiredEvent,
)
from proofstream.domain.eip712 import Domain, binding_digest
from proofstream.domain.types import Address, ConfigVersion, FieldElement, ProjectId
from proofstream.domain.vouchers import Permit, Terms, Voucher, permit_digest, voucher_digest


def sign_device_binding(
    device_key: LocalAccount, chain_id: int, device_registry: str, project: int, owner: str
) -> bytes:
    """The device key's signature (r || s || v, v in {27, 28}) binding itself to ``project`` and ``owner``."""
    digest = binding_digest(Domain(chain_id, Address(device_registry)), project, device_key.address, owner)
    return bytes(device_key.unsafe_sign_hash(Hash32(digest)).signature)


def sign_voucher(issuer: LocalAccount, chain_id: int, device_registry: str, terms: Terms) -> Voucher:
    """``issuer``'s (the project owner's or a manufacturer's) voucher for ``terms``."""
    digest = voucher_digest(Domain(chain_id, Address(device_registry)), terms)
    signature = bytes(issuer.unsafe_sign_hash(Hash32(digest)).signature)
    return Voucher(Address(issuer.address), terms.owner, terms.nonce, terms.expiry, signature)


def sign_permit(device_key: LocalAccount, chain_id: int, device_registry: str, terms: Terms) -> Permit:
    """The device key's permit accepting a voucher registration on ``terms`` (its ``device`` is the key's)."""
    digest = permit_digest(Domain(chain_id, Address(device_registry)), terms)
    return Permit(terms.nonce, terms.expiry, bytes(device_key.unsafe_sign_hash(Hash32(digest)).signature))


def _voucher_tuple(voucher: Voucher) -> tuple[str, str, int, int, bytes]:
    return (voucher.issuer, to_checksum_address(voucher.owner), voucher.nonce, voucher.expiry, voucher.signature)


@dataclass(frozen=True)
class ProjectInfo:
    project: ProjectId
    owner: Address
    sequencer: Address
    dapp: Address
    current_version: ConfigVersion
    active: bool


class ProjectRegistry(Wrapper):
    CONTRACT = "ProjectRegistry"

    def create_project(
        self,
        config_hash: bytes,
        uri: str,
        verifier: str,
        dapp: str,
        sequencer: str,
        *,
        sender: LocalAccount | None = None,
    ) -> tuple[ProjectId, Receipt]:
        """Create a project owned by ``sender``; returns its id (from the ProjectCreated event)."""
        receipt = self._send("createProject", config_hash, uri, verifier, dapp, sequencer, sender=sender)
        (event,) = self._receipt_events("ProjectCreated", receipt)
        return ProjectId(int(event["args"]["project"])), receipt

    def add_version(
        self,
        project: int,
        config_hash: bytes,
        uri: str,
        verifier: str,
        grace_blocks: int,
        *,
        sender: LocalAccount | None = None,
    ) -> tuple[ConfigVersion, Receipt]:
        """Add a config version, which becomes current; the previous one stays live ``grace_blocks`` more blocks
        (0: it retires in this block). ``sender`` must be the project owner. Returns the new version."""
        receipt = self._send("addVersion", project, config_hash, uri, verifier, grace_blocks, sender=sender)
        (event,) = self._receipt_events("VersionAdded", receipt)
        return ConfigVersion(int(event["args"]["version"])), receipt

    def retire_version(self, project: int, version: int, *, sender: LocalAccount | None = None) -> Receipt:
        """Retire a version other than the current one now (ends its grace period early); owner only."""
        return self._send("retireVersion", project, version, sender=sender)

    def is_live(self, project: int, version: int, *, confirmations: int = 0) -> bool:
        """Whether new tasks may be assigned under ``version`` now (as of the block ``confirmations`` deep); False
        for an unknown project or version."""
        return bool(self._call("isLive", project, version, confirmations=confirmations))

    def retires_at(self, project: int, version: int) -> int | None:
        """First block in which ``version`` is retired, or None while no retirement is set (the current one)."""
        block = int(self._call("retiresAt", project, version))
        return block or None

    def pause(self, project: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("pause", project, sender=sender)

    def resume(self, project: int, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("resume", project, sender=sender)

    def set_sequencer(self, project: int, sequencer: str, *, sender: LocalAccount | None = None) -> Receipt:
        return self._send("setSequencer", project, sequencer, sender=sender)

    def project_count(self) -> int:
        return int(self._call("projectCount"))

    def owner_of(self, project: int) -> Address:
        return Address(self._call("ownerOf", project))

    def sequencer_of(self, project: int) -> Address:
        return Address(self._call("sequencerOf", project))

    def dapp_of(self, project: int) -> Address:
        return Address(self._call("dappOf", project))

    def current_version(self, project: int) -> ConfigVersion:
        return ConfigVersion(int(self._call("currentVersion", project)))

    def verifier_of(self, project: int, version: int) -> Address:
        return Address(self._call("verifierOf", project, version))

    def config_hash_of(self, project: int, version: int) -> bytes:
        return bytes(self._call("configHashOf", project, version))

    def uri_of(self, project: int, version: int) -> str:
        return str(self._call("uriOf", project, version))

    def is_active(self, project: int) -> bool:
        return bool(self._call("isActive", project))

    def version_added_events(self, from_block: int, to_block: int | str) -> list[VersionAddedEvent]:
        return [
            VersionAddedEvent(
                project=ProjectId(a["project"]),
                version=ConfigVersion(a["version"]),
                config_hash=bytes(a["configHash"]),
                uri=str(a["uri"]),
                verifier=Address(a["verifier"]),
                position=position(e),
            )
            for e in self._logs("VersionAdded", from_block, to_block)
            for a in (e["args"],)
        ]

    def version_retired_events(self, from_block: int, to_block: int | str) -> list[VersionRetiredEvent]:
        return [
            VersionRetiredEvent(
                project=ProjectId(a["project"]),
                version=ConfigVersion(a["version"]),
                at_block=int(a["atBlock"]),
                position=position(e),
            )
            for e in self._logs("VersionRetired", from_block, to_block)
            for a in (e["args"],)
        ]

    def get_project(self, project: int) -> ProjectInfo:
        return ProjectInfo(
            project=ProjectId(project),
            owner=self.owner_of(project),
            sequencer=self.sequencer_of(project),
            dapp=self.dapp_of(project),
            current_version=self.current_version(project),
            active=self.is_active(project),
        )


class DeviceRegistry(Wrapper):
    CONTRACT = "DeviceRegistry"

    def register_device(
        self, project: int, device: str, owner: str, signature: bytes, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Bind ``device`` to ``project`` and ``owner``; ``sender`` must be the project owner."""
        return self._send("registerDevice", project, device, owner, signature, sender=sender)

    def register_bjj_device(
        self,
        project: int,
        ax: int,
        ay: int,
        owner: str,
        r8x: int,
        r8y: int,
        s: int,
        *,
        sender: LocalAccount | None = None,
    ) -> Receipt:
        """Bind the BabyJubJub key (ax, ay) to ``project`` and ``owner``; (r8x, r8y, s) is the key's
        EdDSA-Poseidon signature of the binding message (:meth:`bjj_binding_message`). ``sender`` must be the
        project owner. The device id is :meth:`bjj_device_id` of the key."""
        return self._send("registerBjjDevice", project, ax, ay, to_checksum_address(owner), r8x, r8y, s, sender=sender)

    # --- P-256 devices ---

    def register_p256_device(
        self, project: int, x: int, y: int, owner: str, r: int, s: int, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Bind the P-256 key (x, y) to ``project`` and ``owner``; (r, s) is the key's low-s ECDSA signature of
        :meth:`binding_digest` for its device id (:meth:`p256_device_id`). ``sender`` must be the project owner.
        Reverts ``P256Unavailable`` on a chain without the P256VERIFY precompile."""
        return self._send("registerP256Device", project, x, y, to_checksum_address(owner), r, s, sender=sender)

    def p256_key_of(self, project: int, device: str) -> tuple[int, int] | None:
        """The P-256 key (x, y) of ``device`` in ``project``; None when it is not registered there or has another
        key type."""
        x, y = self._call("p256KeyOf", project, to_checksum_address(device))
        return None if y == 0 else (int(x), int(y))

    def p256_device_id(self, x: int, y: int) -> Address:
        """The id of the device with P-256 key (x, y): last 20 bytes of keccak256("ps.p256" || x || y)."""
        return Address(to_checksum_address(self._call("p256DeviceId", x, y)))

    def p256_available(self) -> bool:
        """Whether the chain has the P256VERIFY precompile (EIP-7951) that P-256 registrations need."""
        return bool(self._call("p256Available"))

    def p256_key_registered_events(self, from_block: int, to_block: int | str) -> list[P256KeyRegisteredEvent]:
        return [
            P256KeyRegisteredEvent(
                project=ProjectId(e["args"]["project"]),
                device=Address(e["args"]["device"]),
                x=int(e["args"]["x"]),
                y=int(e["args"]["y"]),
                position=position(e),
            )
            for e in self._logs("P256KeyRegistered", from_block, to_block)
        ]

    def register_device_with_voucher(
        self, project: int, device: str, owner: str, voucher: Voucher, permit: Permit, *, sender: LocalAccount | None
    ) -> Receipt:
        """Register ``device`` to ``owner`` with an issuer's voucher and the device's permit; anyone may send."""
        return self._send(
            "registerDeviceWithVoucher",
            project,
            to_checksum_address(device),
            to_checksum_address(owner),
            _voucher_tuple(voucher),
            (permit.nonce, permit.expiry, permit.signature),
            sender=sender,
        )

    def register_device_by_voucher(
        self, project: int, device: str, owner: str, voucher: Voucher, *, sender: LocalAccount | None
    ) -> Receipt:
        """Register ``device`` to ``owner`` with a voucher alone (it must name ``owner``); anyone may send."""
        return self._send(
            "registerDeviceByVoucher",
            project,
            to_checksum_address(device),
            to_checksum_address(owner),
            _voucher_tuple(voucher),
            sender=sender,
        )

    def set_manufacturer(
        self, project: int, manufacturer: str, allowed: bool = True, *, sender: LocalAccount | None = None
    ) -> Receipt:
        """Allow (or stop) ``manufacturer`` to sign vouchers for ``project``; ``sender`` must be its owner."""
        return self._send("setManufacturer", project, to_checksum_address(manufacturer), allowed, sender=sender)

    def is_manufacturer(self, project: int, manufacturer: str) -> bool:
        return bool(self._call("isManufacturer", project, to_checksum_address(manufacturer)))

    def is_voucher_issuer(self, project: int, issuer: str) -> bool:
        """The project's owner or one of its manufacturers."""
        return bool(self._call("isVoucherIssuer", project, to_checksum_address(issuer)))

    def voucher_nonce_used(self, issuer: str, nonce: int) -> bool:
        return bool(self._call("voucherNonceUsed", to_checksum_address(issuer), nonce))

    def cancel_voucher(self, nonce: int, *, sender: LocalAccount | None = None) -> Receipt:
        """Withdraw ``sender``'s unused voucher ``nonce``."""
        return self._send("cancelVoucher", nonce, sender=sender)

    def voucher_digest(self, terms: Terms) -> bytes:
        return bytes(self._call("voucherDigest", *terms.values))

    def permit_digest(self, terms: Terms) -> bytes:
        return bytes(self._call("permitDigest", *terms.values))

    # --- the device NFT (ERC-721) ---

    def token_id_of(self, project: int, device: str) -> int:
        """The device's token id: ``project << 160 | device``."""
        return int(self._call("tokenIdOf", project, to_checksum_address(device)))

    def owner_of_token(self, token_id: int) -> Address:
        return Address(to_checksum_address(self._call("ownerOf", token_id)))

    def balance_of(self, owner: str) -> int:
        return int(self._call("balanceOf", to_checksum_address(owner)))

    def transfer_device(
        self, project: int, device: str, to: str, *, sender: LocalAccount, owner: str | None = None
    ) -> Receipt:
        """Move ``device``'s token (and so its future rewards) from ``owner`` (by default ``sender``) to ``to``:
        ERC-721 ``safeTransferFrom``, which the owner, its operator or the token's approved account may send."""
        token = self.token_id_of(project, device)
        source = to_checksum_address(owner or sender.address)
        return self._client.send(
            self._contract.functions.safeTransferFrom(source, to_checksum_address(to), token), sender=sender
        )

    # --- every key type ---

    def deactivate_device(self, project: int, device: str, *, sender: LocalAccount | None = None) -> Receipt:
        """Take ``device`` out of service in ``project`` for good; ``sender`` must be the project owner."""
        return self._send("deactivateDevice", project, to_checksum_address(device), sender=sender)

    def is_active(self, project: int, device: str) -> bool:
        """Registered in ``project`` and not deactivated."""
        return bool(self._call("isActive", project, to_checksum_address(device)))

    def bjj_key_of(self, project: int, device: str) -> tuple[FieldElement, FieldElement] | None:
        """The BabyJubJub key (ax, ay) of ``device`` in ``project``; None when it is not registered there or has
        a secp256k1 key."""
        ax, ay = self._call("bjjKeyOf", project, to_checksum_address(device))
        return None if ax == 0 and ay == 0 else (FieldElement(ax), FieldElement(ay))

    def bjj_device_id(self, ax: int, ay: int) -> Address:
        """The id of the device with BabyJubJub key (ax, ay): last 20 bytes of keccak256("ps.bjj" || ax || ay)."""
        return Address(to_checksum_address(self._call("bjjDeviceId", ax, ay)))

    def bjj_binding_message(self, project: int, owner: str) -> FieldElement:
        """Poseidon(BIND_TAG, chainId, registry, project, owner): what a BabyJubJub key signs to be bound."""
        return FieldElement(int(self._call("bjjBindingMessage", project, to_checksum_address(owner))))

    def poseidon(self) -> Address:
        """The Poseidon(5) contract the registry hashes BabyJubJub bindings with."""
        return Address(to_checksum_address(self._call("poseidon")))

    def device_owner(self, project: int, device: str) -> Address | None:
        return address_or_none(self._call("deviceOwner", project, to_checksum_address(device)))

    def is_registered(self, project: int, device: str) -> bool:
        return bool(self._call("isRegistered", project, to_checksum_address(device)))

    def domain_separator(self) -> bytes:
        return bytes(self._call("domainSeparator"))

    def binding_digest(self, project: int, device: str, owner: str) -> bytes:
        return bytes(self._call("bindingDigest", project, device, owner))

    def device_registered_events(self, from_block: int, to_block: int | str) -> list[DeviceRegisteredEvent]:
        return [
            DeviceRegisteredEvent(
                project=ProjectId(e["args"]["project"]),
                device=Address(e["args"]["device"]),
                owner=Address(e["args"]["owner"]),
                position=position(e),
            )
            for e in self._logs("DeviceRegistered", from_block, to_block)
        ]

    def bjj_key_registered_events(self, from_block: int, to_block: int | str) -> list[BjjKeyRegisteredEvent]:
        return [
            BjjKeyRegisteredEvent(
                project=ProjectId(e["args"]["project"]),
                device=Address(e["args"]["device"]),
                ax=FieldElement(e["args"]["ax"]),
                ay=FieldElement(e["args"]["ay"]),
                position=position(e),
            )
            for e in self._logs("BjjKeyRegistered", from_block, to_block)
        ]

    def device_transferred_events(self, from_block: int, to_block: int | str) -> list[DeviceTransferredEvent]:
        return [
            DeviceTransferredEvent(
                project=ProjectId(e["args"]["project"]),
                device=Address(e["args"]["device"]),
                owner=Address(e["args"]["owner"]),
                position=position(e),
            )
            for e in self._logs("DeviceTransferred", from_block, to_block)
        ]

    def device_deactivated_events(self, from_block: int, to_block: int | str) -> list[DeviceDeactivatedEvent]:
        return [
            DeviceDeactivatedEvent(
                project=ProjectId(e["args"]["project"]),
                device=Address(e["args"]["device"]),
                position=position(e),
            )
            for e in self._logs("DeviceDeactivated", from_block, to_block)
        ]


class ProverRegistry(Wrapper):
    CONTRACT = "ProverRegistry"

    def register_prover(self, beneficiary: str, *, sender: LocalAccount | None = None) -> Receipt:
        """Register ``sender`` itself as a prover."""
        return self._send("registerProver", beneficiary, sender=sender)

    def is_prover(self, prover: str) -> bool:
        return bool(self._call("isProver", to_checksum_address(prover)))

    def beneficiary_of(self, prover: str) -> Address | None:
        return address_or_none(self._call("beneficiaryOf", to_checksum_address(prover)))
