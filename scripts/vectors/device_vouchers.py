"""Generate docs/vectors/device-vouchers.json: the EIP-712 DeviceVoucher (signed by the project owner or a
manufacturer) and DevicePermit (signed by the device) with every intermediate value, the registration bodies that
carry them, and bad cases with the gateway's expected answer.

Independent of proofstream's own code on purpose, like messages.py (whose domain, keys and helpers it reuses):
digests and signatures come from eth_account's EIP-712, the member encodings from eth_abi, and this script checks
that the two agree. docs/signing.md ("Vouchers") walks through the first vector; tests/vectors/
test_voucher_vectors.py checks proofstream's digests, its SDK and its gateway against this file.

The keys are anvil's well-known development keys: local test keys only, never for real funds.

    .venv/bin/python scripts/vectors/device_vouchers.py            # rewrite the file
    .venv/bin/python scripts/vectors/device_vouchers.py --check    # fail if the file is not what this script makes
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent))
import messages as base  # the sibling generator: one source for the domain and the helpers

OUT = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "device-vouchers.json"

MANUFACTURER_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"
"""anvil account 6: the manufacturer the project owner registered."""
DEVICE_KEY = "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"
"""anvil account 7: a device new to the project."""
OWNER = Account.from_key(base.OWNER_KEY).address
ZERO = "0x" + "00" * 20
GATEWAY_NOW = 1764300000
"""The gateway's clock in the HTTP cases (unix seconds)."""
EXPIRY = GATEWAY_NOW + 3600
MEMBERS = [
    ("project", "uint64"),
    ("device", "address"),
    ("owner", "address"),
    ("nonce", "uint64"),
    ("expiry", "uint64"),
]


def struct(primary: str, key: str, message: dict[str, Any], domain: dict[str, Any] = base.DOMAIN) -> dict[str, Any]:
    """One signed struct, step by step, after checking eth_abi's breakdown against eth_account's digest."""
    type_string = f"{primary}({','.join(f'{t} {n}' for n, t in MEMBERS)})"
    encoded = {n: encode([t], [message[n]]) for n, t in MEMBERS}
    struct_hash = keccak(keccak(text=type_string) + b"".join(encoded.values()))
    digest, signature = base.sign_typed(key, base.typed_data(domain, primary, MEMBERS, message))
    assert digest == keccak(b"\x19\x01" + separator(domain) + struct_hash)
    return {
        "signer": Account.from_key(key).address,
        "key": key,
        "message": message,
        "type_string": type_string,
        "type_hash": "0x" + keccak(text=type_string).hex(),
        "encoded": {n: "0x" + e.hex() for n, e in encoded.items()},
        "struct_hash": "0x" + struct_hash.hex(),
        "digest": "0x" + digest.hex(),
        "signature": "0x" + signature.hex(),
        "r": "0x" + signature[:32].hex(),
        "s": "0x" + signature[32:64].hex(),
        "v": signature[64],
    }


def separator(domain: dict[str, Any]) -> bytes:
    type_hash = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    return keccak(
        type_hash
        + keccak(text=domain["name"])
        + keccak(text=domain["version"])
        + encode(["uint256", "address"], [domain["chainId"], domain["verifyingContract"]])
    )


def terms(project: int = 1, owner: str = ZERO, nonce: int = 1, expiry: int = EXPIRY) -> dict[str, Any]:
    device = Account.from_key(DEVICE_KEY).address
    return {"project": project, "device": device, "owner": owner, "nonce": nonce, "expiry": expiry}


def voucher_json(signed: dict[str, Any]) -> dict[str, Any]:
    m = signed["message"]
    body: dict[str, Any] = {"issuer": signed["signer"], "nonce": m["nonce"], "expiry": m["expiry"]}
    if int(m["owner"], 16):
        body["owner"] = m["owner"]
    return {**body, "signature": signed["signature"]}


def with_permit(voucher: dict[str, Any], permit: dict[str, Any]) -> dict[str, Any]:
    m = permit["message"]
    return {
        "device": m["device"],
        "owner": m["owner"],
        "signature": permit["signature"],
        "nonce": m["nonce"],
        "expiry": m["expiry"],
        "voucher": voucher_json(voucher),
    }


def build() -> dict[str, Any]:
    voucher = struct("DeviceVoucher", MANUFACTURER_KEY, terms(nonce=1))
    permit = struct("DevicePermit", DEVICE_KEY, terms(owner=OWNER, nonce=7))
    named = struct("DeviceVoucher", MANUFACTURER_KEY, terms(owner=OWNER, nonce=2))
    alone = {"device": named["message"]["device"], "owner": OWNER, "voucher": voucher_json(named)}
    other_project = struct("DeviceVoucher", MANUFACTURER_KEY, terms(project=2, nonce=3))
    other_chain = struct("DeviceVoucher", MANUFACTURER_KEY, terms(nonce=4), {**base.DOMAIN, "chainId": 1})
    expired = struct("DeviceVoucher", MANUFACTURER_KEY, terms(nonce=5, expiry=GATEWAY_NOW - 1))
    impostor_permit = struct("DevicePermit", MANUFACTURER_KEY, {**terms(owner=OWNER, nonce=7)})
    tampered = with_permit(voucher, permit)
    tampered["voucher"] = {**tampered["voucher"], "nonce": 9}
    return {
        "about": "Golden voucher vectors (docs/signing.md, 'Vouchers'). Made by scripts/vectors/device_vouchers.py "
        "with eth_account; keys are anvil's public dev keys (test only).",
        "domain": base.DOMAIN,
        "domain_separator": "0x" + separator(base.DOMAIN).hex(),
        "gateway": {"now": GATEWAY_NOW, "project": 1, "issuers": [voucher["signer"]]},
        "voucher": voucher,
        "permit": permit,
        "voucher_naming_owner": named,
        "requests": [
            {"name": "voucher_and_permit", "body": with_permit(voucher, permit), "expect": 202},
            {"name": "voucher_alone", "body": alone, "expect": 202},
        ],
        "bad": [
            {"name": "other_project", "body": with_permit(other_project, permit), "error": "bad_voucher"},
            {"name": "other_chain", "body": with_permit(other_chain, permit), "error": "bad_voucher"},
            {"name": "tampered_nonce", "body": tampered, "error": "bad_voucher"},
            {"name": "expired", "body": with_permit(expired, permit), "error": "voucher_expired"},
            {"name": "permit_by_another_key", "body": with_permit(voucher, impostor_permit), "error": "bad_signature"},
            {
                "name": "alone_without_owner",
                "body": {"device": alone["device"], "owner": OWNER, "voucher": voucher_json(voucher)},
                "error": "schema_mismatch",
            },
        ],
    }


def main() -> int:
    return base.write_or_check(OUT, build(), "device_vouchers.py", __doc__)


if __name__ == "__main__":
    sys.exit(main())
