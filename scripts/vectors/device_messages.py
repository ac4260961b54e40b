"""Generate docs/vectors/device-messages.json: signing vectors for firmware authors (C on an ESP32, Rust, ...).

Every intermediate value is in the file, so a port can be checked step by step: the EIP-712 type string and type
hash, each field's 32-byte encoding, the struct hash, the domain separator, the ``0x1901`` digest, the signature as
r/s/v, the HTTP body and what the gateway answers. Bad vectors say which error code the gateway must give.

Independent of proofstream's own code on purpose, like messages.py (whose keys, domain, tracker vectors and bad
vectors it reuses): the digests and signatures come from eth_account, the field encodings from eth_abi, and this
script checks that the two agree. docs/signing.md walks through the first vector; tests/vectors/
test_device_vectors.py checks the Python SDK and the gateway against this file.

The keys are anvil's well-known development keys: local test keys only, never for real funds.

    .venv/bin/python scripts/vectors/device_messages.py            # rewrite the file
    .venv/bin/python scripts/vectors/device_messages.py --check    # fail if the file is not what this script makes
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent))
import messages as base  # the sibling generator: one source for keys, domain and tracker vectors

OUT = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "device-messages.json"

UNREGISTERED_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"
"""anvil account 4: a device the gateway has never heard of."""

U64_MAX = base.U64_MAX
TRACKER = base.PAYLOAD
WEATHER = [("temperature", "uint16"), ("humidity", "uint8")]
"""weather-quality: temperature in centi-kelvin, relative humidity in percent."""
WIDE = [("reading", "uint248"), ("station", "address"), ("flag", "uint8")]
"""Not a real project: the widest integer and an address payload field, to show every encoding."""

PROJECTS: list[dict[str, Any]] = [
    {"project": 1, "config": 1, "schema": TRACKER},
    {"project": 2, "config": 1, "schema": WEATHER},
    {"project": 3, "config": 1, "schema": WIDE},
    {"project": U64_MAX, "config": 1, "schema": TRACKER},
]

STATUS = {
    "invalid_json": 400,
    "invalid_request": 400,
    "bad_signature": 401,
    "unknown_device": 403,
    "device_not_in_project": 403,
    "unknown_project": 404,
    "unknown_config": 404,
    "nonce_conflict": 409,
    "schema_mismatch": 422,
    "invalid_field": 422,
    "unsupported_version": 422,
}
"""HTTP status of each error code, from docs/protocol.md ("Gateway HTTP API")."""

DOMAIN_TYPE_STRING = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


def hexstr(data: bytes) -> str:
    return "0x" + data.hex()


def word(type_: str, value: Any) -> bytes:
    """One member's 32-byte slot of EIP-712 ``encodeData``: strings are hashed, the rest ABI-encoded in place."""
    return keccak(text=value) if type_ == "string" else encode([type_], [value])


def type_string(primary: str, fields: list[tuple[str, str]]) -> str:
    return f"{primary}({','.join(f'{t} {n}' for n, t in fields)})"


def struct_breakdown(primary: str, fields: list[tuple[str, str]], values: dict[str, Any]) -> dict[str, Any]:
    """Type string, type hash, every field's encoding and the struct hash, computed here with eth_abi."""
    text = type_string(primary, fields)
    words = [word(t, values[n]) for n, t in fields]
    return {
        "type_string": text,
        "type_hash": hexstr(keccak(text=text)),
        "fields": [
            {"name": n, "type": t, "value": values[n], "encoded": hexstr(w)}
            for (n, t), w in zip(fields, words, strict=True)
        ],
        "struct_hash": hexstr(keccak(keccak(text=text) + b"".join(words))),
    }


def domain_breakdown() -> dict[str, Any]:
    d = base.DOMAIN
    words = [
        keccak(text=DOMAIN_TYPE_STRING),
        keccak(text=str(d["name"])),
        keccak(text=str(d["version"])),
        encode(["uint256"], [d["chainId"]]),
        encode(["address"], [d["verifyingContract"]]),
    ]
    return {
        "domain": d,
        "type_string": DOMAIN_TYPE_STRING,
        "type_hash": hexstr(words[0]),
        "encoded": {
            "name": hexstr(words[1]),
            "version": hexstr(words[2]),
            "chainId": hexstr(words[3]),
            "verifyingContract": hexstr(words[4]),
        },
        "separator": hexstr(keccak(b"".join(words))),
    }


def signature_parts(signature: bytes) -> dict[str, Any]:
    return {
        "r": hexstr(signature[:32]),
        "s": hexstr(signature[32:64]),
        "v": signature[64],
        "hex": hexstr(signature),
        "low_s": int.from_bytes(signature[32:64], "big") <= base.SECP256K1_N // 2,
    }


