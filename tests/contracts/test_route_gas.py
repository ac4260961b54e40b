"""The route's gas limit leaves the DApp a measured margin: a DApp that swallows an inner out-of-gas and reverts
with its own error (docs/protocol.md, "A DApp's gas") would otherwise see its task failed for good."""

from __future__ import annotations

import pytest
from chain_world import LAST, World

from proofstream.chain.contracts import ROUTE_GAS, TaskStatus
from proofstream.chain.gas import DAPP_GAS_MARGIN, dapp_gas, route_gas_limit

pytestmark = pytest.mark.chain

PROOF = b"\x42" * 256
ROUNDS = 12_000
"""About 1.2M gas of work in the DApp's inner call: more than a ROUTE_GAS route leaves it."""


def _swallowing_project(world: World) -> tuple[int, str]:
    artifact = world.compilation.artifact("SwallowingDApp")
    deployed = world.client.deploy(artifact, ROUNDS, sender=world.owner)
    assert deployed.contract_address is not None
    project, _ = world.core.projects.create_project(
        b"\x07" * 32,
        "g",
        world.project.verifier,
        deployed.contract_address,
        world.sequencer.address,
        sender=world.owner,
    )
    return project, deployed.contract_address


def test_too_little_gas_fails_such_a_task_for_good(world: World) -> None:
    """What the margin prevents, shown with the old fixed limit."""
    project, _ = _swallowing_project(world)
    world.register_device(project)
    record = world.assign(project=project)
    result = world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover, gas=ROUTE_GAS)
    assert not result.settled and result.failure_reason is not None
    assert world.client.decode_error(result.failure_reason)[0] == "InnerFailed"
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.FAILED


def test_the_measured_limit_settles_it(world: World) -> None:
    project, dapp = _swallowing_project(world)
    world.register_device(project)
    record = world.assign(project=project)
    need = dapp_gas(
        world.client,
        router=world.core.router.address,
        dapp=dapp,
        project=project,
        task_id=record.task_id,
        device=record.device,
        outputs=[1],
    )
    assert need is not None and need > ROUTE_GAS
    limit = route_gas_limit(world.client, world.core, record.task_id, [1])
    assert limit >= ROUTE_GAS + need * DAPP_GAS_MARGIN
    result = world.core.router.route(record.task_id, [1], LAST, PROOF, sender=world.prover, gas=limit)
    assert result.settled
    assert result.receipt.gas_used < limit
    assert world.core.tasks.get_task(record.task_id).status is TaskStatus.SETTLED


def test_a_small_dapp_keeps_the_base_limit_plus_its_margin(world: World) -> None:
    record = world.assign()
    limit = route_gas_limit(world.client, world.core, record.task_id, [5])
    assert ROUTE_GAS < limit < ROUTE_GAS + 400_000
    assert world.core.router.route(record.task_id, [5], LAST, PROOF, sender=world.prover, gas=limit).settled
