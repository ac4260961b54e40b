"""The gateway's admission queue: bounded, with one durable commit for whatever single messages wait together.

``POST /messages`` (and ``POST /v1/task``, with its own check) checks its message on the event loop (parse,
digest, signature, device: CPU only, no thread hop), then waits in this queue for the store. One commit task per
event loop takes every message waiting at that moment to the store in one ``put_messages`` call (one thread hop
and one transaction for all of them), and wakes each request with its own outcome; while that commit runs, the
next group gathers. A batch request reserves room for its items and is admitted in a worker thread, as before.

Back-pressure: at most ``max_pending`` messages are admitted at once (checked, waiting or being stored, single and
batched together). A request that would go over is refused at once with ``overloaded`` (503, ``Retry-After``)
instead of joining a queue whose wait only grows (docs/protocol.md, "Back-pressure").
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from proofstream.domain.types import ProjectId
from proofstream.errors import ProofstreamError
from proofstream.ingest import validation
from proofstream.ingest.intake import Admitted, Intake

T = TypeVar("T")

DEFAULT_MAX_PENDING = 20_000
"""Messages admitted at once, single and batched: twenty full batches, about two seconds of the gateway's batch
throughput here, so a client waits at most that long before it is told to come back later."""

RETRY_AFTER_S = 1
"""What ``Retry-After`` tells a refused client: long enough for a group commit or two to drain the queue."""

MAX_GROUP = 512
"""Single messages one commit takes: bounds the transaction, like the store's own group commit."""


class OverloadedError(ProofstreamError):
    """The admission queue is full: try again after :data:`RETRY_AFTER_S` seconds (code ``overloaded``)."""

    retry_after_s = RETRY_AFTER_S

    def __init__(self, message: str) -> None:
        super().__init__(message, code="overloaded")


Check = Callable[[bytes, float], validation.Admitted]
"""A format's checks of one raw message at a time (seconds since the epoch): every check short of the store's."""

_Waiting = tuple[validation.Admitted, float, "asyncio.Future[Admitted | ProofstreamError]"]


@dataclass
class _Lane:
    """The single messages waiting on one event loop, and the task committing them."""

    waiting: list[_Waiting] = field(default_factory=list)
    committer: asyncio.Task[None] | None = None


class AdmissionQueue:
    """Bounded admission over ``intake``: :meth:`admit_one` for ``POST /messages``, :meth:`admit_many` for a
    batch."""

    def __init__(self, intake: Intake, *, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self._intake = intake
        self._max_pending = max_pending
        self._pending = 0
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane] = weakref.WeakKeyDictionary()

    @property
    def pending(self) -> int:
        """Messages admitted right now (checked, waiting for the store or being stored)."""
        return self._pending

    def _reserve(self, count: int) -> None:
        if self._pending + count > self._max_pending:
            raise OverloadedError(
                f"the gateway is admitting {self._pending} messages (at most {self._max_pending}): retry after "
                f"{RETRY_AFTER_S} s"
            )
        self._pending += count

    async def admit_one(self, raw: bytes, check: Check | None = None) -> Admitted:
        """Check ``raw`` here, on the event loop, with ``check`` (by default :meth:`Intake.check`; the W3bStream
        endpoint's is :meth:`Intake.check_w3b`), then wait for the commit that stores it; raise the
        ProofstreamError of its refusal (``overloaded`` when the queue is full)."""
        self._reserve(1)
        try:
            now = self._intake.now()
            checked = (check or self._intake.check)(raw, now)
            loop = asyncio.get_running_loop()
            lane = self._lanes.setdefault(loop, _Lane())
            outcome: asyncio.Future[Admitted | ProofstreamError] = loop.create_future()
            lane.waiting.append((checked, now, outcome))
            if lane.committer is None:
                lane.committer = loop.create_task(self._commit(lane))
            result = await outcome
        finally:
            self._pending -= 1
        if isinstance(result, ProofstreamError):
            raise result
        return result

    async def admit_many(self, raws: Sequence[bytes], project: ProjectId) -> list[Admitted | ProofstreamError]:
        """:meth:`Intake.accept_many` in a worker thread, with room for ``raws`` reserved in the queue."""
        return await self.run(lambda: self._intake.accept_many(raws, project), len(raws))

    async def run(self, job: Callable[[], T], count: int = 1) -> T:
        """``job`` (an admission of ``count`` messages that does its own commit, e.g. a batch) in a worker thread,
        with room for them reserved in the queue: ``overloaded`` when there is none."""
        self._reserve(count)
        try:
            return await run_in_threadpool(job)
        finally:
            self._pending -= count

    async def _commit(self, lane: _Lane) -> None:
        """Store what waits on this loop, a group at a time, until nothing does."""
        try:
            while lane.waiting:
                group, lane.waiting = lane.waiting[:MAX_GROUP], lane.waiting[MAX_GROUP:]
                try:
                    # One transaction for the group, stamped with the arrival time of its latest message.
                    outcomes = await run_in_threadpool(
                        self._intake.store, [checked for checked, _, _ in group], group[-1][1]
                    )
                except Exception as exc:  # the commit failed: nothing of the group is stored
                    for _, _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, _, future), result in zip(group, outcomes, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            lane.committer = None
