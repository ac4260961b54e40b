"""Device SDK: a device's key (secp256k1, BabyJubJub or P-256), message signing, registration and sending with a nonce
that survives reboots.

This is what ``pip install proofstream[device]`` is for (a Raspberry Pi, a gateway-less sensor box): it uses
coincurve (libsecp256k1), eth-abi, eth-utils and httpx only, never web3, fastapi or ``proofstream.chain``.
BabyJubJub keys (EdDSA-Poseidon, verified inside the proof) are pure Python (``proofstream.domain.eddsa``); P-256
keys (a secure element's curve) sign through ``cryptography`` (``proofstream.domain.p256``).

    client = GatewayClient("http://gateway:10545")
    device = Device.open("device.key", client, project=1)      # key file (either type), domain, nonce resumed
    device.register(owner="0x...")                              # once: the gateway submits the binding
    device.register(owner="0x...", voucher=voucher)             # or with a manufacturer's voucher, via any gateway
    device.send({"lat": 142345678, "lon": 193456789})           # signed, stored durably by the gateway
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import coincurve
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from proofstream import logs as log
from proofstream.domain import bjj_messages, did, eddsa, p256
from proofstream.domain.babyjub import Point
from proofstream.domain.bjj_messages import KeyType
from proofstream.domain.eip712 import Domain, binding_digest
from proofstream.domain.messages import body_dict, build_message, digest
from proofstream.domain.schema import Schema
from proofstream.domain.types import Address, Nonce
from proofstream.domain.vouchers import Permit, Terms, Voucher, permit_digest, voucher_digest
from proofstream.errors import ConfigError, MessageError, ProofstreamError
from proofstream.sdk.gateway import DeviceStatus, GatewayClient, ProjectInfo, RegistrationResult, SendResult
from proofstream.sdk.state import DeviceState, state_path_for

__all__ = [
    "AnyDeviceKey",
    "BjjDeviceKey",
    "Device",
    "DeviceKey",
    "GatewayClient",
    "P256DeviceKey",
    "ProjectInfo",
    "SendResult",
    "did_pkh",
    "generate_key",
    "load_key",
]

logger = logging.getLogger(__name__)

PERMIT_TTL_S = 3600
"""How long a device's permit for a voucher registration stays valid: long enough for the gateway to send it."""

KEY_FILE_MODE = 0o600
"""A device key file is readable by its owner only."""

BJJ_KEY_PREFIX = "bjj:"
"""A BabyJubJub key file holds ``bjj:0x<64 hex digits>``; a secp256k1 key file the bare ``0x<64 hex digits>``."""

P256_KEY_PREFIX = "p256:"
"""A P-256 key file holds ``p256:0x<64 hex digits>`` (the scalar, big-endian)."""


