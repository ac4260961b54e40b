"""The chain's half of a receipt check: the TaskManager is the deployment's the device signed for, and the task
the receipt names is its task, settled, with the receipt's root, covering the message's device, project, config
version and nonce. Trusts nothing but the RPC endpoint, this checkout's contracts and the device's signature.

Why the deployment check: the receipt (so the gateway) names the TaskManager, and a contract that merely answers
``getTask`` with a settled record proves nothing. The one address the gateway cannot choose is the DeviceRegistry
in the EIP-712 domain the device signed under; :func:`check_deployment` ties the TaskManager to it through code
and links that only a real deployment has.

The receipt's own consistency (signature, leaf, Merkle path, task id) is :func:`proofstream.domain.receipts.
verify_receipt`; :func:`verify_receipt_on_chain` runs both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from eth_account import Account
from eth_utils.crypto import keccak
from web3.exceptions import TransactionNotFound

from proofstream import logs as log
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.registries import DeviceRegistry
from proofstream.chain.contracts.router import Router
from proofstream.chain.contracts.tasks import TaskManager, TaskRecord, TaskStatus
from proofstream.chain.solc import CompilationResult, compile_core, is_instance
from proofstream.domain.receipts import Receipt, verify_receipt
from proofstream.domain.types import Address
from proofstream.errors import ChainError, ChainUnavailableError, ReceiptError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainVerdict:
    """A receipt that checked out against the chain."""

    receipt: Receipt
    task: TaskRecord
    router: Address
    """The Router of the deployment the device signed for, which settled the task."""


TASK_SETTLED_TOPIC = keccak(text="TaskSettled(uint256,address)")
"""topic 0 of Router's ``TaskSettled(uint256 indexed taskId, address indexed prover)``."""


def _mismatch(what: str) -> ReceiptError:
    return ReceiptError(what, code="deployment_mismatch")


def _check_code(client: ChainClient, address: str, contract: str, compilation: CompilationResult) -> None:
    if not is_instance(compilation.artifact(contract), client.code_at(address)):
        raise ReceiptError(
            f"the code at {address} is not proofstream's {contract} (this checkout's, whatever its immutables)",
            code="code_mismatch",
        )


def check_deployment(
    receipt: Receipt, tasks: TaskManager, client: ChainClient, compilation: CompilationResult
) -> Router:
    """Tie ``tasks`` to the DeviceRegistry the device signed for (``receipt.domain.verifyingContract``, which
    :func:`verify_receipt` checked the signature under) and return its Router; ReceiptError otherwise:
    ``code_mismatch`` (the TaskManager's or its Router's code is not this checkout's), ``deployment_mismatch``
    (the TaskManager has no Router, or the Router's ``taskManager``, ``devices`` or ``projects`` are not this
    TaskManager, that DeviceRegistry and the DeviceRegistry's ProjectRegistry, or the TaskManager's ``projects``
    is not that ProjectRegistry).

    Real code matters because a link is only an answer: a fake Router could name any registry. Real code with
    these links settles a task only after the verifier that ProjectRegistry names for the project accepted the
    proof, the Router having read the task from this TaskManager (``route``, ``markSettled``)."""
    registry = receipt.domain.verifying_contract
    _check_code(client, tasks.address, "TaskManager", compilation)
    router_address = tasks.router()
    if router_address is None:
        raise _mismatch(f"TaskManager {tasks.address} has no Router")
    _check_code(client, router_address, "Router", compilation)
    router = Router.at(client, router_address, compilation)
    try:
        projects = DeviceRegistry.at(client, registry, compilation).linked("projects")
    except ChainUnavailableError:
        raise
    except ChainError as exc:
        raise _mismatch(f"the device signed for DeviceRegistry {registry}, which answers no projects(): {exc}") from exc
    links = {
        f"Router {router.address}'s taskManager": (router.linked("taskManager"), tasks.address),
        f"Router {router.address}'s devices": (router.linked("devices"), registry),
        f"Router {router.address}'s projects": (router.linked("projects"), projects),
        f"TaskManager {tasks.address}'s projects": (tasks.linked("projects"), projects),
    }
    for what, (actual, expected) in links.items():
        if actual != expected:
            raise _mismatch(
                f"{what} is {actual}, not {expected} (the device signed for DeviceRegistry {registry}, whose "
                f"ProjectRegistry is {projects})"
            )
    return router


def check_task(
    receipt: Receipt, tasks: TaskManager, client: ChainClient, compilation: CompilationResult
) -> ChainVerdict:
    """Check ``tasks`` is the deployment's the device signed for (:func:`check_deployment`), then read
    ``TaskManager.getTask(receipt.task_id)`` and check it against the receipt; ReceiptError with the first
    failure's code otherwise: ``wrong_chain``, ``task_manager_mismatch``, those of :func:`check_deployment`,
    ``unknown_task``, ``root_mismatch``, ``device_mismatch``, ``project_mismatch``, ``config_mismatch``,
    ``nonce_out_of_range``, ``not_settled``, ``tx_not_found``, ``tx_failed``, ``not_settling_tx``. Call it on a
    receipt :func:`verify_receipt` accepted."""
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
    router = check_deployment(receipt, tasks, client, compilation)
    record = tasks.get_task(receipt.task_id)
    if record.status is TaskStatus.NONE:
        raise ReceiptError(f"TaskManager {tasks.address} has no task {receipt.task_id}", code="unknown_task")
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
        _check_transaction(client, receipt.tx_hash, router.address, receipt.task_id)
    return ChainVerdict(receipt, record, router.address)


def _check_transaction(client: ChainClient, tx_hash: str, router: Address, task: int) -> None:
    """``tx_hash`` is a successful transaction in which ``router`` emitted TaskSettled for ``task``."""
    try:
        tx = client.web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound as exc:
        raise ReceiptError(f"the chain has no transaction {tx_hash}", code="tx_not_found") from exc
    except (OSError, ValueError) as exc:
        raise ChainUnavailableError(f"cannot read transaction {tx_hash}: {exc}") from exc
    if tx["status"] != 1:
        raise ReceiptError(f"transaction {tx_hash} reverted", code="tx_failed")
    wanted = [TASK_SETTLED_TOPIC, task.to_bytes(32, "big")]
    if not any(
        entry["address"].lower() == router.lower() and [bytes(topic) for topic in entry["topics"][:2]] == wanted
        for entry in tx["logs"]
    ):
        raise ReceiptError(
            f"transaction {tx_hash} holds no TaskSettled of task {task} from Router {router}", code="not_settling_tx"
        )


def verify_receipt_on_chain(
    receipt: Receipt,
    rpc_url: str,
    *,
    task_manager: str | None = None,
    compilation: CompilationResult | None = None,
) -> ChainVerdict:
    """Check ``receipt`` by itself and against the chain at ``rpc_url``; ``task_manager`` overrides the
    receipt's TaskManager address. The ABIs and the code the deployment must run come from this checkout's
    contracts (compiled, cached)."""
    checked = verify_receipt(receipt, task_manager=task_manager)
    assert checked.task_manager is not None  # verify_receipt refuses a receipt without one
    client = ChainClient(rpc_url, Account.create())  # reads only: a throwaway account that never sends
    compiled = compilation or compile_core()
    tasks = TaskManager.at(client, checked.task_manager, compiled)
    verdict = check_task(checked, tasks, client, compiled)
    log.info(logger, "receipt verified", message=receipt.id, task=receipt.task_id, chain=receipt.chain_id)
    return verdict
