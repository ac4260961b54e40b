"""Finding the message behind a device's anchor among the stored ones (domain/anchor.py).

The chain keeps only the anchor's timestamp and leaf; a task whose circuit (or attester) reads the previous message
needs the message itself. It is the last message of one of the device's earlier tasks, normally the one right
before: the prover and the attester both look it up here, each deciding with its own ``is_anchor`` what counts (the
attester reads the message again under its own schema before comparing leaves).
"""

from __future__ import annotations

from collections.abc import Callable

from proofstream.domain.types import Address, Nonce, ProjectId
from proofstream.store.ports import Store, StoredMessage

__all__ = ["ANCHOR_SEARCH_TASKS", "find_anchor_message"]

ANCHOR_SEARCH_TASKS = 16
"""How many of the device's earlier tasks are searched (normally the first one holds it)."""


def find_anchor_message(
    store: Store, project: ProjectId, device: Address, before: Nonce, is_anchor: Callable[[StoredMessage], bool]
) -> StoredMessage | None:
    """The last message of the nearest of the device's tasks below nonce ``before`` for which ``is_anchor`` holds,
    or None."""
    first_nonce = before
    for _ in range(ANCHOR_SEARCH_TASKS):
        previous = store.previous_task(project, device, first_nonce)
        if previous is None:
            return None
        messages = store.task_messages(previous.id)
        if messages and is_anchor(messages[-1]):
            return messages[-1]
        first_nonce = previous.first_nonce
    return None
