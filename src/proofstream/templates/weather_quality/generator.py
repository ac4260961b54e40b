"""Simulated weather stations: a reading every 1..10 minutes, smooth weather with the occasional sensor fault.

Readings are always more than MIN_INTERVAL (30 s) apart, so an honest station's readings all may count.

Encodings as in logic.py: temperature in deci-°C + 1000, humidity in %, pressure in deci-hPa.
"""

from __future__ import annotations

import random

CLIMATES = (
    (150, 70, 10130),  # temperate: 15.0 °C, 70 %, 1013.0 hPa
    (300, 40, 10090),  # hot and dry
    (-50, 85, 10170),  # cold and damp
    (220, 90, 10050),  # tropical
)
"""Starting (°C * 10, %, deci-hPa) of station ``device % 4``."""


def _reading(temperature_dc: int, humidity: int, pressure: int) -> dict[str, int]:
    return {"temperature": temperature_dc + 1000, "humidity": humidity, "pressure": pressure}


def readings(rng: random.Random, device: int, count: int, start: int) -> list[tuple[int, dict[str, int]]]:
    """``count`` readings of station ``device``: slow drifts within the good ranges; about one in 13 is a sensor
    fault (a temperature spike, humidity 255 as an error code, or a pressure dropout to 0) that does not count,
    and usually makes the reading after it an implausible jump too."""
    temperature, humidity, pressure = CLIMATES[device % len(CLIMATES)]
    temperature += rng.randint(-30, 30)
    out: list[tuple[int, dict[str, int]]] = []
    timestamp = start
    for _ in range(count):
        step = rng.randint(60, 600)
        timestamp += step
        minutes = step // 60
        temperature = max(-400, min(600, temperature + rng.randint(-3, 3) * minutes // 2))
        humidity = max(0, min(100, humidity + rng.randint(-2, 2)))
        pressure = max(8700, min(10850, pressure + rng.randint(-1, 1) * minutes // 3))
        reading = _reading(temperature, humidity, pressure)
        fault = rng.randrange(40)
        if fault == 0:
            reading["temperature"] += 400  # a spike of +40 °C
        elif fault == 1:
            reading["humidity"] = 255  # the sensor's error code
        elif fault == 2:
            reading["pressure"] = 0  # dropout
        out.append((timestamp, reading))
    return out


def edge_cases() -> list[list[tuple[int, dict[str, int]]]]:
    """Range limits, the change limit exactly and one past it, the minimum interval, extreme values and time
    gaps, spikes (no previous reading: each task's first does not count)."""
    t = 1_700_000_000
    return [
        # the inclusive range limits, far apart in time so any change is plausible
        [
            (t, _reading(-400, 0, 8700)),
            (t + 10**6, _reading(600, 100, 10850)),
            (t + 2 * 10**6, _reading(-400, 0, 8700)),
        ],
        # one past each limit: none counts
        [
            (t, _reading(-401, 50, 10000)),
            (t + 10**6, _reading(601, 50, 10000)),
            (t + 2 * 10**6, _reading(0, 101, 10000)),
            (t + 3 * 10**6, _reading(0, 50, 8699)),
            (t + 4 * 10**6, _reading(0, 50, 10851)),
        ],
        # a minute apart: temperature may change 0.5 + 1.0 °C = 15, not 16; humidity 15 %; pressure 0.7 hPa
        [
            (t, _reading(200, 50, 10000)),
            (t + 60, _reading(215, 65, 10007)),
            (t + 120, _reading(231, 65, 10007)),
            (t + 180, _reading(231, 81, 10007)),
            (t + 240, _reading(231, 81, 10015)),
            (t + 300, _reading(216, 66, 10008)),
        ],
        # 29 s apart never counts, 30 s does: only the noise allowance (5) plus 30/60 of RATE (5 or 1)
        [
            (t, _reading(0, 50, 10000)),
            (t + 29, _reading(0, 50, 10000)),
            (t + 59, _reading(10, 60, 10006)),
            (t + 89, _reading(21, 60, 10006)),
            (t + 119, _reading(21, 71, 10006)),
            (t + 149, _reading(21, 71, 10013)),
        ],
        # one second apart: too soon to count, however plausible
        [(t, _reading(0, 50, 10000)), (t + 1, _reading(0, 50, 10000)), (t + 2, _reading(0, 50, 10000))],
        # the largest encodable values: out of range, never good
        [(t, {"temperature": 65535, "humidity": 255, "pressure": 65535})],
        [(1, {"temperature": 0, "humidity": 0, "pressure": 0}), (2**64 - 1, _reading(0, 50, 10000))],
        # a spike and the recovery after it
        [
            (t, _reading(150, 60, 10130)),
            (t + 60, _reading(550, 60, 10130)),
            (t + 120, _reading(151, 60, 10130)),
            (t + 180, _reading(152, 60, 10130)),
        ],
        [(t + 60 * i, _reading(100 + i, 50 + i, 10000 + i)) for i in range(8)],
    ]


def chained_edge_cases() -> list[tuple[tuple[int, dict[str, int]], list[tuple[int, dict[str, int]]]]]:
    """``(previous reading, batch)`` pairs: the task's first reading is compared with the previous task's last."""
    t = 1_700_000_000
    return [
        # a minute after a similar reading: the first reading counts
        ((t, _reading(200, 50, 10000)), [(t + 60, _reading(210, 55, 10005))]),
        # a jump too fast since the previous reading: it does not count, the reading after it does
        ((t, _reading(200, 50, 10000)), [(t + 60, _reading(216, 50, 10000)), (t + 120, _reading(216, 50, 10000))]),
        # 29 and 30 seconds after the previous reading
        ((t, _reading(200, 50, 10000)), [(t + 29, _reading(200, 50, 10000))]),
        ((t, _reading(200, 50, 10000)), [(t + 30, _reading(200, 50, 10000))]),
        # the previous reading was a fault (out of range): the first is compared with it and fails the rate
        ((t, {"temperature": 1200, "humidity": 255, "pressure": 10000}), [(t + 60, _reading(200, 50, 10000))]),
        # extremes: the largest gap since the previous reading, the largest encodable previous values
        ((0, _reading(-400, 0, 8700)), [(2**64 - 1, _reading(600, 100, 10850))]),
        ((t, {"temperature": 65535, "humidity": 255, "pressure": 65535}), [(t + 10**9, _reading(0, 50, 10000))]),
        # a full task of steady readings right after its previous one: all 8 count
        ((t, _reading(100, 50, 10000)), [(t + 60 * i, _reading(100, 50, 10000)) for i in range(1, 9)]),
    ]
