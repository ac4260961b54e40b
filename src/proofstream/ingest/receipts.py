"""A message's receipt as the gateway answers it: the message, its Merkle path in its task and the task's
record, from the store (docs/protocol.md, "Receipts")."""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from proofstream import logs as log
from proofstream.domain.merkle import MAX_DEPTH, MerkleTree, build_tree
from proofstream.domain.messages import message_leaf
from proofstream.domain.receipts import build_receipt
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import MessageId
from proofstream.ingest.errors import error_response
from proofstream.store.ports import Store

logger = logging.getLogger(__name__)


def _tree_with_root(leaves: list[int], root: int) -> MerkleTree | None:
    """The tree over ``leaves`` whose root is ``root``: the store keeps the root, not the circuit's depth, and the
    depth is the one that reproduces the recorded root (from the smallest that holds the leaves)."""
    smallest = max(0, (len(leaves) - 1).bit_length())
    for depth in range(smallest, MAX_DEPTH + 1):
        tree = build_tree(leaves, depth)
        if tree.root == root:
            return tree
    return None


def receipt_response(store: Store, message_id: MessageId, task_manager: str | None) -> JSONResponse:
    stored = store.get_message(message_id)
    if stored is None:
        return error_response("unknown_message", f"no message {message_id}", 404)
    task = None if stored.task_id is None else store.get_task(stored.task_id)
    if task is None or stored.leaf_index is None:
        return error_response(
            "not_batched", f"message {message_id} is in no task yet: ask again once its status is batched", 409
        )
    messages = store.task_messages(task.id)
    tree = _tree_with_root([message_leaf(task.project, m.message) for m in messages], task.root)
    config = store.get_project(task.project, task.config)
    if tree is None or config is None:
        log.error(logger, "no receipt: the stored leaves do not give the task root", message=message_id, task=task.id)
        return error_response("receipt_unavailable", f"task {task.id} of this gateway is inconsistent", 500)
    receipt = build_receipt(
        message_id_=message_id,
        message=stored.message,
        domain=config.domain,
        leaf_index=stored.leaf_index,
        path=tree.inclusion_proof(stored.leaf_index).siblings,
        task=task.id,
        first_nonce=task.first_nonce,
        last_nonce=task.last_nonce,
        root=task.root,
        task_manager=task_manager,
        tx_hash=task.route_tx if task.status is TaskStatus.SETTLED else None,
        public_key=store.device_key(task.project, task.device),
        envelope=stored.envelope,
    )
    return JSONResponse(receipt.to_json())
