"""The chain's half of a receipt check: the task the receipt names is TaskManager's, settled, with the receipt's
root, and covers the message's device, project, config version and nonce. Trusts nothing but the RPC endpoint
(and the TaskManager address the verifier gives or accepts from the receipt).

The receipt's own consistency (signature, leaf, Merkle path, task id) is :func:`proofstream.domain.receipts.
verify_receipt`; :func:`verify_receipt_on_chain` runs both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from eth_account import Account
from web3.exceptions import TransactionNotFound

from proofstream import logs as log
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.tasks import TaskManager, TaskRecord, TaskStatus
from proofstream.chain.solc import CompilationResult, compile_core
from proofstream.domain.receipts import Receipt, verify_receipt
from proofstream.errors import ChainUnavailableError, ReceiptError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainVerdict:
    """A receipt that checked out against the chain."""

    receipt: Receipt
    task: TaskRecord


def check_task(receipt: Receipt, tasks: TaskManager, client: ChainClient) -> ChainVerdict:
    """Read the task's record (its events, checked with ``TaskManager.recordMatches``) and check it against the
    receipt; ReceiptError with the first
    failure's code otherwise: ``wrong_chain``, ``task_manager_mismatch``, ``unknown_task``, ``root_mismatch``,
    ``device_mismatch``, ``project_mismatch``, ``config_mismatch``, ``nonce_out_of_range``, ``not_settled``,
    ``tx_not_found``, ``tx_failed``. Call it on a receipt :func:`verify_receipt` accepted."""
    message = receipt.message
    if client.chain_id != receipt.chain_id:
        raise ReceiptError(
            f"the RPC endpoint serves chain {client.chain_id}, the receipt is for chain {receipt.chain_id}",
            code="wrong_chain",
        )
    if receipt.task_manager is not None and receipt.task_manager.lower() != tasks.address.lower():
        raise ReceiptError(
            f"the receipt names TaskManager {receipt.task_manager}, not {tasks.address}", code="task_manager_mismatch"
        )
    if tasks.status_of(receipt.task_id) is TaskStatus.NONE:
        raise ReceiptError(f"TaskManager {tasks.address} has no task {receipt.task_id}", code="unknown_task")
    # The fields come from the task's events, checked against the record hash TaskManager stores.
    record = tasks.get_task(receipt.task_id)
    if record.root != receipt.root:
        raise ReceiptError(
            f"task {receipt.task_id} has root {record.root} on chain, the receipt says {receipt.root}",
            code="root_mismatch",
        )
    if record.device.lower() != message.device.lower():
        raise ReceiptError(
            f"task {receipt.task_id} is device {record.device}'s, not {message.device}'s", code="device_mismatch"
        )
    if record.project != message.project:
        raise ReceiptError(
            f"task {receipt.task_id} is of project {record.project}, the message of {message.project}",
            code="project_mismatch",
        )
    if record.config != message.config:
        raise ReceiptError(
            f"task {receipt.task_id} is under config version {record.config}, the message under {message.config}",
            code="config_mismatch",
        )
    if not record.first_nonce <= message.nonce <= record.last_nonce or (
        (record.first_nonce, record.last_nonce) != (receipt.first_nonce, receipt.last_nonce)
    ):
        raise ReceiptError(
            f"task {receipt.task_id} covers nonces {record.first_nonce}..{record.last_nonce} on chain; the message "
            f"has nonce {message.nonce} and the receipt says {receipt.first_nonce}..{receipt.last_nonce}",
            code="nonce_out_of_range",
        )
    if record.status is not TaskStatus.SETTLED:
        raise ReceiptError(
            f"task {receipt.task_id} is {record.status.name.lower()} on chain, not settled", code="not_settled"
        )
    if receipt.tx_hash is not None:
        _check_transaction(client, receipt.tx_hash)
    return ChainVerdict(receipt, record)


def _check_transaction(client: ChainClient, tx_hash: str) -> None:
    try:
        tx = client.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound as exc:
        raise ReceiptError(f"the chain has no transaction {tx_hash}", code="tx_not_found") from exc
    except (OSError, ValueError) as exc:
        raise ChainUnavailableError(f"cannot read transaction {tx_hash}: {exc}") from exc
    if tx["status"] != 1:
        raise ReceiptError(f"transaction {tx_hash} reverted", code="tx_failed")


def verify_receipt_on_chain(
    receipt: Receipt,
    rpc_url: str,
    *,
    task_manager: str | None = None,
    compilation: CompilationResult | None = None,
) -> ChainVerdict:
    """Check ``receipt`` by itself and against the chain at ``rpc_url``; ``task_manager`` overrides the
    receipt's TaskManager address. The TaskManager ABI comes from this checkout's contracts (compiled, cached)."""
    checked = verify_receipt(receipt, task_manager=task_manager)
    assert checked.task_manager is not None  # verify_receipt refuses a receipt without one
    client = ChainClient(rpc_url, Account.create())  # reads only: a throwaway account that never sends
    tasks = TaskManager.at(client, checked.task_manager, compilation or compile_core())
    verdict = check_task(checked, tasks, client)
    log.info(logger, "receipt verified", message=receipt.id, task=receipt.task_id, chain=receipt.chain_id)
    return verdict
