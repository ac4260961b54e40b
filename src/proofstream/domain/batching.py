"""The batching policy: which pending messages become which task. Pure: no clock, no store.

A task holds one device's messages of one project and one config version, in nonce order, cut at whichever comes
first:
- the circuit's capacity;
- a change of config version (a task is proven and verified under exactly one version; the device's messages stay
  in nonce order across the cut, so the tasks of one device can be assigned in order);
- the end of the device-timestamp window that the task's first message opened;
- a timestamp that does not increase (the circuit refuses zig-zag or duplicated fixes inside a task, so the task
  ends there and the next message opens a new one).

The last task of a device stays open while more messages could still join it: until its window has closed on the
node's clock (plus a grace period for late arrivals), or until the caller flushes.

With ``backlog_joins`` (the node's latency mode) the window only says when a task may close, not which messages
it holds: every pending message of the device joins, up to capacity. The sequencer then hands the policy no
message of a device whose previous task is still in flight, so what queued meanwhile becomes one task, not one
task per window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby

from proofstream.domain.types import Address, ConfigVersion, MessageId, Nonce, Timestamp


@dataclass(frozen=True)
class BatchPolicy:
    capacity: int
    """Messages per task: the circuit's slot count (2**depth)."""
    window_seconds: int
    """Length of a task's device-timestamp window, from its first message."""
    grace_seconds: int = 5
    """How long after a window ends (node clock) late messages may still join it."""
    backlog_joins: bool = False
    """Let every pending message of a device join its task (up to capacity), whatever its timestamp's window."""

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {self.capacity}")
        if self.window_seconds < 1:
            raise ValueError(f"window_seconds must be at least 1, got {self.window_seconds}")
        if self.grace_seconds < 0:
            raise ValueError(f"grace_seconds must not be negative, got {self.grace_seconds}")


@dataclass(frozen=True)
class Pending:
    """What the policy needs to know of a stored, not yet batched message."""

    message_id: MessageId
    device: Address
    nonce: Nonce
    timestamp: Timestamp
    config: ConfigVersion
    """The project config version the message was signed under."""


@dataclass(frozen=True)
class Batch:
    """A closed group of messages that becomes one task."""

    device: Address
    messages: tuple[Pending, ...]

    @property
    def config(self) -> ConfigVersion:
        return self.messages[0].config

    @property
    def first_nonce(self) -> Nonce:
        return self.messages[0].nonce

    @property
    def last_nonce(self) -> Nonce:
        return self.messages[-1].nonce


def cut_batches(pending: Iterable[Pending], policy: BatchPolicy, *, now: int, flush: bool = False) -> list[Batch]:
    """Return the batches that are closed now, per device in nonce order; open ones are left pending."""
    batches: list[Batch] = []
    ordered = sorted(pending, key=lambda m: (m.device.lower(), m.nonce))
    for _, group in groupby(ordered, key=lambda m: m.device.lower()):
        batches.extend(_cut_device(list(group), policy, now=now, flush=flush))
    return batches


def _cut_device(messages: Sequence[Pending], policy: BatchPolicy, *, now: int, flush: bool) -> list[Batch]:
    closed: list[Batch] = []
    current: list[Pending] = []
    for message in messages:
        if current and not _fits(current, message, policy):
            closed.append(Batch(current[0].device, tuple(current)))
            current = []
        current.append(message)
    if current and (flush or len(current) == policy.capacity or _window_over(current[0], policy, now)):
        closed.append(Batch(current[0].device, tuple(current)))
    return closed


def _fits(current: Sequence[Pending], message: Pending, policy: BatchPolicy) -> bool:
    return (
        len(current) < policy.capacity
        and message.config == current[0].config
        and (policy.backlog_joins or message.timestamp < current[0].timestamp + policy.window_seconds)
        and message.timestamp > current[-1].timestamp
    )


def _window_over(first: Pending, policy: BatchPolicy, now: int) -> bool:
    return now >= first.timestamp + policy.window_seconds + policy.grace_seconds
