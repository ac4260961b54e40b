"""store.retry: which store errors are tried again, how long it waits, what it logs (the roles' use of it is in
tests/unit/test_pipeline_roles.py)."""

from __future__ import annotations

import logging

import pytest

from proofstream.domain.types import TaskId
from proofstream.errors import ConflictError, StaleTaskError, StoreError
from proofstream.store.retry import Backoff, retry_write

TASK = TaskId(2**200 + 7)


class Flaky:
    """A write that raises ``errors`` one after the other, then returns ``"done"``."""

    def __init__(self, *errors: StoreError) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_transient_errors_are_retried_with_growing_waits(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    write = Flaky(StoreError("store write failed: disk I/O error"), StoreError("store commit failed: locked"))
    with caplog.at_level(logging.WARNING, logger="proofstream.store.retry"):
        assert retry_write(write, task=TASK, backoff=Backoff(first_delay=0.5, sleep=sleeps.append)) == "done"
    assert (write.calls, sleeps) == (3, [0.5, 1.0])
    messages = [r.getMessage() for r in caplog.records]
    assert [f"task={TASK} attempt={n} " in m for n, m in enumerate(messages, 1)] == [True, True]
    assert all(r.levelno == logging.WARNING for r in caplog.records)


def test_waits_are_capped_and_the_last_error_is_raised(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    backoff = Backoff(attempts=5, first_delay=1.0, factor=3.0, max_delay=4.0, sleep=sleeps.append)
    write = Flaky(*(StoreError(f"failure {n}") for n in range(5)))
    with (
        caplog.at_level(logging.WARNING, logger="proofstream.store.retry"),
        pytest.raises(StoreError, match="failure 4"),
    ):
        retry_write(write, task=TASK, backoff=backoff)
    assert (write.calls, sleeps) == (5, [1.0, 3.0, 4.0, 4.0])
    last = caplog.records[-1]
    assert last.levelno == logging.ERROR and f"giving up task={TASK} attempts=5" in last.getMessage()


@pytest.mark.parametrize(
    "refusal",
    [
        StaleTaskError("task 1 is proving, not batched"),
        ConflictError("nonce used", code="attestation_conflict"),
        StoreError("task 1 is unknown", code="unknown_task"),
        StoreError("the store is closed", code="store_closed"),
    ],
)
def test_a_refusal_is_raised_at_once(refusal: StoreError, caplog: pytest.LogCaptureFixture) -> None:
    """Another try would meet the same answer: no wait, no retry log."""
    sleeps: list[float] = []
    write = Flaky(refusal)
    with caplog.at_level(logging.WARNING, logger="proofstream.store.retry"), pytest.raises(type(refusal)) as caught:
        retry_write(write, task=TASK, backoff=Backoff(sleep=sleeps.append))
    assert caught.value is refusal
    assert (write.calls, sleeps, caplog.records) == (1, [], [])


def test_one_attempt_means_no_retry() -> None:
    sleeps: list[float] = []
    with pytest.raises(StoreError):
        retry_write(Flaky(StoreError("full")), task=TASK, backoff=Backoff(attempts=1, sleep=sleeps.append))
    assert sleeps == []


@pytest.mark.parametrize(
    "settings",
    [{"attempts": 0}, {"first_delay": -1.0}, {"factor": 0.5}, {"first_delay": 3.0, "max_delay": 2.0}],
)
def test_a_backoff_that_could_not_work_is_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid backoff"):
        Backoff(**settings)  # type: ignore[arg-type]
