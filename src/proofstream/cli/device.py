"""``proofstream device``: a device's key, its registration and its messages, from a shell (or a Raspberry Pi).

Light on purpose, so it runs from ``pip install proofstream[device]``: typer, rich and the device SDK only. It
imports no web3, FastAPI, uvicorn or node module, at import time or later (the project loader that ``simulate``
needs is stdlib-only and imported when the command runs). Also installed as the ``proofstream-device`` script.
Errors print what to fix, never a traceback.
"""

from __future__ import annotations

import enum
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from proofstream.domain.schema import Schema
from proofstream.domain.types import Address
from proofstream.domain.vouchers import ZERO_ADDRESS, Terms, Voucher
from proofstream.errors import ConfigError, MessageError, ProofstreamError
from proofstream.sdk.device import BjjDeviceKey, Device, DeviceKey, P256DeviceKey, did_pkh, generate_key, load_key
from proofstream.sdk.gateway import DEFAULT_GATEWAY, GatewayClient, ProjectInfo
from proofstream.sdk.state import DeviceState, state_path_for

device_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Device keys, registration and signed messages (the light install: pip install proofstream\\[device]).",
)
err = Console(stderr=True, soft_wrap=True)

HINTS: dict[str, str] = {
    "unknown_project": "check --project: `proofstream node` prints the id of the project it runs",
    "unknown_device": "register the device first: `proofstream device register --owner ADDR --key FILE`",
    "device_not_in_project": "register the device in this project: `proofstream device register`",
    "schema_mismatch": "pass exactly the project's payload fields as name=value",
    "nonce_conflict": "another message already has this nonce: is the key used by two devices?",
    "registration_disabled": "this gateway does not register devices; the project owner must register it on chain",
    "voucher_required": "ask the project owner or the manufacturer for a voucher: `proofstream device voucher`",
    "unauthorized_issuer": "the voucher's issuer is not the project owner nor a manufacturer it registered "
    "(`proofstream project manufacturer ADDRESS`)",
    "voucher_used": "this voucher (its issuer's nonce) was used or cancelled: ask for a new one",
    "voucher_expired": "ask the issuer for a new voucher",
}
"""What to do about a gateway refusal, by its code."""

GatewayOption = Annotated[str, typer.Option("--gateway", help="the gateway's URL", show_default=True)]
ProjectOption = Annotated[int, typer.Option("--project", min=0, help="project id (ProjectRegistry)")]
KeyOption = Annotated[Path, typer.Option("--key", help="the device key file", show_default=True)]
REGISTRATION_POLL_S = 0.2
VOUCHER_TTL_S = 30 * 86400
"""Default validity of a voucher: a month from signing."""


class KeyTypeChoice(enum.StrEnum):
    """The device key types: ``secp256k1`` (EIP-712, checked by the gateway), ``bjj`` (BabyJubJub
    EdDSA-Poseidon, checked inside the proof) or ``p256`` (a secure element's curve, the same EIP-712 digest,
    checked by the gateway)."""

    secp256k1 = "secp256k1"
    bjj = "bjj"
    p256 = "p256"


KeyTypeOption = Annotated[
    KeyTypeChoice,
    typer.Option(
        "--key-type",
        help="key type of new keys: secp256k1 (EIP-712), bjj (BabyJubJub EdDSA-Poseidon, verified in the proof) or "
        "p256 (P-256, a secure element's curve, EIP-712); "
        "existing key files say their own type",
        case_sensitive=False,
    ),
]


def _fail(exc: ProofstreamError) -> NoReturn:
    hint = HINTS.get(exc.code)
    err.print(f"[bold red]error[/] ({exc.code}): {exc}" + (f"\n[yellow]hint[/]: {hint}" if hint else ""))
    raise typer.Exit(1)


def _run(action: Callable[[], None]) -> None:
    """Run a command body, turning proofstream's errors into a message and exit status 1."""
    try:
        action()
    except ProofstreamError as exc:
        _fail(exc)


