"""Router.route gives every DApp call exactly DAPP_GAS or reverts: whatever gas a prover sends, a DApp that fits
its budget is never starved into failing a task for good, even one that swallows an inner out-of-gas and reverts
with its own error (docs/protocol.md, "A DApp's gas")."""

from __future__ import annotations

import pytest
from chain_world import LAST, World

from proofstream.chain.contracts.router import DAPP_GAS, ROUTE_GAS
from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.errors import ProofstreamError

pytestmark = pytest.mark.chain

PROOF = b"\x42" * 256
FITS = 1_500
"""Rounds of about 100 gas (and the memory abi.encode grows by): some 200k of work, within DAPP_GAS."""
TOO_MUCH = 12_000
"""About 1.2M gas of work: more than DAPP_GAS."""


def _swallowing_project(world: World, rounds: int) -> int:
    project, _ = world.project_with_dapp("SwallowingDApp", rounds)
    return project


def test_no_gas_limit_fails_a_task_whose_dapp_fits_its_budget(world: World) -> None:
    """Every limit from far too little to plenty: the route reverts (the task stays assigned) or settles."""
    project = _swallowing_project(world, FITS)
    record = world.assign(project=project)
    outcomes = []
    for gas in range(400_000, ROUTE_GAS + 1, 100_000):
        try:
            result = world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover, gas=gas)
        except ProofstreamError:
            assert world.core.tasks.get_task(record.task_id).status is TaskStatus.ASSIGNED
            outcomes.append("reverted")
            continue
        assert result.settled, f"a route with {gas} gas failed the task"
        outcomes.append("settled")
        break
    assert outcomes[-1] == "settled" and outcomes[0] == "reverted"
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.SETTLED


def test_a_dapp_over_its_budget_fails_whatever_the_gas(world: World) -> None:
    project = _swallowing_project(world, TOO_MUCH)
    record = world.assign(project=project)
    result = world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover, gas=DAPP_GAS * 6)
    assert not result.settled and result.failure_reason is not None
    assert world.client.decode_error(result.failure_reason)[0] == "InnerFailed"
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.FAILED


def test_the_default_limit_settles_a_small_dapp(world: World) -> None:
    record = world.assign()
    result = world.core.router.route(record.task_id, [5], LAST, PROOF, sender=world.prover)
    assert result.settled and result.receipt.gas_used < ROUTE_GAS
