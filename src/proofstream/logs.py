"""One way to log: an event, then ``key=value`` fields, with the same keys everywhere.

    log.info(logger, "task proven", task=task.id, seconds=1.46)
    -> "task proven task=1234 seconds=1.46"

Keys: ``task`` (a task id), ``project``, ``config``, ``device``, ``nonce``, ``message`` (a message id), ``tx`` (a
transaction hash), ``gas`` (gas used), ``contract`` and ``function`` (every chain write), ``block``, ``reason``,
``error``, ``count``, ``seconds``, ``path``. A value with spaces, quotes or ``=`` is written as a JSON string, so a
line splits back into its fields unambiguously. The fields also travel on the record (``record.fields``), so
:class:`JsonFormatter` writes the same event as one JSON object per line for a log pipeline.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

__all__ = ["JsonFormatter", "debug", "error", "event_line", "info", "warning"]

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/@+,[]()")


def _value(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if text and all(c in _PLAIN for c in text) else json.dumps(text)


def event_line(event: str, fields: Mapping[str, object]) -> str:
    """``event key=value ...``, in the order given; None values are left out."""
    parts = [event, *(f"{key}={_value(value)}" for key, value in fields.items() if value is not None)]
    return " ".join(parts)


class _Event:
    """Rendered only if a handler formats it: a debug line costs nothing while debug is off."""

    __slots__ = ("event", "fields")

    def __init__(self, event: str, fields: Mapping[str, object]) -> None:
        self.event = event
        self.fields = fields

    def __str__(self) -> str:
        return event_line(self.event, self.fields)


def _log(logger: logging.Logger, level: int, event: str, fields: dict[str, Any], exc_info: bool = False) -> None:
    if logger.isEnabledFor(level):
        # stacklevel 3: the line that called info()/warning()/error(), not this module.
        logger.log(
            level,
            _Event(event, fields),
            exc_info=exc_info,
            stacklevel=3,
            extra={"event": event, "fields": fields},
        )


def info(logger: logging.Logger, event: str, /, **fields: Any) -> None:
    _log(logger, logging.INFO, event, fields)


def warning(logger: logging.Logger, event: str, /, **fields: Any) -> None:
    _log(logger, logging.WARNING, event, fields)


def error(logger: logging.Logger, event: str, /, *, exc_info: bool = False, **fields: Any) -> None:
    _log(logger, logging.ERROR, event, fields, exc_info)


def debug(logger: logging.Logger, event: str, /, **fields: Any) -> None:
    _log(logger, logging.DEBUG, event, fields)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``event`` and the event's fields (a record
    not logged through this module has its message as ``event``)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "event": getattr(record, "event", None) or record.getMessage(),
        }
        for key, value in getattr(record, "fields", {}).items():
            if value is not None:
                # Task ids and amounts are often above 2^53, where JSON readers lose digits: those go as strings.
                number = isinstance(value, (bool, float)) or (isinstance(value, int) and abs(value) < 2**53)
                out.setdefault(key, value if number else str(value))
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out)
