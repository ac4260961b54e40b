"""A role's store write about one task, retried: the one way the sequencer, prover, submitter, indexer and attester
write a task.

A store failure that says nothing about the task (a full disk, a locked file, a dropped connection: StoreError
with the generic code) is logged with the task id and the write tried again after a bounded exponential backoff;
after the last try the error is raised, so the node's loop still sees it and retries the whole step later. A
refusal (StaleTaskError, a conflict, an unknown task, a closed store) is raised at once: another try would meet
the same answer.

A retried write must be safe to repeat. The SQLite adapter reports a failure only for a write that did not commit;
an adapter that may lose the answer of a committed write (a network store) makes a retried claim with ``expect``
fail as StaleTaskError, which the roles take as "someone else has it": the task is never proven twice, and a claim
lost that way is released at the prover's next start (``release_orphans``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from proofstream import logs as log
from proofstream.domain.tasks import TaskStatus
from proofstream.domain.types import TaskId
from proofstream.errors import StoreError
from proofstream.store.ports import NO_CHANGE, Store, TaskRow, TaskUpdate

__all__ = ["DEFAULT_BACKOFF", "Backoff", "TaskWriter", "is_transient", "retry_write"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_CODE = StoreError.code
"""The code of a store failure that is not a refusal: every refusal carries a code of its own."""


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently a failed store write is tried again."""

    attempts: int = 4
    """Tries in all, the first included."""
    first_delay: float = 0.1
    """Seconds before the second try; each later wait is ``factor`` times longer, up to ``max_delay``."""
    factor: float = 2.0
    max_delay: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    """Injected by tests, which need not wait."""

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_delay < 0 or self.factor < 1 or self.max_delay < self.first_delay:
            raise ValueError(f"invalid backoff {self}")

    def delays(self) -> Iterator[float]:
        """The waits between the tries: ``attempts - 1`` of them."""
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield delay
            delay = min(delay * self.factor, self.max_delay)


DEFAULT_BACKOFF = Backoff()
"""Four tries over about 0.7 s: long enough for a checkpoint or a busy disk, short enough not to stall a loop."""


def is_transient(exc: StoreError) -> bool:
    """Whether another try of the write could succeed."""
    return exc.code == TRANSIENT_CODE


def retry_write(write: Callable[[], T], *, task: TaskId, backoff: Backoff = DEFAULT_BACKOFF) -> T:
    """``write()``, tried again after each transient StoreError as ``backoff`` says; the last error is raised."""
    waits = backoff.delays()
    attempt = 1
    while True:
        try:
            return write()
        except StoreError as exc:
            if not is_transient(exc):
                raise
            delay = next(waits, None)
            if delay is None:
                log.error(logger, "store write failed, giving up", task=task, attempts=attempt, error=exc)
                raise
            log.warning(logger, "store write failed, retrying", task=task, attempt=attempt, delay=delay, error=exc)
        backoff.sleep(delay)
        attempt += 1


class TaskWriter:
    """:meth:`Store.update_task` with :func:`retry_write` around it."""

    def __init__(self, store: Store, backoff: Backoff = DEFAULT_BACKOFF) -> None:
        self._store = store
        self._backoff = backoff

    def update(
        self,
        task_id: TaskId,
        status: TaskStatus | None = None,
        change: TaskUpdate = NO_CHANGE,
        *,
        expect: TaskStatus | None = None,
    ) -> TaskRow:
        return retry_write(
            lambda: self._store.update_task(task_id, status, change, expect=expect), task=task_id, backoff=self._backoff
        )

    def write(self, task_id: TaskId, write: Callable[[], T]) -> T:
        """Any other store write about ``task_id`` (creating it, storing an attestation of it), retried alike."""
        return retry_write(write, task=task_id, backoff=self._backoff)
