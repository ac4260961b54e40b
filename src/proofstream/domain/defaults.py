"""The defaults both sides of the wire must agree on, in the one place the light device SDK can import too."""

from __future__ import annotations

LOCAL_CHAIN_ID = 31337
"""anvil's chain id: the one a local chain proofstream starts has. It is part of every EIP-712 domain and task
id; it is never a reason to trust a chain (anyone can run one with this id)."""

GATEWAY_HOST = "127.0.0.1"
GATEWAY_PORT = 10545
"""Where ``proofstream node`` listens unless ``gateway.port`` says otherwise, and where the device SDK and CLI
look by default."""
