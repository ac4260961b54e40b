"""Generate tests/vectors/w3bstream.json: golden W3bStream v0.25 task vectors (POST /v1/task).

Independent of proofstream's own code on purpose: the signed bytes are written here from go-ethereum's and Go's
encoding/json rules as docs/protocol.md states them (field order nonce, projectID, projectVersion (omitted when
empty), payload; a JSON payload compacted with <, > and & escaped as \\u003c, \\u003e, \\u0026; a byte payload as
lower-case hex), and the signatures come from eth_keys (go-ethereum's crypto.Sign: r || s || v, low s, v dropped
for the 64-byte W3bStream signature). The tests then check proofstream's implementation against this file.

The keys are anvil's well-known development keys: local test keys only, never for real funds.

    .venv/bin/python scripts/vectors/w3bstream.py            # rewrite the file
    .venv/bin/python scripts/vectors/w3bstream.py --check    # fail if the file is not what this script makes
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak

OUT = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "w3bstream.json"
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def go_marshal_raw(value: Any) -> str:
    """Go's json.Marshal of a json.RawMessage holding ``value`` written without spaces: compact, HTML-escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def signed(nonce: int, project: str, version: str, payload: str) -> bytes:
    version_part = f',"projectVersion":"{version}"' if version else ""
    return f'{{"nonce":{nonce},"projectID":"{project}"{version_part},"payload":{payload}}}'.encode()


def vector(
    name: str,
    nonce: int,
    project: str,
    version: str,
    *,
    payload: Any = None,
    hex_payload: bytes | None = None,
    sent_payload: str | None = None,
    signed_keys: tuple[str, ...] = (),
    high_s: bool = False,
) -> dict[str, Any]:
    if hex_payload is not None:
        marshalled, sent = f'"{hex_payload.hex()}"', f'"{hex_payload.hex().upper()}"'
    else:
        marshalled = go_marshal_raw(payload)
        sent = sent_payload if sent_payload is not None else json.dumps(payload)
    data = signed(nonce, project, version, marshalled)
    first = hashlib.sha256(data).digest()
    final = first
    if signed_keys:
        tail = b"".join(int(payload[k]).to_bytes(8, "little") for k in signed_keys)
        final = hashlib.sha256(first + tail).digest()
    key = PrivateKey(bytes.fromhex(KEY[2:]))
    sig = key.sign_msg_hash(final)
    r, s = sig.r, sig.s
    if high_s:
        s = N - s
    signature = "0x" + r.to_bytes(32, "big").hex() + s.to_bytes(32, "big").hex()
    version_part = f', "projectVersion": "{version}"' if version else ""
    body = (
        f'{{"nonce": {nonce}, "projectID": "{project}"{version_part}, "payload": {sent}, "signature": "{signature}"}}'
    )
    return {
        "name": name,
        "key": KEY,
        "address": key.public_key.to_checksum_address(),
        "signed_keys": list(signed_keys),
        "body": body,
        "signed": data.decode(),
        "hash": "0x" + first.hex(),
        "digest": "0x" + final.hex(),
        "id": "0x" + keccak(final).hex(),
    }


def build() -> dict[str, Any]:
    fix = {"lat": 123_456_789, "lon": 200_000_000, "timestamp": 1_764_300_000}
    return {
        "description": __doc__.split("\n\n")[0],
        "project": "1",
        "vectors": [
            vector("json payload, version 1", 5, "1", "1", payload=fix),
            vector(
                "json payload with spaces and an escaped note, no version, signed keys",
                6,
                "1",
                "",
                payload={**fix, "timestamp": 1_764_300_001, "note": "a<b & c>d"},
                sent_payload='{ "lat": 123456789,\n  "lon": 200000000, "timestamp": 1764300001, "note": "a<b & c>d" }',
                signed_keys=("timestamp",),
            ),
            vector(
                "hex payload: timestamp, lat, lon packed big-endian",
                7,
                "1",
                "1",
                hex_payload=(1_764_300_002).to_bytes(8, "big")
                + (123_456_790).to_bytes(4, "big")
                + (200_000_001).to_bytes(4, "big"),
            ),
            vector("high-s twin of the first", 5, "1", "1", payload=fix, high_s=True),
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = json.dumps(build(), indent=2) + "\n"
    if args.check:
        if OUT.read_text() != text:
            print(f"{OUT} is not what {__file__} makes", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
