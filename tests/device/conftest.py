"""Fixtures of the device tests (helpers in device_world.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from device.device_world import LiveGateway, serve_gateway


@pytest.fixture
def live_gateway(tmp_path: Path) -> Iterator[LiveGateway]:
    with serve_gateway(tmp_path / "gateway.sqlite3") as gateway:
        yield gateway
