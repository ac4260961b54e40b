"""Finding the message behind a device's anchor among the stored ones (domain/anchor.py).

The chain keeps only the anchor's timestamp and leaf; a task whose circuit (or attester) reads the previous message
needs the message itself. It is the last message of one of the device's earlier tasks, normally the one right
before: the prover and the attester both look it up here, each deciding with its own ``is_anchor`` what counts (the
attester reads the message again under its own schema before comparing leaves).

Chained proving (prover/service.py) also asks which earlier task a task's anchor will come from while the chain
does not hold it yet: the nearest earlier task still on its way (``unfinished_before``), whose last message is the
anchor it leaves when it verifies (``anchor_left_by``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from proofstream.domain.anchor import Anchor
from proofstream.domain.messages import message_leaf
from proofstream.domain.tasks import FINAL, TaskStatus
from proofstream.domain.types import Address, Nonce, ProjectId
from proofstream.store.ports import Store, StoredMessage, TaskRow

__all__ = ["ANCHOR_SEARCH_TASKS", "anchor_left_by", "find_anchor_message", "unfinished_before"]

ANCHOR_SEARCH_TASKS = 16
"""How many of the device's earlier tasks are searched (normally the first one holds it)."""


def find_anchor_message(
    store: Store, project: ProjectId, device: Address, before: Nonce, is_anchor: Callable[[StoredMessage], bool]
) -> StoredMessage | None:
    """The last message of the nearest of the device's tasks below nonce ``before`` for which ``is_anchor`` holds,
    or None."""
    for previous in _earlier_tasks(store, project, device, before):
        messages = store.task_messages(previous.id)
        if messages and is_anchor(messages[-1]):
            return messages[-1]
    return None


def _earlier_tasks(store: Store, project: ProjectId, device: Address, before: Nonce) -> Iterator[TaskRow]:
    """The device's tasks below nonce ``before``, nearest first, at most :data:`ANCHOR_SEARCH_TASKS` of them."""
    first_nonce = before
    for _ in range(ANCHOR_SEARCH_TASKS):
        previous = store.previous_task(project, device, first_nonce)
        if previous is None:
            return
        yield previous
        first_nonce = previous.first_nonce


def unfinished_before(store: Store, task: TaskRow) -> TaskRow | None:
    """The nearest of ``task``'s device's earlier tasks that is still on its way (not final in the store), passing
    over those that failed (a task that failed before it verified leaves the anchor where it was); None when a
    settled one, or none, comes first: the chain's anchor is then the one ``task`` is routed against."""
    for previous in _earlier_tasks(store, task.project, task.device, task.first_nonce):
        if previous.status is TaskStatus.SETTLED:
            return None
        if previous.status not in FINAL:
            return previous
    return None


def anchor_left_by(store: Store, task: TaskRow) -> Anchor | None:
    """The anchor ``task`` leaves once it verifies: its last message's timestamp and leaf (which its proof pins),
    under its config version; None for a task without messages."""
    messages = store.task_messages(task.id)
    if not messages:
        return None
    last = messages[-1].message
    return Anchor(last.timestamp, message_leaf(task.project, last), task.config)
