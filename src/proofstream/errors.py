"""One exception root, one subclass per stage of the pipeline.

Adapters translate foreign errors (web3, sqlite3, subprocess, httpx) into these at their boundary with
``raise SomeError(...) from exc`` so callers never handle a library's exception types.
"""

from __future__ import annotations


class ProofstreamError(Exception):
    """Root of every error proofstream raises on purpose."""

    code: str = "error"
    """Machine-readable code, stable across versions (used in HTTP error bodies and CLI output)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(ProofstreamError, ValueError):
    """Settings or a project config that cannot be used."""

    code = "config_error"


class MessageError(ProofstreamError, ValueError):
    """A device message that is malformed, badly signed or not admissible."""

    code = "invalid_message"


class StoreError(ProofstreamError):
    """The store could not read or write."""

    code = "store_error"


class ConflictError(StoreError):
    """A different message was already stored under the same (project, device, nonce)."""

    code = "nonce_conflict"


class CircuitError(ProofstreamError):
    """A circuit failed to compile, set up, or produce a witness."""

    code = "circuit_error"


class ProverError(ProofstreamError):
    """Proving failed (witness does not satisfy the constraints, snarkjs failed, ...)."""

    code = "prover_error"


class ChainError(ProofstreamError):
    """The chain refused or failed a call or transaction."""

    code = "chain_error"


class ToolchainError(ProofstreamError):
    """A required external tool (node, snarkjs, circom2, solc, anvil) is missing or failed."""

    code = "toolchain_error"
