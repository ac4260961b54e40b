"""A run's gas summary (``proofstream demo --json``, ``project run``): the tasks' shares of each assign and route
transaction add up to all of its gas, counted once per transaction, over the messages the tasks held."""

from __future__ import annotations

from proofstream.simulation import RunSummary, TaskSummary


def _task(n: int, messages: int, assign: tuple[str, int], route: tuple[str, int] | None) -> TaskSummary:
    return TaskSummary(
        task_id=str(n),
        device="0xd",
        status="settled" if route else "failed",
        messages=messages,
        output=1,
        constraints=None,
        prove_seconds=None,
        assign_tx=assign[0],
        assign_gas=assign[1],
        route_tx=route[0] if route else None,
        route_gas=route[1] if route else None,
        reason=None,
    )


def _summary(*tasks: TaskSummary) -> RunSummary:
    return RunSummary("p", "groth16", 31337, 1, "0xt", 1, "metre", "metres", tasks=list(tasks))


def test_gas_adds_every_share_and_counts_each_transaction_once() -> None:
    summary = _summary(
        _task(1, 16, ("0xa1", 60_000), ("0xr1", 150_000)),
        _task(2, 16, ("0xa1", 40_000), ("0xr1", 150_001)),
        _task(3, 4, ("0xa2", 55_000), None),  # assigned, never routed: its assignment still counts
    )
    gas = summary.gas()
    assert (gas.assign, gas.route) == (155_000, 300_001)
    assert (gas.assign_transactions, gas.route_transactions) == (2, 1)
    assert (gas.messages, gas.tasks) == (36, 3)
    assert gas.per_message == round(455_001 / 36)
    data = summary.to_json()
    assert data["gas"]["per_message"] == gas.per_message
    assert data["gas"]["route"] == sum(t["route_gas"] or 0 for t in data["tasks"])


def test_a_run_without_messages_costs_nothing_per_message() -> None:
    assert _summary().gas().per_message == 0