def _parse_fields(schema: Schema, assignments: Sequence[str]) -> dict[str, Any]:
    """``["lat=142345678", "lon=0x10"]`` -> payload, typed by the schema (integers in decimal or 0x-hex)."""
    types = {f.name: f.type for f in schema.payload}
    payload: dict[str, Any] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep or name not in types:
            raise MessageError(
                f"{item!r} is not one of the project's fields as name=value; the fields are "
                + ", ".join(f"{n} ({t})" for n, t in types.items()),
                code="schema_mismatch",
            )
        if name in payload:
            raise MessageError(f"field {name} is given twice", code="schema_mismatch")
        if types[name] == "address":
            payload[name] = text
            continue
        try:
            payload[name] = int(text, 0)
        except ValueError as exc:
            raise MessageError(f"{name}={text!r} is not an integer ({types[name]})", code="invalid_field") from exc
    missing = [n for n in types if n not in payload]
    if missing:
        raise MessageError(f"missing fields {missing}; the project signs {list(types)}", code="schema_mismatch")
    return payload


def _wait_registered(devices: Sequence[Device], timeout: float) -> list[Device]:
    """Poll until every device is admitted by the gateway; returns those that are not after ``timeout``."""
    deadline = time.monotonic() + timeout
    waiting = list(devices)
    while waiting:
        waiting = [d for d in waiting if not d.status().registered]
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(REGISTRATION_POLL_S)
    return waiting


@device_app.command()
def new(
    key: KeyOption = Path("device.key"),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing key file")] = False,
    chain_id: Annotated[int | None, typer.Option("--chain-id", help="chain id, to print the device's DID")] = None,
    gateway: Annotated[str | None, typer.Option("--gateway", help="ask this gateway for the chain id")] = None,
    project: Annotated[int | None, typer.Option("--project", help="with --gateway: the project")] = None,
    key_type: KeyTypeOption = KeyTypeChoice.secp256k1,
) -> None:
    """Create a device key (a file readable by its owner only) and print its address and DID (or, for a
    BabyJubJub key, its public key; a P-256 key prints both)."""

    def action() -> None:
        device_key = generate_key(key_type.value)
        if isinstance(device_key, BjjDeviceKey | P256DeviceKey):
            device_key.save(key, overwrite=force)
            if force:
                state_path_for(key).unlink(missing_ok=True)
            typer.echo(f"address {device_key.address}")
            typer.echo(f"key     {key}")
            typer.echo(f"type    {device_key.key_type}")
            typer.echo(f"public  0x{device_key.public_key_bytes.hex()}")
            if isinstance(device_key, P256DeviceKey):
                typer.echo(f"did     {device_key.did}")
            return
        chain = chain_id
        if chain is None and gateway is not None and project is not None:
            with GatewayClient(gateway) as client:
                chain = client.project(project).chain_id
        device_key.save(key, overwrite=force)
        if force:
            state_path_for(key).unlink(missing_ok=True)  # the old key's nonces mean nothing to the new one
        typer.echo(f"address {device_key.address}")
        typer.echo(f"key     {key}")
        if chain is not None:
            typer.echo(f"did     {did_pkh(chain, device_key.address)}")
        else:
            err.print("pass --chain-id (or --gateway and --project) to print the device's did:pkh DID")

    _run(action)


@device_app.command()
def register(
    owner: Annotated[str, typer.Option("--owner", help="the account that receives the device's rewards")],
    project: ProjectOption,
    key: KeyOption = Path("device.key"),
    gateway: GatewayOption = DEFAULT_GATEWAY,
    wait: Annotated[float, typer.Option("--wait", min=0, help="seconds to wait until the gateway admits it")] = 0,
    voucher: Annotated[
        Path | None,
        typer.Option("--voucher", help="a voucher file (`proofstream device voucher`): the gateway pays the gas"),
    ] = None,
    voucher_only: Annotated[
        bool,
        typer.Option(
            "--voucher-only",
            help="send the voucher alone, for a device that cannot sign (it must name OWNER); reads no key",
        ),
    ] = False,
) -> None:
    """Sign the device's binding to OWNER in the project and ask the gateway to register it on chain (with a
    voucher: the device's permit, or the voucher alone)."""

    def action() -> None:
        vouched = None if voucher is None else _read_voucher(voucher, project)
        with GatewayClient(gateway) as client:
            if voucher_only:
                if vouched is None:
                    raise ConfigError("--voucher-only needs --voucher FILE")
                result = client.register(project, vouched[0], owner, b"", voucher=vouched[1])
                typer.echo(f"device  {vouched[0]}")
                typer.echo(f"status  {result.status}" + (f" tx {result.tx_hash}" if result.tx_hash else ""))
                return
            device = Device.open(key, client, project)
            if vouched is not None and vouched[0] != device.address:
                raise ConfigError(f"the voucher is for device {vouched[0]}, not {device.address} ({key})")
            result = device.register(owner, None if vouched is None else vouched[1])
            typer.echo(f"device  {device.address}")
            if device.did is not None:
                typer.echo(f"did     {device.did}")
            else:
                typer.echo(f"type    {device.key.key_type}")
            typer.echo(f"status  {result.status}" + (f" tx {result.tx_hash}" if result.tx_hash else ""))
            if wait and result.status != "registered":
                if _wait_registered([device], wait):
                    raise ProofstreamError(
                        f"the gateway does not admit {device.address} after {wait:g} s: the registration is "
                        "pending until the node indexes it; check with `proofstream device status`",
                        code="registration_pending",
                    )
                typer.echo("status  registered")

    _run(action)


