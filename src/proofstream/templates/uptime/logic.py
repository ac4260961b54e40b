"""Uptime: the seconds of healthy service a base station proves with its heartbeats, integer for integer as
circuit.circom.

A heartbeat carries ``quality`` (link quality in percent) and ``uptime`` (seconds since the station booted).
Each heartbeat credits the time since the heartbeat before it, but at most

- :data:`MAX_GAP` seconds: a station that went silent longer was not provably up in between;
- its own ``uptime``: a station that rebooted since the previous heartbeat was down until it booted;

and only when it is healthy: :data:`MIN_QUALITY` <= quality <= 100. So
``seconds = sum(min(t[i] - t[i-1], MAX_GAP, uptime[i]) for healthy heartbeats i)``: no heartbeat earns more than
the wall-clock time since the one before it.

The heartbeat before a task's first is the previous task's last (``previous``: the message the chain's anchor
commits to, opened by the proof), so tasks chain without losing an interval at each boundary, and since the
first heartbeat must come after it, a station cannot be paid twice for the same seconds by rewinding its clock.
Without a previous heartbeat (a station's first task, or the first under a new config version) the first
heartbeat credits nothing.

``check`` only rejects what the circuit cannot represent: a field outside its [schema] width.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from proofstream.prover.ports import TaskRecord

OUTPUTS = ("seconds",)
"""The proven outputs in public-signal order; the DApp pays per credited ``seconds``."""

MAX_GAP = 300
"""Seconds one heartbeat can credit at most (heartbeats are expected every 60 s: four may be lost)."""
MIN_QUALITY = 20
"""Link quality (percent) a heartbeat needs to count as healthy."""
MAX_QUALITY = 100
WIDTHS = {"quality": 8, "uptime": 32}
"""Bit widths of the [schema] types (uint8, uint32)."""


def healthy(record: TaskRecord) -> bool:
    return MIN_QUALITY <= record.payload["quality"] <= MAX_QUALITY


def credit(before: TaskRecord, after: TaskRecord) -> int:
    """Seconds ``after`` credits: the gap since ``before``, capped by MAX_GAP and by ``after``'s uptime."""
    if not healthy(after):
        return 0
    return min(after.timestamp - before.timestamp, MAX_GAP, after.payload["uptime"])


def check(records: Sequence[TaskRecord]) -> None:
    """Raise ValueError for a field outside its [schema] width (the circuit cannot represent it)."""
    for i, record in enumerate(records):
        for name, bits in WIDTHS.items():
            value = record.payload[name]
            if not 0 <= value < 2**bits:
                raise ValueError(f"heartbeat {i} (nonce {record.nonce}): {name}={value} is not a uint{bits}")


def outputs(records: Sequence[TaskRecord], previous: TaskRecord | None = None) -> tuple[int, ...]:
    """``(seconds,)``: the uptime the task's heartbeats credit, the first from ``previous`` when it is given."""
    beats = [previous, *records] if previous is not None else list(records)
    return (sum(credit(before, after) for before, after in pairwise(beats)),)
