"""proofstream: verifiable off-chain compute for DePIN."""

__version__ = "0.1.0"