def _read_voucher(path: Path, project: int) -> tuple[Address, Voucher]:
    """A voucher file's device and voucher, for ``project``."""
    try:
        data = json.loads(path.read_text())
        device, voucher = Address(data["device"]), Voucher.from_json(data["voucher"])
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path} is not a voucher file (`proofstream device voucher`): {exc}") from exc
    if data.get("project") != project:
        raise ConfigError(f"{path} is a voucher for project {data.get('project')}, not {project}")
    return device, voucher


@device_app.command()
def voucher(
    device: Annotated[str, typer.Option("--device", help="the address of the device it is for")],
    project: ProjectOption,
    nonce: Annotated[
        int, typer.Option("--nonce", min=0, max=2**64 - 1, help="the issuer's voucher number, used once (a serial)")
    ],
    issuer_key: Annotated[
        Path, typer.Option("--issuer-key", help="the project owner's or a registered manufacturer's key file")
    ],
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="bind this owner (required for --voucher-only); default: the device's choice"),
    ] = None,
    ttl: Annotated[int, typer.Option("--ttl", min=1, help="seconds it stays valid")] = VOUCHER_TTL_S,
    out: Annotated[Path | None, typer.Option("--out", help="write it to this file (default: print it)")] = None,
    gateway: GatewayOption = DEFAULT_GATEWAY,
) -> None:
    """Sign a voucher for one device as the project owner or a manufacturer the owner registered (`proofstream
    project manufacturer ADDRESS`): the device then registers through any gateway with `device register
    --voucher FILE`."""

    def action() -> None:
        issuer = DeviceKey.load(issuer_key)
        with GatewayClient(gateway) as client:
            info = client.project(project)
        try:
            terms = Terms(project, Address(device), Address(owner or ZERO_ADDRESS), nonce, int(time.time()) + ttl)
        except ValueError as exc:
            raise MessageError(f"--device and --owner must be addresses: {exc}", code="invalid_field") from exc
        signed = issuer.sign_voucher(info.domain, terms)
        text = json.dumps({"project": project, "device": terms.device, "voucher": signed.as_json()}, indent=1)
        if out is None:
            typer.echo(text)
        else:
            out.write_text(text + "\n")
            err.print(f"voucher for {terms.device} (nonce {nonce}, expires {terms.expiry}) written to {out}")

    _run(action)


@device_app.command()
def status(
    project: ProjectOption,
    key: KeyOption = Path("device.key"),
    gateway: GatewayOption = DEFAULT_GATEWAY,
) -> None:
    """Whether the gateway admits the device's messages, and the nonces known here and there."""

    def action() -> None:
        with GatewayClient(gateway) as client:
            device = Device.open(key, client, project)
            remote = device.status()
            local = DeviceState(state_path_for(key)).last(project)
            typer.echo(f"device     {device.address}")
            typer.echo(f"key type   {device.key.key_type}")
            typer.echo(f"registered {str(remote.registered).lower()}")
            if remote.pending_tx:
                typer.echo(f"pending    {remote.pending_tx}")
            typer.echo(f"next nonce {remote.next_nonce} (gateway)")
            if local is not None:
                typer.echo(f"last nonce {local.nonce} (signed here, timestamp {local.timestamp})")

    _run(action)


