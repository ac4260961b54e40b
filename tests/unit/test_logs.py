"""The one log helper: ``event key=value`` lines that split back into their fields, and the same event as JSON."""

from __future__ import annotations

import json
import logging
import shlex

import pytest

from proofstream import logs
from proofstream.logs import JsonFormatter, event_line

logger = logging.getLogger("proofstream.test_logs")


def test_a_line_splits_back_into_its_fields() -> None:
    fields = {"task": 2**200, "reason": 'PredecessorPending "x"=1', "tx": None, "gas": 5, "path": "/tmp/a b"}
    line = event_line("route refused", fields)
    assert line == (f'route refused task={2**200} reason="PredecessorPending \\"x\\"=1" gas=5 path="/tmp/a b"')
    # shlex reads the JSON-quoted values back (no single quotes or backslashes but the escaped quotes here).
    words = shlex.split(line)
    assert words[:2] == ["route", "refused"]
    assert dict(w.split("=", 1) for w in words[2:]) == {
        "task": str(2**200),
        "reason": 'PredecessorPending "x"=1',
        "gas": "5",
        "path": "/tmp/a b",
    }


def test_records_carry_the_event_and_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=logger.name):
        logs.info(logger, "task proven", task=7, seconds=1.5)
    (record,) = caplog.records
    assert record.getMessage() == "task proven task=7 seconds=1.5"
    assert record.funcName == "test_records_carry_the_event_and_the_caller"  # not the helper's own frame
    assert record.__dict__["fields"] == {"task": 7, "seconds": 1.5}


def test_nothing_is_formatted_below_the_level(caplog: pytest.LogCaptureFixture) -> None:
    class Loud:
        def __str__(self) -> str:
            raise AssertionError("formatted although debug is off")

    with caplog.at_level(logging.INFO, logger=logger.name):
        logs.debug(logger, "noise", value=Loud())
    assert caplog.records == []


def test_the_json_formatter_writes_one_object_with_the_fields() -> None:
    record = logger.makeRecord(
        logger.name,
        logging.WARNING,
        __file__,
        1,
        "ignored",
        (),
        None,
        extra={
            "event": "tx mined",
            "fields": {
                "contract": "Router",
                "function": "route",
                "tx": "0xab",
                "gas": 404_000,
                "task": 2**200,
                "block": None,
            },
        },
    )
    out = json.loads(JsonFormatter().format(record))
    assert out["event"] == "tx mined" and out["level"] == "WARNING" and out["logger"] == logger.name
    assert (out["contract"], out["function"], out["tx"], out["gas"]) == ("Router", "route", "0xab", 404_000)
    assert out["task"] == str(2**200)  # above 2^53: a string, so no reader loses digits
    assert "block" not in out