def signed(
    key: str, primary: str, fields: list[tuple[str, str]], values: dict[str, Any], separator: str
) -> tuple[dict[str, Any], bytes]:
    """The breakdown plus eth_account's digest and signature, after checking they agree with the breakdown."""
    breakdown = struct_breakdown(primary, fields, values)
    digest, signature = base.sign_typed(key, base.typed_data(base.DOMAIN, primary, fields, values))
    preimage = b"\x19\x01" + bytes.fromhex(separator[2:]) + bytes.fromhex(breakdown["struct_hash"][2:])
    assert keccak(preimage) == digest, f"eth_abi and eth_account disagree on {values}"
    return {
        **breakdown,
        "digest_preimage": hexstr(preimage),
        "digest": hexstr(digest),
        "signature": signature_parts(signature),
    }, signature


def body(fields: list[tuple[str, str]], values: dict[str, Any], signature: bytes) -> str:
    obj = {name: values[name] for name, _ in base.HEADER}
    obj["payload"] = {name: values[name] for name, _ in fields[len(base.HEADER) :]}
    obj["signature"] = hexstr(signature)
    return json.dumps(obj, separators=(",", ":"))


def message(
    name: str, key: str, project: int, payload: dict[str, Any], *, nonce: int, timestamp: int, config: int = 1
) -> dict[str, Any]:
    schema = next((p["schema"] for p in PROJECTS if p["project"] == project), TRACKER)
    fields = base.HEADER + schema
    device = Account.from_key(key).address
    header = {"version": 1, "project": project, "config": config, "device": device, "nonce": nonce}
    values = {**header, "timestamp": timestamp, **payload}
    details, signature = signed(key, "Message", fields, values, domain_breakdown()["separator"])
    digest = bytes.fromhex(details["digest"][2:])
    return {
        "name": name,
        "private_key": key,
        "address": device,
        "schema": [list(f) for f in schema],
        **details,
        "id": hexstr(keccak(digest)),
        "http": {"method": "POST", "path": "/messages", "body": body(fields, values, signature)},
    }


def good_messages() -> list[dict[str, Any]]:
    tracker = {v["name"]: v for v in base.build()["valid"]}
    out = []
    for name, key in (("tracker_first", base.KEYS[0]), ("tracker_edges_low", base.KEYS[1])):
        m = tracker[name]["message"]
        out.append(
            message(
                name, key, m["project"], {"lat": m["lat"], "lon": m["lon"]}, nonce=m["nonce"], timestamp=m["timestamp"]
            )
        )
    out.append(
        message(
            "tracker_edges_high",
            base.KEYS[2],
            U64_MAX,
            {"lat": 180_000_000, "lon": 360_000_000},
            nonce=U64_MAX,
            timestamp=U64_MAX,
        )
    )
    out.append(
        message("weather", base.KEYS[0], 2, {"temperature": 29_315, "humidity": 64}, nonce=41, timestamp=1_764_300_600)
    )
    out.append(
        message(
            "wide_fields",
            base.KEYS[1],
            3,
            {"reading": 2**248 - 1, "station": Account.from_key(base.OWNER_KEY).address, "flag": 1},
            nonce=1,
            timestamp=1_764_300_000,
        )
    )
    for vector, original in ((out[0], tracker["tracker_first"]), (out[1], tracker["tracker_edges_low"])):
        # The same message as tests/vectors/messages.json: one truth for both files.
        assert vector["http"]["body"] == original["body"] and vector["digest"] == original["digest"]
    for vector in out:
        vector["expect"] = {"status": 202, "body": {"id": vector["id"], "status": "received"}}
    return out


