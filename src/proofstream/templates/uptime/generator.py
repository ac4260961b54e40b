"""Simulated base stations: a heartbeat about every minute, with lost heartbeats, bad links and reboots."""

from __future__ import annotations

import random


def readings(rng: random.Random, device: int, count: int, start: int) -> list[tuple[int, dict[str, int]]]:
    """``count`` heartbeats of station ``device``: every 55..65 s, sometimes a few lost (a longer gap), about
    one in 12 with a poor link (quality below 20), and about one in 25 right after a reboot (small uptime)."""
    booted = start - rng.randint(0, 30 * 86_400)  # up for up to a month already
    base_quality = 40 + device % 50
    out: list[tuple[int, dict[str, int]]] = []
    timestamp = start
    for _ in range(count):
        gap = rng.randint(55, 65)
        if rng.randrange(10) == 0:
            gap += 60 * rng.randint(1, 8)  # heartbeats lost in between
        timestamp += gap
        if rng.randrange(25) == 0:
            booted = timestamp - rng.randint(5, gap)  # rebooted since the previous heartbeat
        quality = base_quality + rng.randint(-10, 10)
        if rng.randrange(12) == 0:
            quality = rng.randint(0, 19)
        out.append((timestamp, {"quality": quality, "uptime": timestamp - booted}))
    return out


def edge_cases() -> list[list[tuple[int, dict[str, int]]]]:
    """Quality limits, gaps at and past MAX_GAP, reboots, the largest values and time gaps (no previous heartbeat:
    each task's first credits nothing)."""
    t = 1_700_000_000
    day = 86_400
    return [
        # quality 19 / 20 / 100 / 101 / 255: only 20 and 100 are healthy
        [(t + 60 * i, {"quality": q, "uptime": day + 60 * i}) for i, q in enumerate((50, 19, 20, 100, 101, 255))],
        # gaps of 299, 300, 301 and a day: credited 299, 300, 300, 300
        [
            (t, {"quality": 50, "uptime": day}),
            (t + 299, {"quality": 50, "uptime": day + 299}),
            (t + 599, {"quality": 50, "uptime": day + 599}),
            (t + 900, {"quality": 50, "uptime": day + 900}),
            (t + 900 + day, {"quality": 50, "uptime": 2 * day + 900}),
        ],
        # reboots: uptime 0, 1 and exactly the gap
        [
            (t, {"quality": 50, "uptime": day}),
            (t + 60, {"quality": 50, "uptime": 0}),
            (t + 120, {"quality": 50, "uptime": 1}),
            (t + 180, {"quality": 50, "uptime": 60}),
        ],
        # the largest encodable values and time gap
        [(1, {"quality": 255, "uptime": 2**32 - 1}), (2**64 - 1, {"quality": 100, "uptime": 2**32 - 1})],
        [(t, {"quality": 0, "uptime": 0})],
        [(t + i, {"quality": 20 + i, "uptime": 10 + i}) for i in range(8)],
    ]


def chained_edge_cases() -> list[tuple[tuple[int, dict[str, int]], list[tuple[int, dict[str, int]]]]]:
    """``(previous heartbeat, batch)`` pairs: the previous task's last heartbeat starts the first interval."""
    t = 1_700_000_000
    day = 86_400
    return [
        # a minute after the previous task's last heartbeat: 60 s credited at the boundary
        ((t, {"quality": 50, "uptime": day}), [(t + 60, {"quality": 50, "uptime": day + 60})]),
        # a day after it: capped at MAX_GAP; one second after it: 1 s
        ((t, {"quality": 50, "uptime": day}), [(t + day, {"quality": 50, "uptime": 2 * day})]),
        ((t, {"quality": 50, "uptime": day}), [(t + 1, {"quality": 50, "uptime": day + 1})]),
        # a poor link on the first heartbeat, and a reboot since the previous one
        ((t, {"quality": 50, "uptime": day}), [(t + 60, {"quality": 19, "uptime": day + 60})]),
        ((t, {"quality": 50, "uptime": day}), [(t + 120, {"quality": 50, "uptime": 30})]),
        # the previous heartbeat's own health does not matter, only the interval since it
        (
            (t, {"quality": 0, "uptime": 0}),
            [(t + 300, {"quality": 100, "uptime": 300}), (t + 360, {"quality": 100, "uptime": 360})],
        ),
        # the largest gap and values, and a full task right after its previous heartbeat
        ((0, {"quality": 255, "uptime": 2**32 - 1}), [(2**64 - 1, {"quality": 20, "uptime": 2**32 - 1})]),
        (
            (t, {"quality": 60, "uptime": day}),
            [(t + 60 * i, {"quality": 60, "uptime": day + 60 * i}) for i in range(1, 9)],
        ),
    ]
