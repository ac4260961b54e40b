"""Signature recovery of a batch's secp256k1 messages in worker processes, beside the gateway's own.

Recovering the signer is the largest single cost of admitting a message (about 90 us of some 250 us: libsecp256k1's
recovery, then the keccak and checksum of the key's address), and it is pure CPU under the GIL. A batch (HTTP or
MQTT) of at least :data:`MIN_POOLED` messages hands its (digest, signature) pairs to :class:`RecoveryPool`, which
splits them over its worker processes; the gateway's process meanwhile parses, stores and answers other requests.
Single messages are recovered in place: the trip to a worker would cost more than it saves.

The workers are started by :meth:`RecoveryPool.warm` or on first use (``spawn``: the gateway's process holds
threads, which ``fork`` would copy mid-flight) and only ever run :func:`_recover_chunk`: they hold no key, no store
and no state beyond the address checksum cache. Each exits within a second of its parent's end, however it ended
(a ``kill -9`` too), since its queues alone would keep it waiting forever. Where they cannot start or run (a
daemonic process may have no children; a worker killed), the pool says so once in the log and recovers in the
calling thread from then on: slower, never wrong.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from proofstream import logs as log
from proofstream.domain.messages import recover_device
from proofstream.domain.types import Address
from proofstream.errors import MessageError

__all__ = ["MIN_POOLED", "RecoveryPool"]

logger = logging.getLogger(__name__)

MIN_POOLED = 64
"""Messages a batch must hold for its recovery to go to the workers: below it, the round trip (pickling, a pipe
each way, about 1 ms) costs more than recovering in place."""

_Outcome = str | tuple[str, str]
"""What a worker sends back per pair: the signer's checksummed address, or (code, message) of its MessageError."""


PARENT_POLL_S = 1.0
"""How often a worker checks that the process that started it is still its parent."""


def _watch_parent(parent: int) -> None:
    """A worker's initializer: exit once ``parent`` is gone (the worker is then re-parented)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _recover_chunk(pairs: Sequence[tuple[bytes, bytes]]) -> list[_Outcome]:
    out: list[_Outcome] = []
    for message_digest, signature in pairs:
        try:
            out.append(recover_device(message_digest, signature))
        except MessageError as exc:
            out.append((exc.code, str(exc)))
    return out


class RecoveryPool:
    """``workers`` processes recovering signers of (digest, signature) pairs; thread-safe; :meth:`close` it."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"a recovery pool needs at least one worker, got {workers}")
        self.workers = workers
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._in_place = False
        """Set once the workers could not start or run (or the pool is closed): recover in the caller."""

    def _executor(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._pool is None and not self._in_place:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_watch_parent,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def warm(self) -> None:
        """Start the workers now, without waiting for them, so the first batch does not pay their start (about a
        second each: a fresh interpreter importing the message code)."""
        pool = self._executor()
        if pool is None:
            return
        try:
            for _ in range(self.workers):
                pool.submit(_recover_chunk, ())
        except (AssertionError, OSError, RuntimeError, BrokenProcessPool) as exc:
            log.warning(logger, "signature recovery workers unavailable: recovering in place", error=exc)
            with self._lock:
                self._in_place = True

    def _chunks(self, pairs: Sequence[tuple[bytes, bytes]]) -> list[list[_Outcome]]:
        size = -(-len(pairs) // self.workers)  # one chunk per worker: each pays the round trip once
        chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
        pool = self._executor()
        if pool is not None:
            try:
                return list(pool.map(_recover_chunk, chunks))
            except (AssertionError, OSError, RuntimeError, BrokenProcessPool) as exc:
                # AssertionError: multiprocessing refuses children to a daemonic process.
                log.warning(logger, "signature recovery workers unavailable: recovering in place", error=exc)
                with self._lock:
                    self._in_place = True
        return [_recover_chunk(chunk) for chunk in chunks]

    def recover(self, pairs: Sequence[tuple[bytes, bytes]]) -> list[Address | MessageError]:
        """The signer of each pair, in order, or the MessageError ``bad_signature`` that recovering it raised (as
        :func:`~proofstream.domain.messages.recover_device`)."""
        if not pairs:
            return []
        results: list[Address | MessageError] = []
        for chunk in self._chunks(pairs):
            for outcome in chunk:
                results.append(
                    Address(outcome) if isinstance(outcome, str) else MessageError(outcome[1], code=outcome[0])
                )
        return results

    def close(self) -> None:
        """Stop the workers (waiting for what they are running); later calls of :meth:`recover` recover in the
        caller."""
        with self._lock:
            self._in_place = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