def bad_messages(good: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bad: list[dict[str, Any]] = []
    for vector in base.bad_vectors(base.build()["valid"][0]):
        entry = {k: v for k, v in vector.items() if k != "error"}
        entry["expect"] = {"status": STATUS[vector["error"]], "code": vector["error"]}
        bad.append(entry)

    def refused(name: str, vector: dict[str, Any], code: str, **extra: Any) -> None:
        bad.append(
            {"name": name, "body": vector["http"]["body"], **extra, "expect": {"status": STATUS[code], "code": code}}
        )

    first = good[0]
    fix = {"lat": 142345678, "lon": 193456789}
    refused("unknown_device", message("x", UNREGISTERED_KEY, 1, fix, nonce=0, timestamp=1), "unknown_device")
    refused("device_not_in_project", message("x", base.KEYS[2], 1, fix, nonce=0, timestamp=1), "device_not_in_project")
    refused("unknown_project", message("x", base.KEYS[0], 99, fix, nonce=0, timestamp=1), "unknown_project")
    refused("unknown_config", message("x", base.KEYS[0], 1, fix, nonce=0, timestamp=1, config=2), "unknown_config")
    conflict = message("x", base.KEYS[0], 1, {**fix, "lat": fix["lat"] + 1}, nonce=0, timestamp=1764300000)
    refused("nonce_conflict", conflict, "nonce_conflict", after=[first["name"]])
    return bad


def resends(good: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same message twice is one message: 200 with the same id, whatever the JSON spacing."""
    first = good[0]
    spaced = json.dumps(json.loads(first["http"]["body"]), indent=1)
    return [
        {
            "name": "resend_same_bytes",
            "body": first["http"]["body"],
            "after": [first["name"]],
            "expect": {"status": 200, "body": {"id": first["id"], "status": "received"}},
        },
        {
            "name": "resend_reformatted",
            "body": spaced,
            "after": [first["name"]],
            "expect": {"status": 200, "body": {"id": first["id"], "status": "received"}},
        },
    ]


BINDING = [("project", "uint64"), ("device", "address"), ("owner", "address")]


def registration(
    name: str, key: str, project: int, owner: str, *, signed_owner: str | None = None, chain_id: int | None = None
) -> dict[str, Any]:
    """A registration request; ``signed_owner``/``chain_id`` make the signature cover something else (bad)."""
    device = Account.from_key(key).address
    values = {"project": project, "device": device, "owner": signed_owner or owner}
    entry: dict[str, Any] = {"name": name, "private_key": key, "project": project, "device": device, "owner": owner}
    if signed_owner is None and chain_id is None:
        details, signature = signed(key, "DeviceBinding", BINDING, values, domain_breakdown()["separator"])
        entry.update(details)
    else:
        domain = dict(base.DOMAIN, chainId=chain_id) if chain_id is not None else base.DOMAIN
        _, signature = base.sign_typed(key, base.typed_data(domain, "DeviceBinding", BINDING, values))
        entry["signature"] = signature_parts(signature)
    request = {"device": device, "owner": owner, "signature": hexstr(signature)}
    entry["http"] = {
        "method": "POST",
        "path": f"/v1/projects/{project}/devices",
        "body": json.dumps(request, separators=(",", ":")),
    }
    return entry


def registrations() -> list[dict[str, Any]]:
    owner = Account.from_key(base.OWNER_KEY).address
    other = Account.from_key(base.KEYS[1]).address
    new = registration("new_device", UNREGISTERED_KEY, 1, owner)
    new["expect"] = {"status": 202, "status_field": "submitted"}
    known = registration("already_registered", base.KEYS[0], 1, owner)
    known["expect"] = {"status": 200, "status_field": "registered"}
    original = base.binding_vector(base.KEYS[0], 1)
    assert known["signature"]["hex"] == original["signature"], "same binding as tests/vectors/messages.json"
    wrong_owner = registration("owner_not_signed", UNREGISTERED_KEY, 1, other, signed_owner=owner)
    wrong_chain = registration("other_chain", UNREGISTERED_KEY, 1, owner, chain_id=1)
    for entry in (wrong_owner, wrong_chain):
        entry["expect"] = {"status": 401, "code": "bad_signature"}
    return [new, known, wrong_owner, wrong_chain]


def build() -> dict[str, Any]:
    good = good_messages()
    devices = [
        {"project": 1, "device": Account.from_key(base.KEYS[0]).address},
        {"project": 1, "device": Account.from_key(base.KEYS[1]).address},
        {"project": 2, "device": Account.from_key(base.KEYS[0]).address},
        {"project": 3, "device": Account.from_key(base.KEYS[1]).address},
        {"project": U64_MAX, "device": Account.from_key(base.KEYS[2]).address},
    ]
    return {
        "about": "Device signing vectors for firmware authors (docs/signing.md, docs/protocol.md wire format 1). "
        "Made by scripts/vectors/device_messages.py with eth_account and eth_abi. Keys are anvil's public "
        "development keys: test only, never for real funds.",
        "domain": domain_breakdown(),
        "gateway": {
            "about": "The gateway state every expected outcome assumes: these projects and registered devices, a "
            "registrar for registrations, and nothing stored except the vectors listed in a vector's 'after'.",
            "projects": [{**p, "schema": [list(f) for f in p["schema"]]} for p in PROJECTS],
            "devices": devices,
        },
        "messages": good,
        "resends": resends(good),
        "bad": bad_messages(good),
        "registrations": registrations(),
    }


def main() -> int:
    return base.write_or_check(OUT, build(), "device_messages.py", __doc__)


if __name__ == "__main__":
    sys.exit(main())
