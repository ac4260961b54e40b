"""One exception root, one subclass per stage of the pipeline.

Adapters translate foreign errors (web3, sqlite3, subprocess, httpx) into these at their boundary with
``raise SomeError(...) from exc`` so callers never handle a library's exception types.
"""

from __future__ import annotations

from typing import Any


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


class StaleTaskError(StoreError):
    """A task update that found the task elsewhere than expected: another worker moved it first (``expect`` did not
    match), or the update would be an illegal transition from where it stands (``domain.tasks``). Checked inside
    the same write, so it is the one store error that means "someone else has it"."""

    code = "stale_task"


class ConflictError(StoreError):
    """A different message was already stored under the same (project, device, nonce)."""

    code = "nonce_conflict"


class ReceiptError(ProofstreamError):
    """A message receipt that is malformed or does not check out (against itself or the chain)."""

    code = "bad_receipt"


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


# --- Chain errors (raised by proofstream.chain; web3's exceptions never leave that package) -----------------


class ChainUnavailableError(ChainError):
    """The JSON-RPC node could not be reached, or did not answer in time: worth retrying later."""

    code = "chain_unavailable"


class TransactionRevertedError(ChainError):
    """A transaction or call reverted, either in simulation (``tx_hash`` None) or on chain.

    ``error_name`` and ``error_args`` are the decoded Solidity error (``"Error"`` with the message for
    ``require(cond, "msg")``, ``"Panic"`` with the code, or a custom error such as ``"NotSequencer"``), or
    None when the revert data matches no ABI the client knows; ``data`` is the raw revert data.
    """

    code = "tx_reverted"

    def __init__(
        self,
        message: str,
        *,
        error_name: str | None = None,
        error_args: tuple[Any, ...] = (),
        data: bytes = b"",
        tx_hash: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args = error_args
        self.data = data
        self.tx_hash = tx_hash
