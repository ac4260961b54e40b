"""Signature recovery of a batch's secp256k1 messages in worker processes, beside the gateway's own.

Recovering the signer is the largest single cost of admitting a message (about 90 us of some 250 us: libsecp256k1's
recovery, then the keccak and checksum of the key's address), and it is pure CPU under the GIL. A batch (HTTP or
MQTT) of at least :data:`MIN_POOLED` messages hands its (digest, signature) pairs to :class:`RecoveryPool`, which
splits them over its worker processes; the gateway's process meanwhile parses, stores and answers other requests.
Single messages are recovered in place: the trip to a worker would cost more than it saves.

The workers are started on first use (``spawn``: the gateway's process holds threads, which ``fork`` would copy
mid-flight) and only ever run :func:`_recover_chunk`: they hold no key, no store and no state beyond the address
checksum cache.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from proofstream.domain.messages import recover_device
from proofstream.domain.types import Address
from proofstream.errors import MessageError

__all__ = ["MIN_POOLED", "RecoveryPool"]

MIN_POOLED = 64
"""Messages a batch must hold for its recovery to go to the workers: below it, the round trip (pickling, a pipe
each way, about 1 ms) costs more than recovering in place."""

_Outcome = str | tuple[str, str]
"""What a worker sends back per pair: the signer's checksummed address, or (code, message) of its MessageError."""


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
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the recovery pool is closed")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def recover(self, pairs: Sequence[tuple[bytes, bytes]]) -> list[Address | MessageError]:
        """The signer of each pair, in order, or the MessageError ``bad_signature`` that recovering it raised (as
        :func:`~proofstream.domain.messages.recover_device`)."""
        if not pairs:
            return []
        size = -(-len(pairs) // self.workers)  # one chunk per worker: each pays the round trip once
        chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
        results: list[Address | MessageError] = []
        for chunk in self._executor().map(_recover_chunk, chunks):
            for outcome in chunk:
                results.append(
                    Address(outcome) if isinstance(outcome, str) else MessageError(outcome[1], code=outcome[0])
                )
        return results

    def close(self) -> None:
        """Stop the workers (waiting for what they are running); later calls of :meth:`recover` raise."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