@device_app.command()
def send(
    fields: Annotated[list[str], typer.Argument(help="payload as name=value, e.g. lat=142345678 lon=193456789")],
    project: ProjectOption,
    key: KeyOption = Path("device.key"),
    gateway: GatewayOption = DEFAULT_GATEWAY,
    timestamp: Annotated[int | None, typer.Option("--timestamp", help="unix seconds (default: now)")] = None,
) -> None:
    """Sign one message with the next nonce (resumed from the key's state file and the gateway) and send it."""

    def action() -> None:
        with GatewayClient(gateway) as client:
            device = Device.open(key, client, project)
            payload = _parse_fields(device.project.schema, fields)
            body = device.sign(payload, timestamp)
            result = client.send(body)
            typer.echo(f"id      {result.id}")
            typer.echo(f"status  {result.status}" + ("" if result.created else " (already stored)"))
            typer.echo(f"nonce   {body['nonce']}")

    _run(action)


def _check_schema(local: Schema, info: ProjectInfo, project_dir: Path) -> None:
    if local.payload != info.schema.payload:
        raise ConfigError(
            f"project {info.project} on the gateway signs {info.schema.to_json()}, but {project_dir} declares "
            f"{local.to_json()}: pass the --project-dir and --project of the project the node runs"
        )


@device_app.command()
def simulate(
    project: ProjectOption,
    project_dir: Annotated[Path, typer.Option("--project-dir", help="the project folder (proofstream.toml)")],
    devices: Annotated[int, typer.Option("--devices", min=1, max=1000, help="simulated devices")] = 3,
    messages: Annotated[int, typer.Option("--messages", min=1, max=100_000, help="messages per device")] = 10,
    owner: Annotated[
        str | None, typer.Option("--owner", help="who receives the rewards (default: each device itself)")
    ] = None,
    gateway: GatewayOption = DEFAULT_GATEWAY,
    keys_dir: Annotated[
        Path | None, typer.Option("--keys-dir", help="device keys (default: PROJECT_DIR/.proofstream/devices)")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the generator's random numbers")] = 1,
    wait: Annotated[float, typer.Option("--wait", min=0, help="seconds to wait for the registrations")] = 60,
    key_type: KeyTypeOption = KeyTypeChoice.secp256k1,
) -> None:
    """Simulated devices: keys (kept and reused), registration, then the project generator's readings, signed."""

    def action() -> None:
        # Imported here: it loads the project's own Python files, which only this command needs.
        from proofstream.projects.spec import load_project

        spec = load_project(project_dir)
        folder = keys_dir if keys_dir is not None else spec.state_dir / "devices"
        folder.mkdir(parents=True, exist_ok=True)
        with GatewayClient(gateway) as client:
            info = client.project(project)
            _check_schema(spec.schema, info, project_dir)
            fleet: list[Device] = []
            for index in range(devices):
                path = folder / f"device-{index:03d}.key"
                if not path.exists():
                    generate_key(key_type.value).save(path)
                key = load_key(path)
                fleet.append(Device(key, info, client, state=DeviceState(state_path_for(path))))
            registered = 0
            for device in fleet:
                result = device.register(owner or device.address)
                registered += result.status == "registered"
            err.print(f"{devices} devices ({registered} already registered); waiting for the gateway to admit them")
            late = _wait_registered(fleet, wait)
            if late:
                raise ProofstreamError(
                    f"{len(late)} of {devices} devices are not admitted after {wait:g} s (first: {late[0].address}): "
                    "is the node indexing DeviceRegistry events? Raise --wait on a slow chain",
                    code="registration_pending",
                )
            outcomes: Counter[str] = Counter()
            generator = spec.generator()
            for index, device in enumerate(fleet):
                last = device.state.last(project) if device.state is not None else None
                start = max(int(time.time()), 0 if last is None else last.timestamp + 1)
                rng = random.Random(seed * 1_000_003 + index)
                for timestamp, payload in generator.readings(rng, index, messages, start):
                    try:
                        sent = device.send(payload, timestamp)
                        outcomes[sent.status if sent.created else "duplicate"] += 1
                    except MessageError as exc:  # one refused reading does not stop the fleet
                        outcomes[exc.code] += 1
                        err.print(f"[yellow]refused[/] {device.address} ({exc.code}): {exc}")
            typer.echo(f"devices {devices}")
            for outcome, count in sorted(outcomes.items()):
                typer.echo(f"{outcome:<10} {count}")
            refused = sum(count for outcome, count in outcomes.items() if outcome not in {"received", "duplicate"})
            if refused:
                raise typer.Exit(1)

    _run(action)


def main() -> None:
    """Entry point of the ``proofstream-device`` script."""
    device_app()
