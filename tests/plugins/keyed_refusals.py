"""The refusals every key type's gateway test shows: a message is stored only when the key registered for its
device signed exactly it. tests/p256 and tests/signatures run these cases with their own key and forgery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REFUSALS = [
    ("forged", 401, "bad_signature"),
    ("tampered payload", 401, "bad_signature"),
    ("other key", 401, "bad_signature"),
    ("unregistered device", 403, "unknown_device"),
    ("signature of another key type on a secp256k1 device", 401, "bad_signature"),
]
"""(case, HTTP status, error code)."""

Sign = Callable[[Any, int], dict[str, Any]]
"""(key, nonce) -> a signed message body."""


def refused_body(
    case: str, sign: Sign, key: Any, unregistered: Any, secp_device: str, forge: Callable[[bytes], bytes]
) -> dict[str, Any]:
    """``key``'s message broken the way ``case`` says; ``forge`` turns its signature into one that must not verify."""
    sent = sign(key, 1)
    if case == "forged":
        sent["signature"] = "0x" + forge(bytes.fromhex(sent["signature"][2:])).hex()
    elif case == "tampered payload":
        sent["payload"]["lat"] += 1
    elif case == "other key":
        sent["signature"] = sign(unregistered, 1)["signature"]
    elif case == "unregistered device":
        sent = sign(unregistered, 1)
    else:
        sent = dict(sent, device=secp_device)
    return sent