def _write_key_file(path: str | Path, text: str, *, overwrite: bool) -> None:
    """Write ``text`` to a file created with mode 0600 (never readable by others, even briefly)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, KEY_FILE_MODE)
    except FileExistsError as exc:
        raise ConfigError(f"{path} exists; refusing to overwrite a device key") from exc
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), KEY_FILE_MODE)  # O_CREAT's mode does not apply to an existing file
        handle.write(text + "\n")


def _read_key_file(path: str | Path) -> str:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"no device key at {file}: create one with `proofstream device new --key {file}`")
    mode = stat.S_IMODE(file.stat().st_mode)
    if mode & 0o077:
        log.warning(logger, "device key file is readable by others (chmod 600 it)", path=file, mode=f"{mode:o}")
    return file.read_text(encoding="utf-8").strip()


def _secret_from_hex(secret: str) -> bytes:
    text = secret.strip().removeprefix("0x")
    try:
        data = bytes.fromhex(text)
    except ValueError as exc:
        raise ConfigError("a private key is 64 hex digits") from exc
    if len(data) != 32:
        raise ConfigError("a private key is 64 hex digits")
    return data


class _KeyFile:
    """What every device key shares: its key file (``PREFIX0x<64 hex digits>``, mode 0600), hex form and a repr that
    never shows the secret. A subclass names its prefix and curve and gives its 32-byte secret."""

    key_prefix: ClassVar[str]
    curve: ClassVar[str]
    address: Address

    def __init__(self, secret: bytes) -> None:
        raise NotImplementedError

    def _secret(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def from_hex(cls, secret: str) -> Self:
        return cls(_secret_from_hex(secret.strip().removeprefix(cls.key_prefix)))

    def to_hex(self) -> str:
        return "0x" + self._secret().hex()

    def __repr__(self) -> str:  # never print the secret
        return f"{type(self).__name__}(address={self.address})"

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write ``PREFIX0x<hex>`` to a file created with mode 0600 (never readable by others, even briefly)."""
        _write_key_file(path, self.key_prefix + self.to_hex(), overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        text = _read_key_file(path)
        held = _key_class_of(text)
        if held is not cls:
            raise ConfigError(f"{path} holds a {held.curve} key, not a {cls.curve} one: load it with load_key()")
        return cls.from_hex(text)


class _Eip712Key(_KeyFile):
    """What a secp256k1 and a P-256 key share: both sign EIP-712 digests (messages and the DeviceBinding), each
    with its own :meth:`sign_digest`."""

    def sign_digest(self, message_digest: bytes) -> bytes:
        raise NotImplementedError

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
        """Sign a message (its EIP-712 digest) and return its JSON body (the dict to POST to ``/messages``)."""
        unsigned = build_message(schema, project, config, self.address, nonce, timestamp, dict(payload))
        signature = self.sign_digest(digest(unsigned, domain))
        signed = build_message(schema, project, config, self.address, nonce, timestamp, dict(payload), signature)
        return body_dict(signed)

    def sign_binding(self, domain: Domain, project: int, owner: str) -> bytes:
        """The device's consent to be registered to ``owner`` in ``project`` (registerDevice, registerP256Device)."""
        return self.sign_digest(binding_digest(domain, project, self.address, Address(owner)))


class DeviceKey(_Eip712Key):
    """A device's secp256k1 private key. Its address is the device id."""

    key_type: ClassVar[KeyType] = "secp256k1"
    key_prefix: ClassVar[str] = ""
    curve: ClassVar[str] = "secp256k1"

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

    def _secret(self) -> bytes:
        return bytes(self._key.secret)

    def sign_digest(self, message_digest: bytes) -> bytes:
        """65-byte ``r || s || v`` (v in {27, 28}, low s) over a 32-byte digest, RFC 6979 deterministic."""
        if len(message_digest) != 32:
            raise ValueError("a digest is 32 bytes")
        signature = self._key.sign_recoverable(message_digest, hasher=None)
        return bytes(signature[:64]) + bytes([signature[64] + 27])

    def sign_permit(self, domain: Domain, terms: Terms) -> Permit:
        """The device's DevicePermit accepting a voucher registration on ``terms`` (whose device is this key's)."""
        if terms.device != self.address:
            raise ValueError(f"a permit is signed by the device itself, not for {terms.device}")
        return Permit(terms.nonce, terms.expiry, self.sign_digest(permit_digest(domain, terms)))

    def sign_voucher(self, domain: Domain, terms: Terms) -> Voucher:
        """This key's DeviceVoucher for ``terms``, as the project owner or a registered manufacturer signs it."""
        signature = self.sign_digest(voucher_digest(domain, terms))
        return Voucher(self.address, terms.owner, terms.nonce, terms.expiry, signature)


class BjjDeviceKey(_KeyFile):
    """A device's BabyJubJub private key (EdDSA-Poseidon, circomlibjs-compatible): the proof itself checks its
    signatures. Its device id is ``uint160(keccak256("ps.bjj" || Ax || Ay))`` (docs/protocol.md).

    Same interface as :class:`DeviceKey`; the key file holds ``bjj:0x<64 hex digits>``."""

    key_type: ClassVar[KeyType] = "bjj"
    key_prefix: ClassVar[str] = BJJ_KEY_PREFIX
    curve: ClassVar[str] = "BabyJubJub"

    def __init__(self, secret: bytes) -> None:
        if len(secret) != eddsa.PRIVATE_KEY_BYTES:
            raise ConfigError("a BabyJubJub private key is 32 bytes")
        self._key = eddsa.EddsaKey(bytes(secret))
        self.address = bjj_messages.device_id(self._key.public)

    @classmethod
    def generate(cls) -> BjjDeviceKey:
        return cls(os.urandom(32))

    def _secret(self) -> bytes:
        return self._key.private_key

    @property
    def public_key(self) -> Point:
        """``(Ax, Ay)``: registered with the device (DeviceRegistry keeps it; the gateway verifies with it)."""
        return self._key.public

    @property
    def public_key_bytes(self) -> bytes:
        """64 bytes ``Ax || Ay`` big-endian, as the registration body carries them."""
        return bjj_messages.encode_public_key(self._key.public)

    def sign_hash(self, m: int) -> bytes:
        """96-byte ``R8x || R8y || S`` over a field element (deterministic, as circomlibjs signPoseidon)."""
        return eddsa.encode_signature(self._key.sign(m))

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
        """Sign a message (``m = Poseidon(SIG_TAG, chainId, registry, config, leaf)``) and return its JSON body."""
        unsigned = build_message(schema, project, config, self.address, nonce, timestamp, dict(payload))
        signature = self.sign_hash(bjj_messages.signed_hash(unsigned, domain))
        return bjj_messages.bjj_body_dict(unsigned, signature)

    def sign_binding(self, domain: Domain, project: int, owner: str) -> bytes:
        """The device's consent to be registered to ``owner`` in ``project``: a signature of ``m_bind``."""
        return bjj_messages.sign_binding(self._key, domain, project, Address(owner))


class P256DeviceKey(_Eip712Key):
    """A device's P-256 (secp256r1) private key, the curve of secure elements (ATECC608): it signs the same
    EIP-712 digests as a secp256k1 key, 64 bytes ``r || s`` with a low s. Its device id is
    ``uint160(keccak256("ps.p256" || X || Y))`` and its DID a did:key (docs/protocol.md).

    Same interface as :class:`DeviceKey`; the key file holds ``p256:0x<64 hex digits>``. A device whose key never
    leaves its secure element signs there instead (the digest in, ``r || s`` out) and uses this class's
    :meth:`sign_message` logic as a recipe."""

    key_type: ClassVar[KeyType] = "p256"
    key_prefix: ClassVar[str] = P256_KEY_PREFIX
    curve: ClassVar[str] = "P-256"

    def __init__(self, secret: bytes) -> None:
        try:
            self._key = p256.P256Key(bytes(secret))
        except MessageError as exc:
            raise ConfigError(str(exc)) from exc
        self.public_key: Point = self._key.public
        """``(X, Y)``: registered with the device (DeviceRegistry keeps it; the gateway verifies with it)."""
        self.address = p256.device_id(self.public_key)

    @classmethod
    def generate(cls) -> P256DeviceKey:
        return cls(p256.P256Key.generate().private_key)

    def _secret(self) -> bytes:
        return self._key.private_key

    @property
    def public_key_bytes(self) -> bytes:
        """64 bytes ``X || Y`` big-endian, as the registration body carries them."""
        return p256.encode_public_key(self.public_key)

    @property
    def did(self) -> str:
        """The key's ``did:key`` (multicodec p256-pub, compressed point, base58btc)."""
        return did.did_key_p256(self.public_key)

    def sign_digest(self, message_digest: bytes) -> bytes:
        """64-byte ``r || s`` (low s) over a 32-byte digest, RFC 6979 deterministic."""
        return self._key.sign_digest(message_digest)


AnyDeviceKey = DeviceKey | BjjDeviceKey | P256DeviceKey
"""Any kind of device key: all sign message bodies and bindings the same way from the caller's side."""

KEY_CLASSES: dict[KeyType, type[DeviceKey] | type[BjjDeviceKey] | type[P256DeviceKey]] = {
    "secp256k1": DeviceKey,
    "bjj": BjjDeviceKey,
    "p256": P256DeviceKey,
}


def generate_key(key_type: KeyType = "secp256k1") -> AnyDeviceKey:
    """A fresh random key of ``key_type`` (``secp256k1``, ``bjj`` or ``p256``)."""
    if key_type not in KEY_CLASSES:
        raise ConfigError(f"unknown key type {key_type!r}: use one of {', '.join(KEY_CLASSES)}")
    return KEY_CLASSES[key_type].generate()


def _key_class_of(text: str) -> type[DeviceKey] | type[BjjDeviceKey] | type[P256DeviceKey]:
    """Which key a key file's text holds, by its prefix (none: secp256k1)."""
    for cls in (BjjDeviceKey, P256DeviceKey):
        if text.startswith(cls.key_prefix):
            return cls
    return DeviceKey


def load_key(path: str | Path) -> AnyDeviceKey:
    """The key in a key file, of whichever type the file holds (``bjj:`` prefix: BabyJubJub, ``p256:``: P-256)."""
    text = _read_key_file(path)
    return _key_class_of(text).from_hex(text)


def did_pkh(chain_id: int, address: str) -> str:
    """The device's DID in the ``did:pkh`` method (CAIP-10 account id): ``did:pkh:eip155:<chainId>:<address>``."""
    return did.did_pkh(chain_id, address)


class Device:
    """A device as firmware runs it: its key, the project it reports to, the gateway, and its nonce.

    The nonce resumes on the first message from the larger of the state file's last nonce + 1 and the gateway's
    next nonce, so neither a lost state file nor a gateway that lost nothing leads to a conflict. Timestamps are
    kept strictly increasing too (the circuit requires it): an automatic timestamp that would not advance (two
    messages in one second, a clock that went back at boot) becomes the last one + 1.
    """

    def __init__(
        self,
        key: AnyDeviceKey,
        project: ProjectInfo,
        client: GatewayClient,
        *,
        state: DeviceState | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.project = project
        self.client = client
        self.state = state
        self._clock = clock
        self._next_nonce: Nonce | None = None
        last = None if state is None else state.last(project.project)
        self._last_timestamp = -1 if last is None else last.timestamp

    @classmethod
    def open(
        cls, key_path: str | Path, client: GatewayClient, project: int, *, clock: Callable[[], float] = time.time
    ) -> Device:
        """Load the key (either type), ask the gateway for the project's domain and schema, and keep state next to
        the key."""
        key = load_key(key_path)
        return cls(key, client.project(project), client, state=DeviceState(state_path_for(key_path)), clock=clock)

    @property
    def address(self) -> Address:
        return self.key.address

    @property
    def did(self) -> str | None:
        """``did:pkh`` for a secp256k1 key, ``did:key`` for a P-256 key; None for a BabyJubJub key (its id is a hash,
        not an account, and it has no did:key multicodec)."""
        if isinstance(self.key, BjjDeviceKey):
            return None
        if isinstance(self.key, P256DeviceKey):
            return self.key.did
        return did_pkh(self.project.chain_id, self.key.address)

    # --- registration ---

    def binding_signature(self, owner: str) -> bytes:
        """The device's binding signature for ``owner`` in this project: EIP-712 DeviceBinding (secp256k1, 65
        bytes; P-256, 64 bytes) or EdDSA-Poseidon over ``m_bind`` (BabyJubJub, 96 bytes)."""
        return self.key.sign_binding(self.project.domain, self.project.project, owner)

    def register(
        self, owner: str, voucher: Voucher | None = None, *, permit_ttl_s: int = PERMIT_TTL_S
    ) -> RegistrationResult:
        """Ask the gateway to register this device to ``owner``; it submits DeviceRegistry.registerDevice. A
        BabyJubJub or P-256 device also sends its public key (the gateway cannot recover it from the signature).

        With a ``voucher`` (the project owner's or a manufacturer's) the device signs a DevicePermit to ``owner``
        valid ``permit_ttl_s`` seconds, under a fresh random nonce, and the gateway sends
        registerDeviceWithVoucher, paying the gas itself."""
        if voucher is not None:
            if not isinstance(self.key, DeviceKey):
                raise ConfigError("vouchers register secp256k1 devices; a BabyJubJub device registers with its binding")
            terms = Terms(
                self.project.project,
                self.address,
                Address(owner),
                secrets.randbits(64),
                int(time.time()) + permit_ttl_s,
            )
            permit = self.key.sign_permit(self.project.domain, terms)
            return self.client.register(
                self.project.project, self.address, owner, permit.signature, voucher=voucher, permit=permit
            )
        public_key = None if isinstance(self.key, DeviceKey) else self.key.public_key_bytes
        return self.client.register(
            self.project.project, self.address, owner, self.binding_signature(owner), public_key=public_key
        )

    def status(self) -> DeviceStatus:
        return self.client.device(self.project.project, self.address)

    # --- messages ---

    def resume(self) -> Nonce:
        """The next nonce: max(state file's last + 1, the gateway's next nonce); cached until the next send.

        The last timestamp signed becomes the later of the state file's and the gateway's ``last_timestamp``, so
        a device that lost its state never signs a rewound timestamp (the gateway would refuse it)."""
        last = None if self.state is None else self.state.last(self.project.project)
        local = None if last is None else last.nonce + 1
        try:
            progress = self.client.progress(self.project.project, self.address)
        except ProofstreamError as exc:
            if local is None or exc.code != "gateway_unavailable":
                raise
            progress = None  # offline: the state file alone is authoritative, it was written before every send
        remote = None if progress is None else progress.next_nonce
        if progress is not None and progress.last_timestamp is not None:
            self._last_timestamp = max(self._last_timestamp, progress.last_timestamp)
        self._next_nonce = Nonce(max(n for n in (local, remote) if n is not None))
        return self._next_nonce

    def sign(self, payload: Mapping[str, Any], timestamp: int | None = None) -> dict[str, Any]:
        """Sign the next message and record its nonce durably; returns the JSON body to POST.

        An explicit ``timestamp`` must be above the last one signed (MessageError ``stale_timestamp``)."""
        nonce = self._next_nonce if self._next_nonce is not None else self.resume()
        if timestamp is None:
            timestamp = max(int(self._clock()), self._last_timestamp + 1)
        elif timestamp <= self._last_timestamp:
            raise MessageError(
                f"timestamp {timestamp} is not above the last one signed ({self._last_timestamp}): timestamps "
                "must strictly increase per device",
                code="stale_timestamp",
            )
        p = self.project
        body = self.key.sign_message(p.schema, p.domain, p.project, p.config, nonce, timestamp, payload)
        if self.state is not None:
            self.state.record(p.project, nonce, timestamp)
        self._next_nonce = Nonce(nonce + 1)
        self._last_timestamp = timestamp
        return body

    def send(self, payload: Mapping[str, Any], timestamp: int | None = None) -> SendResult:
        """Sign and send one message. If it raises ``gateway_unavailable``, re-sending the same body with
        ``client.send`` is safe: the gateway answers 200 with the same id for a message it already has."""
        return self.client.send(self.sign(payload, timestamp))
