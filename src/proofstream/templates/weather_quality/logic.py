"""Weather quality: how many of a station's readings in one task are good, integer for integer as circuit.circom.

A reading carries ``temperature`` (deci-°C + 1000), ``humidity`` (%) and ``pressure`` (deci-hPa). Each reading
is compared with the reading before it: the task's previous one, and for the task's first the previous task's
last (``previous``: the message the chain's anchor commits to, opened by the proof). A reading is good when

1. it has a reading before it, at least :data:`MIN_INTERVAL` seconds earlier (without a previous reading, a
   station's first reading or its first under a new config version does not count; and a station that sends
   more often is not paid more often than once per MIN_INTERVAL of wall-clock time);
2. every field lies in its plausible range (:data:`RANGES`), and
3. every field changed plausibly since the reading before it:
   ``60 * |x - x_prev| <= 60 * STEP[x] + RATE[x] * dt`` with ``dt`` the seconds between the two readings, i.e.
   a change of at most STEP (sensor noise) plus RATE per minute (:data:`CHANGE`).

A bad reading is not an error: it simply does not count (and, since the next reading is compared with it, a
spike usually costs the reading after it too). ``check`` only rejects what the circuit cannot represent: a
field outside its [schema] width, which well-formed messages never have.
"""

from __future__ import annotations

from collections.abc import Sequence

from proofstream.prover.ports import TaskRecord

OUTPUTS = ("good",)
"""The proven outputs in public-signal order; the DApp pays per ``good`` reading."""

TEMPERATURE_OFFSET = 1000
"""``temperature = round(celsius * 10) + 1000``: -100.0 °C is 0, so the circuit sees unsigned numbers."""

FIELDS = ("temperature", "humidity", "pressure")
WIDTHS = {"temperature": 16, "humidity": 8, "pressure": 16}
"""Bit widths of the [schema] types (uint16, uint8, uint16)."""

RANGES = {
    "temperature": (600, 1600),  # -40.0 °C .. +60.0 °C
    "humidity": (0, 100),  # percent
    "pressure": (8700, 10850),  # 870.0 hPa .. 1085.0 hPa (the recorded extremes at sea level)
}
"""Inclusive plausible range of each field, in its encoded units."""

CHANGE = {
    "temperature": (5, 10),  # 0.5 °C noise, 1.0 °C per minute
    "humidity": (5, 10),  # 5 % noise, 10 % per minute
    "pressure": (5, 2),  # 0.5 hPa noise, 0.2 hPa per minute
}
"""``(STEP, RATE)`` per field: a change of at most ``STEP + RATE * minutes`` since the previous reading."""
MIN_INTERVAL = 30
"""Seconds a reading must come after the reading before it to count (stations report every 1..10 minutes)."""


def in_range(record: TaskRecord) -> bool:
    """Whether every field of the reading lies in its plausible range."""
    return all(low <= record.payload[name] <= high for name, (low, high) in RANGES.items())


def plausible_change(before: TaskRecord, after: TaskRecord) -> bool:
    """Whether every field of ``after`` is within ``STEP + RATE * dt / 60`` of ``before``."""
    dt = after.timestamp - before.timestamp
    return all(
        60 * abs(after.payload[name] - before.payload[name]) <= 60 * step + rate * dt
        for name, (step, rate) in CHANGE.items()
    )


def is_good(before: TaskRecord | None, reading: TaskRecord) -> bool:
    """``reading`` counts: it has a reading ``before`` it at least MIN_INTERVAL seconds earlier, it is in range,
    and it changed plausibly since ``before``."""
    if before is None or reading.timestamp - before.timestamp < MIN_INTERVAL:
        return False
    return in_range(reading) and plausible_change(before, reading)


def check(records: Sequence[TaskRecord]) -> None:
    """Raise ValueError for a field outside its [schema] width (the circuit cannot represent it)."""
    for i, record in enumerate(records):
        for name in FIELDS:
            value = record.payload[name]
            if not 0 <= value < 2 ** WIDTHS[name]:
                raise ValueError(f"reading {i} (nonce {record.nonce}): {name}={value} is not a uint{WIDTHS[name]}")


def outputs(records: Sequence[TaskRecord], previous: TaskRecord | None = None) -> tuple[int, ...]:
    """``(good,)``: the number of good readings in the task; the first is compared with ``previous``."""
    for name in FIELDS:
        if previous is not None and not 0 <= previous.payload[name] < 2 ** WIDTHS[name]:
            raise ValueError(f"the previous reading (nonce {previous.nonce}): {name} is not a uint{WIDTHS[name]}")
    befores = [previous, *records[:-1]]
    return (sum(1 for before, reading in zip(befores, records, strict=False) if is_good(before, reading)),)
