"""The HTTP batch body (``POST /v1/projects/{project}/messages``): ``{"messages": [<message>, ...]}`` split into
the raw bytes of each message, and the per-item results of the answer (docs/protocol.md, "Batches").

Each message is handed on as the exact text the client sent, so it is parsed by the same strict rules as a body of
``POST /messages`` (duplicate keys, NaN and extra keys are refused per item, not by a lenient re-encoding).
"""

from __future__ import annotations

import json
import re
from typing import Any

from proofstream.errors import MessageError, ProofstreamError
from proofstream.ingest.errors import describe
from proofstream.ingest.intake import Admitted

DEFAULT_MAX_BATCH_BODY_BYTES = 1024 * 1024
"""1 MiB: about 3,000 tracker messages of 300 bytes, so the item cap, not the body, is what a normal batch meets."""

DEFAULT_MAX_BATCH_MESSAGES = 1000
"""Items per request: bounds how long one request holds the store's write lock, and the answer's size."""

BATCH_SHAPE = '{"messages": [<message>, ...]}'

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
"""Lenient on purpose: it only finds where each item ends; the item itself is parsed strictly by admission."""


class _NotABatchError(Exception):
    """The body is not ``{"messages": [...]}`` as the splitter reads it (not JSON, or another shape)."""


def split_batch(raw: bytes, max_messages: int) -> list[bytes]:
    """The raw bytes of each message of a batch body, in order.

    Raises MessageError for the whole request: ``invalid_json`` (not UTF-8 JSON), ``schema_mismatch`` (JSON, but
    not an object whose one key ``messages`` holds an array) or ``batch_too_large`` (more than ``max_messages``)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(f"body is not valid UTF-8: {exc}", code="invalid_json") from exc
    try:
        return [item.encode() for item in _split(text, max_messages)]
    except _NotABatchError:
        pass
    # Only a refused body gets here: parse it once more to tell bad JSON from JSON of the wrong shape.
    try:
        json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MessageError(f"body is not valid JSON: {exc}", code="invalid_json") from exc
    raise MessageError(f"a batch body is {BATCH_SHAPE}", code="schema_mismatch")


def _split(text: str, max_messages: int) -> list[str]:
    at = _expect(text, _skip(text, 0), "{")
    key, at = _decode(text, _skip(text, at))
    if key != "messages":
        raise _NotABatchError
    at = _expect(text, _skip(text, _expect(text, _skip(text, at), ":")), "[")
    items: list[str] = []
    at = _skip(text, at)
    if text.startswith("]", at):
        at += 1
    else:
        while True:
            if len(items) == max_messages:
                raise MessageError(f"a batch holds at most {max_messages} messages", code="batch_too_large")
            _, end = _decode(text, at)
            items.append(text[at:end])
            at = _skip(text, end)
            if text.startswith(",", at):
                at = _skip(text, at + 1)
            else:
                at = _expect(text, at, "]")
                break
    at = _skip(text, _expect(text, _skip(text, at), "}"))
    if at != len(text):
        raise _NotABatchError
    return items


def _skip(text: str, at: int) -> int:
    match = _WHITESPACE.match(text, at)
    return at if match is None else match.end()


def _expect(text: str, at: int, char: str) -> int:
    if not text.startswith(char, at):
        raise _NotABatchError
    return at + 1


def _decode(text: str, at: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, at)
    except (ValueError, RecursionError) as exc:
        raise _NotABatchError from exc


def item_result(outcome: Admitted | ProofstreamError) -> dict[str, Any]:
    """One item of the answer: ``accepted`` or ``duplicate`` with the id and status, or ``refused`` with the error
    body and the HTTP status ``POST /messages`` would have answered for that message alone."""
    if isinstance(outcome, Admitted):
        return {
            "outcome": "accepted" if outcome.created else "duplicate",
            "id": outcome.id,
            "status": str(outcome.status),
        }
    status, code, message = describe(outcome)
    return {"outcome": "refused", "error": {"code": code, "message": message}, "http_status": status}
