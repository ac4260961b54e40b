"""``proofstream receipt verify FILE --rpc URL [--task-manager ADDR]``: check a message receipt
(``GET /messages/{id}/receipt``, docs/protocol.md "Receipts") alone, trusting no gateway: the device's signature,
the leaf recomputed from the message, the Merkle path to the root, the task id; on chain that the TaskManager and
its Router run proofstream's code and belong to the DeviceRegistry the device signed for, the task's root, status
(settled), device, project, config version and nonce range, and that the settling transaction holds the Router's
TaskSettled of the task.

Prints ``OK ...`` and exits 0, or prints the failure (its code first) and exits 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from proofstream.cli.output import fail

__all__ = ["receipt_app"]

receipt_app = typer.Typer(no_args_is_help=True, help="Message receipts: check one alone, against the chain.")


@receipt_app.callback()
def _group() -> None:
    """Message receipts: check one alone, against the chain."""
    # A callback keeps `verify` a sub-command even while it is the only one.


@receipt_app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="the receipt JSON (GET /messages/{id}/receipt)")],
    rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of the chain the task was settled on")],
    task_manager: Annotated[
        str | None,
        typer.Option("--task-manager", help="TaskManager address to trust instead of the receipt's"),
    ] = None,
) -> None:
    """Check a receipt by itself and against the chain; exit non-zero with the reason when it does not hold."""
    from proofstream.chain.receipts import verify_receipt_on_chain
    from proofstream.domain.receipts import parse_receipt
    from proofstream.errors import ProofstreamError, ReceiptError

    try:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ReceiptError(f"cannot read {file}: {exc.strerror}", code="receipt_malformed") from exc
        except ValueError as exc:
            raise ReceiptError(f"{file} is not JSON: {exc}", code="receipt_malformed") from exc
        verdict = verify_receipt_on_chain(parse_receipt(data), rpc, task_manager=task_manager)
    except ProofstreamError as exc:
        raise fail(exc) from exc
    receipt = verdict.receipt
    message = receipt.message
    typer.echo(
        f"OK message {receipt.id} (device {message.device}, project {message.project}, nonce {message.nonce}) "
        f"is leaf {receipt.leaf_index} of task {receipt.task_id}, settled on chain {receipt.chain_id} "
        f"with root {receipt.root}"
    )
