"""The gas limit of a route() transaction: a fixed base for the Router and the verifier, plus a measured margin
over what the project's DApp needs.

Why it is measured: Router.route() catches a reverting DApp and fails the task for good. It tells "the caller
sent too little gas" apart only when the DApp's call itself ran out (the Router is left 1/64 of what it had,
EIP-150) and then reverts the whole route instead. A DApp that catches an inner call's out-of-gas and reverts
with its own error looks like a DApp refusing the task, so a route sent with too little gas would fail the
task for good (docs/protocol.md, "A DApp's gas"). So the submitter never sends a route whose DApp call could
be short: the DApp's ``process`` is simulated on its own (eth_estimateGas from the Router's address, nothing
signed) and the route's limit leaves it a margin over that.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from eth_utils.address import to_checksum_address

from proofstream.chain.client import ChainClient
from proofstream.chain.contracts import ROUTE_GAS, CoreContracts
from proofstream.errors import ChainError

__all__ = ["DAPP_GAS_MARGIN", "IDAPP_ABI", "dapp_gas", "route_gas_limit"]

logger = logging.getLogger(__name__)

DAPP_GAS_MARGIN = 2
"""The route leaves the DApp this many times its measured need (after EIP-150's 63/64): state can move between
the measurement and the block (a balance, a storage slot first written), and unused gas is not paid for."""

INTRINSIC_GAS = 21_000
"""What eth_estimateGas counts for a transaction of its own and the Router's inner call does not pay."""

IDAPP_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "process",
        "inputs": [
            {"name": "project", "type": "uint64"},
            {"name": "taskId", "type": "uint256"},
            {"name": "device", "type": "address"},
            {"name": "outputs", "type": "uint256[]"},
        ],
        "outputs": [],
        "stateMutability": "nonpayable",
    }
]
"""IDapp.process (contracts/IDapp.sol), stable within protocol version 1."""


def dapp_gas(
    client: ChainClient, *, router: str, dapp: str, project: int, task_id: int, device: str, outputs: Sequence[int]
) -> int | None:
    """The gas ``dapp.process(...)`` uses when the Router calls it, measured on the pending state; None when it
    cannot be measured on its own (it reverts outside a route, e.g. it reads what route() writes first)."""
    contract = client.contract(dapp, IDAPP_ABI)
    call = contract.functions.process(project, task_id, to_checksum_address(device), [int(x) for x in outputs])
    try:
        estimate = client.estimate_gas(call, sender=router)
    except ChainError as exc:
        logger.info("DApp gas not measurable on its own dapp=%s task=%s: %s", dapp, task_id, exc)
        return None
    return max(estimate - INTRINSIC_GAS, 0)


def route_gas_limit(client: ChainClient, core: CoreContracts, task_id: int, outputs: Sequence[int]) -> int:
    """The gas limit to route ``task_id`` with: ROUTE_GAS (Router, verifier, settlement and a small DApp) plus
    DAPP_GAS_MARGIN times what the DApp measures, capped at the block gas limit."""
    record = core.tasks.get_task(task_id)
    need = dapp_gas(
        client,
        router=core.router.address,
        dapp=core.projects.dapp_of(record.project),
        project=record.project,
        task_id=task_id,
        device=record.device,
        outputs=outputs,
    )
    if need is None:
        return ROUTE_GAS
    # The DApp gets at most 63/64 of what the Router has left when it calls (EIP-150).
    share = -(-need * 64 // 63) * DAPP_GAS_MARGIN
    limit = min(ROUTE_GAS + share, client.block_gas_limit())
    logger.debug("route gas task=%s dapp_need=%d limit=%d", task_id, need, limit)
    return limit
