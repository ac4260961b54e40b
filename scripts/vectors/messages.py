"""Generate tests/vectors/messages.json: golden device-message and device-binding vectors.

Independent of proofstream's own code on purpose: the EIP-712 digests and the signatures come from eth_account
(its own typed-data encoder and eth_keys signer), and the JSON bodies are written here from docs/protocol.md.
The tests then check proofstream's implementation against this file.

The keys are anvil's well-known development keys: local test keys only, never for real funds.

    .venv/bin/python scripts/vectors/messages.py            # rewrite the file
    .venv/bin/python scripts/vectors/messages.py --check    # fail if the file is not what this script makes
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

OUT = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "messages.json"

KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
]
OWNER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
"""anvil account 3: the owner the device bindings name."""

DOMAIN = {
    "name": "proofstream",
    "version": "1",
    "chainId": 31337,
    "verifyingContract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
}
DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
HEADER = [
    ("version", "uint8"),
    ("project", "uint64"),
    ("config", "uint32"),
    ("device", "address"),
    ("nonce", "uint64"),
    ("timestamp", "uint64"),
]
PAYLOAD = [("lat", "uint32"), ("lon", "uint32")]
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
U64_MAX = 2**64 - 1


def typed_data(domain: dict[str, Any], primary: str, fields: list[tuple[str, str]], message: dict[str, Any]) -> Any:
    return encode_typed_data(
        full_message={
            "types": {"EIP712Domain": DOMAIN_TYPE, primary: [{"name": n, "type": t} for n, t in fields]},
            "primaryType": primary,
            "domain": domain,
            "message": message,
        }
    )


def sign_typed(key: str, signable: Any) -> tuple[bytes, bytes]:
    """``(digest, signature)`` as eth_account computes them."""
    signed = Account.sign_message(signable, private_key=key)
    assert Account.recover_message(signable, signature=signed.signature) == Account.from_key(key).address
    return bytes(signed.message_hash), bytes(signed.signature)


def sign(key: str, digest: bytes) -> bytes:
    return bytes(Account.from_key(key).unsafe_sign_hash(digest).signature)


def body(flat: dict[str, Any], signature: bytes) -> str:
    """The JSON body exactly as docs/protocol.md writes it: protocol key order, no spaces."""
    obj = {name: flat[name] for name, _ in HEADER}
    obj["payload"] = {name: flat[name] for name, _ in PAYLOAD}
    obj["signature"] = "0x" + signature.hex()
    return json.dumps(obj, separators=(",", ":"))


def flat_message(key: str, nonce: int, timestamp: int, lat: int, lon: int, project: int = 1) -> dict[str, Any]:
    return {
        "version": 1,
        "project": project,
        "config": 1,
        "device": Account.from_key(key).address,
        "nonce": nonce,
        "timestamp": timestamp,
        "lat": lat,
        "lon": lon,
    }


def valid_vector(name: str, key: str, flat: dict[str, Any]) -> dict[str, Any]:
    digest, signature = sign_typed(key, typed_data(DOMAIN, "Message", HEADER + PAYLOAD, flat))
    return {
        "name": name,
        "key": key,
        "address": flat["device"],
        "message": flat,
        "digest": "0x" + digest.hex(),
        "signature": "0x" + signature.hex(),
        "id": "0x" + keccak(digest).hex(),
        "body": body(flat, signature),
    }


def bad_vectors(base: dict[str, Any]) -> list[dict[str, Any]]:
    flat = dict(base["message"])
    key = base["key"]
    signature = bytes.fromhex(base["signature"][2:])
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    bad: list[dict[str, Any]] = []

    def add(name: str, text: str, error: str) -> None:
        bad.append({"name": name, "body": text, "error": error})

    def add_raw(name: str, raw: bytes, error: str) -> None:
        bad.append({"name": name, "body_hex": raw.hex(), "error": error})

    # Signature-level failures: every one must be refused with bad_signature.
    add("garbage_signature", body(flat, bytes([0x11] * 32 + [0x22] * 32 + [27])), "bad_signature")
    add("wrong_signer", body(flat, sign(KEYS[1], bytes.fromhex(base["digest"][2:]))), "bad_signature")
    high_s = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # same point, the other s and parity
    add("high_s", body(flat, high_s), "bad_signature")
    add("v_not_27_or_28", body(flat, signature[:64] + bytes([v - 27])), "bad_signature")
    tampered = dict(flat, lat=flat["lat"] + 1)
    add("tampered_field", body(tampered, signature), "bad_signature")
    for name, domain in (
        ("wrong_chain_id", dict(DOMAIN, chainId=1)),
        ("wrong_contract", dict(DOMAIN, verifyingContract="0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")),
        ("wrong_domain_name", dict(DOMAIN, name="w3bstream")),
    ):
        _, other = sign_typed(key, typed_data(domain, "Message", HEADER + PAYLOAD, flat))
        add(name, body(flat, other), "bad_signature")

    # Malformed bodies.
    good = base["body"]
    obj = json.loads(good)
    add("not_json", good[:-1], "invalid_json")
    add_raw("not_utf8", good.encode().replace(b'"payload"', b'"p\xffyload"'), "invalid_json")
    add("nan", good.replace('"nonce":' + str(flat["nonce"]), '"nonce":NaN'), "invalid_json")
    add("duplicate_key", good[:-1] + ',"nonce":' + str(flat["nonce"] + 1) + "}", "invalid_json")
    add("not_an_object", json.dumps([obj]), "schema_mismatch")
    add("extra_key", json.dumps({**obj, "extra": 1}, separators=(",", ":")), "schema_mismatch")
    add("missing_key", json.dumps({k: v for k, v in obj.items() if k != "timestamp"}), "schema_mismatch")
    payload = obj["payload"]

    def with_payload(new: object) -> str:
        return json.dumps({**obj, "payload": new})

    add("extra_payload_key", with_payload({**payload, "alt": 3}), "schema_mismatch")
    add("missing_payload_key", with_payload({"lat": payload["lat"]}), "schema_mismatch")
    add("payload_not_object", with_payload([1, 2]), "schema_mismatch")
    add("lat_out_of_range", with_payload({**payload, "lat": 2**32}), "invalid_field")
    add("lat_negative", with_payload({**payload, "lat": -1}), "invalid_field")
    add("lat_string", with_payload({**payload, "lat": str(payload["lat"])}), "invalid_field")
    add("lat_float", with_payload({**payload, "lat": payload["lat"] + 0.5}), "invalid_field")
    add("nonce_bool", json.dumps({**obj, "nonce": True}), "invalid_field")
    add("nonce_over_uint64", json.dumps({**obj, "nonce": 2**64}), "invalid_field")
    add("device_bad_hex", json.dumps({**obj, "device": "0x" + "zz" * 20}), "invalid_field")
    add("device_short", json.dumps({**obj, "device": obj["device"][:-2]}), "invalid_field")
    add(
        "signature_short", json.dumps({**obj, "signature": obj["signature"][:-4]}), "invalid_field"
    )  # 63 bytes: 64 is a P-256 r || s
    add("signature_bad_hex", json.dumps({**obj, "signature": "0x" + "g" * 130}), "invalid_field")
    add("version_2", json.dumps({**obj, "version": 2}), "unsupported_version")
    return bad


def binding_vector(key: str, project: int) -> dict[str, Any]:
    device = Account.from_key(key).address
    owner = Account.from_key(OWNER_KEY).address
    fields = [("project", "uint64"), ("device", "address"), ("owner", "address")]
    message = {"project": project, "device": device, "owner": owner}
    digest, signature = sign_typed(key, typed_data(DOMAIN, "DeviceBinding", fields, message))
    return {
        "key": key,
        "message": message,
        "digest": "0x" + digest.hex(),
        "signature": "0x" + signature.hex(),
    }


def build() -> dict[str, Any]:
    valid = [
        valid_vector("tracker_first", KEYS[0], flat_message(KEYS[0], 0, 1764300000, 142345678, 193456789)),
        valid_vector("tracker_edges_low", KEYS[1], flat_message(KEYS[1], 7, 0, 0, 0)),
        valid_vector(
            "tracker_edges_high",
            KEYS[2],
            flat_message(KEYS[2], U64_MAX, U64_MAX, 180_000_000, 360_000_000, project=U64_MAX),
        ),
    ]
    return {
        "about": "Golden device-message vectors (docs/protocol.md, wire format 1). Made by "
        "scripts/vectors/messages.py with eth_account; keys are anvil's public dev keys (test only).",
        "domain": DOMAIN,
        "primary_type": "Message",
        "fields": [[n, t] for n, t in HEADER + PAYLOAD],
        "payload": [[n, t] for n, t in PAYLOAD],
        "valid": valid,
        "bad": bad_vectors(valid[0]),
        "bindings": [binding_vector(KEYS[0], 1), binding_vector(KEYS[2], U64_MAX)],
    }


def write_or_check(out: Path, document: Any, script: str, doc: str | None) -> int:
    """The vector scripts' command line: write ``document`` to ``out``, or with --check compare with it."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--check", action="store_true", help="compare with the file, do not write")
    args = parser.parse_args()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.check:
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{out} is stale: rerun scripts/vectors/{script}\n")
            return 1
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {out}\n")
    return 0


def main() -> int:
    return write_or_check(OUT, build(), "messages.py", __doc__)


if __name__ == "__main__":
    sys.exit(main())
