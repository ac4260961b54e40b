"""What the fuzz tests (tests/ingest/test_fuzz_http.py, tests/unit/test_decoder_fuzz.py) send: any JSON value, and a
signed body changed after signing."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_values(*, finite: bool) -> st.SearchStrategy[Any]:
    """Any JSON value, integers far past 64 bits among them; with ``finite`` False, NaN and Infinity too (as
    Python's json writes them; an HTTP client refuses to)."""
    floats = st.floats(allow_nan=not finite, allow_infinity=not finite)
    huge = st.integers(min_value=-(2**1100), max_value=2**1100)
    return st.recursive(
        st.none() | st.booleans() | st.integers() | huge | floats | st.text(max_size=12),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=10,
    )


def change_one(draw: st.DrawFn, body: dict[str, Any], values: st.SearchStrategy[Any]) -> dict[str, Any]:
    """``body`` (changed in place) as it was, or with one key of it or of its payload replaced, dropped or added."""
    target = draw(st.sampled_from([body, body["payload"]]))
    key = draw(st.sampled_from(sorted(target)))
    change = draw(st.sampled_from(["keep", "keep", "replace", "drop", "add"]))
    if change == "replace":
        target[key] = draw(values)
    elif change == "drop":
        del target[key]
    elif change == "add":
        target[draw(st.text(max_size=10))] = draw(values)
    return body
