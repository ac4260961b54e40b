"""Every endpoint of the gateway fuzzed from its own OpenAPI spec (schemathesis), against a real app over a real
SQLite store: no 5xx, every answer's status and body as the spec documents them, and nothing stored for any
request the gateway refused.

Cases per endpoint: ``PROOFSTREAM_FUZZ_EXAMPLES`` (default 20, what CI runs) for each generation mode, schema-valid
and schema-violating. ``PROOFSTREAM_FUZZ_EXAMPLES=500 .venv/bin/pytest -n 0 tests/ingest/test_fuzz_http.py`` runs
more locally.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fuzz_inputs import change_one, json_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case as GenericCase
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema
from testbed import DOMAIN, OWNER, TRACKER, TRACKER_SCHEMA

from proofstream.ingest.http import create_app
from proofstream.ingest.validation import ClockWindow
from proofstream.sdk.device import DeviceKey
from proofstream.store.sqlite import SqliteStore

EXAMPLES = int(os.environ.get("PROOFSTREAM_FUZZ_EXAMPLES", "20"))
"""Cases per endpoint and generation mode (and of signed messages per message endpoint)."""

Case = GenericCase[Any]

NOW = 1_764_300_000
DEVICES = [DeviceKey.from_hex("0x" + f"{i:02x}" * 32) for i in range(0x51, 0x55)]
"""Registered in the tracker project: their signed messages are accepted, duplicated or refused by the ordering
rules."""

JSON = json_values(finite=True)


@dataclass
class Gateway:
    schema: OpenApiSchema
    db: Path
    cases: dict[str, int] = field(default_factory=dict)
    """Cases run, per operation."""
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("accepted", "duplicate", "refused"), 0))
    """Of the messages sent to the message endpoints."""

    def rows(self) -> dict[str, int]:
        """Rows of every table of the store, read from its file."""
        with closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as conn:
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {table: conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    db = tmp_path_factory.mktemp("fuzz") / "gateway.db"
    with SqliteStore(db) as store:
        store.upsert_project(TRACKER)
        for device in DEVICES:
            store.upsert_device(TRACKER.project, device.address, OWNER)
        app = create_app(store, clock=lambda: NOW, clock_window=ClockWindow())
        yield Gateway(schema=schemathesis.openapi.from_asgi("/openapi.json", app), db=db)


@st.composite
def signed_bodies(draw: st.DrawFn) -> Any:
    """A message the registered device signed, as sent or with one part changed after signing."""
    nonce = draw(st.integers(0, 2**16))
    # Mostly in nonce order and inside the clock window; sometimes not.
    timestamp = NOW - 3000 + nonce // 32 + draw(st.sampled_from([0, 0, 0, -5000, 200]))
    payload = {"lat": draw(st.integers(0, 2**32 - 1)), "lon": draw(st.integers(0, 3))}
    body = draw(st.sampled_from(DEVICES)).sign_message(TRACKER_SCHEMA, DOMAIN, 1, 1, nonce, timestamp, payload)
    return change_one(draw, body, JSON)


def message_outcomes(case: Case, status: int, body: Any) -> list[str]:
    """What the answer says of each message sent: accepted (stored now), duplicate or refused."""
    if case.operation.path == "/messages":
        return [{202: "accepted", 200: "duplicate"}.get(status, "refused")]
    if case.operation.path == "/v1/projects/{project}/messages" and status == 200:
        return [result["outcome"] for result in body["results"]]
    return []


def check(gateway: Gateway, case: Case) -> None:
    """Send ``case``; the answer must be one the spec documents and no 5xx, and the store must have gained
    exactly the messages the answer says it accepted, nothing for a refusal."""
    before = gateway.rows()
    response = case.call()
    # schemathesis's checks: no 5xx, documented status codes, content types and bodies, schema-violating input
    # refused. A body the spec calls valid may still be refused with a 4xx (400, 422) where validity needs what
    # OpenAPI cannot say (a signature, the project's own payload schema, a DID's key on its curve):
    # positive_data_acceptance is left out for those operations only.
    beyond_spec = case.operation.method.upper() == "POST" or case.operation.path == "/did/{did}"
    case.validate_response(response, excluded_checks=[positive_data_acceptance] if beyond_spec else [])
    after = gateway.rows()
    outcomes = message_outcomes(case, response.status_code, response.json())
    stored = outcomes.count("accepted")
    assert after == {**before, "messages": before["messages"] + stored}, (case.as_curl_command(), response.text)
    for outcome in outcomes:
        gateway.outcomes[outcome] += 1
    label = f"{case.operation.method.upper()} {case.operation.path}"
    gateway.cases[label] = gateway.cases.get(label, 0) + 1


def fuzz(gateway: Gateway, strategy: st.SearchStrategy[Case]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case: Case) -> None:
        check(gateway, case)

    run()


def test_every_endpoint_from_the_spec(gateway: Gateway) -> None:
    results = list(gateway.schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 10
    for operation in operations:
        fuzz(gateway, operation.as_strategy(GenerationMode.POSITIVE))
        # Unsatisfiable: no input violates the operation's schema (no parameters), nothing negative to send.
        with contextlib.suppress(Unsatisfiable):
            fuzz(gateway, operation.as_strategy(GenerationMode.NEGATIVE))
    # Signed messages, as sent or changed after signing: accepted, duplicates, ordering refusals and every
    # field's own refusal, where schema-generated bodies mostly stop at the first key.
    single = gateway.schema["/messages"]["POST"]
    fuzz(gateway, signed_bodies().map(lambda body: single.Case(body=body, media_type="application/json")))
    batch = gateway.schema["/v1/projects/{project}/messages"]["POST"]
    fuzz(
        gateway,
        st.builds(
            lambda project, bodies: batch.Case(
                path_parameters={"project": project}, body={"messages": bodies}, media_type="application/json"
            ),
            st.sampled_from([1, 1, 1, 2]),
            # The first message once more at the end: a duplicate when it was accepted.
            st.lists(signed_bodies(), min_size=1, max_size=6).map(lambda bodies: [*bodies, bodies[0]]),
        ),
    )
    assert {label for label, count in gateway.cases.items() if count} == {
        f"{operation.method.upper()} {operation.path}" for operation in operations
    }
    outcomes = gateway.outcomes
    assert outcomes["accepted"] and outcomes["duplicate"] and outcomes["refused"], outcomes
    print(f"fuzzed {sum(gateway.cases.values())} cases", gateway.cases, outcomes)
