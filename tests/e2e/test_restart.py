"""Crash recovery, end to end: the node is SIGKILLed in the middle of a run and started again on the same data
folder and chain.

What must hold: every message the gateway acknowledged survives the kill; tasks left in ``proving`` or
``submitted`` resume and are checked on chain before anything is sent again, so each task settles exactly once
(one TaskSettled event, one route transaction); and each device owner ends with exactly the tokens the Python
reference computes for its fixes.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from restart_helpers import (
    NodeProcess,
    assigned_task_count,
    stored_message_ids,
    task_statuses,
    wait_until,
    write_settings,
)
from web3.types import RPCEndpoint

from proofstream.chain.accounts import dev_account
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.rewards import RewardDApp, RewardToken
from proofstream.chain.contracts.tasks import TaskStatus as ChainStatus
from proofstream.chain.deploy import DeploymentManifest, attach_core
from proofstream.chain.localnet import Localnet
from proofstream.chain.solc import compile_core
from proofstream.demo import demo_project
from proofstream.domain.circuit_task import TaskRecord
from proofstream.domain.eip712 import Domain
from proofstream.errors import MessageError
from proofstream.projects.build import build_project
from proofstream.projects.deploy import deploy_built_project, snapshot_version, write_manifest
from proofstream.sdk.device import DeviceKey, GatewayClient
from proofstream.templates.tracker_distance import logic

pytestmark = [pytest.mark.slow, pytest.mark.chain]

SPEC = demo_project()
"""What `proofstream node` runs without --project: the tracker-distance template at the demo's capacity (16). The
node's process scaffolds its own copy; the same content, so the same config hash as the one deployed here."""
DEVICES = 3
TASKS_PER_DEVICE = 2
FIXES_PER_DEVICE = TASKS_PER_DEVICE * SPEC.capacity
FIRST_START_TIMEOUT_S = 300.0
"""The first start may compile the contracts and build the circuit (both cached afterwards)."""
RESTART_TIMEOUT_S = 120.0
SETTLE_TIMEOUT_S = 180.0
FINAL = frozenset({"settled", "failed"})


def test_sigkilled_node_resumes_and_settles_every_task_exactly_once(tmp_path: Path) -> None:
    with Localnet() as chain:
        # The chain is the test's, not the node's: the operator deploys first (a node deploys on its own only on
        # an anvil it started) and the node runs with the operator's key. The key is one of the test chain's.
        operator = dev_account(0)
        _deploy(tmp_path / "data", chain.rpc_url, operator)
        settings = write_settings(tmp_path, chain.rpc_url, operator.key.hex())
        first = NodeProcess(settings, tmp_path / "node-first.log")
        second = NodeProcess(settings, tmp_path / "node-second.log")
        try:
            _kill_and_restart(tmp_path / "data", chain.rpc_url, first, second)
        except BaseException:
            for name, node in (("first", first), ("second", second)):
                print(f"===== {name} node log ({node.log_path}) =====\n{node.log_tail(200)}")
            raise
        finally:
            first.cleanup()
            second.cleanup()


def _deploy(data: Path, rpc_url: str, operator: LocalAccount) -> None:
    """What `proofstream project deploy --chain URL` does, into the node's data folder."""
    data.mkdir(parents=True, exist_ok=True)
    client = ChainClient(rpc_url, operator)
    build = build_project(SPEC, out_dir=data / "build")
    manifest, _ = deploy_built_project(client, build, None, owner=operator, sequencer=operator.address)
    snapshot_version(SPEC, data, client.chain_id, 1)
    write_manifest(data / f"deployments-{client.chain_id}.json", manifest)


def _kill_and_restart(data: Path, rpc_url: str, first: NodeProcess, second: NodeProcess) -> None:
    db = data / "proofstream.sqlite3"
    ready = first.start(FIRST_START_TIMEOUT_S)

    # --- attach to what the node deployed, as an outsider would -------------------------------------------------
    manifest = DeploymentManifest.from_json((data / "deployments-31337.json").read_text())
    deployment = manifest.project(ready.project)
    compilation = compile_core()  # the core contracts' ABIs do not depend on the project's verifier
    client = ChainClient(rpc_url, dev_account(0))
    core = attach_core(client, manifest.core, compilation)
    token = RewardToken.at(client, deployment.reward_token, compilation)
    dapp = RewardDApp.at(client, deployment.reward_dapp, compilation)
    rate = dapp.rate_per_unit()
    project = deployment.project
    config = core.projects.current_version(project)
    domain = Domain(client.chain_id, manifest.core.device_registry)

    # --- devices: registered on chain by the project owner, then admitted once the indexer has seen them --------
    keys = [DeviceKey.generate() for _ in range(DEVICES)]
    owners = [Account.create().address for _ in keys]
    for key, owner in zip(keys, owners, strict=True):
        core.devices.register_device(
            project, key.address, owner, key.sign_binding(domain, project, owner), sender=dev_account(0)
        )

    # Fixes from the template's generator, ending a few seconds ago (the gateway takes no messages from the
    # future); a first draw from time 0 tells how long the tracks span.
    generator = SPEC.generator()

    def readings(seed: int, start: int) -> list[tuple[int, dict[str, int]]]:
        return list(generator.readings(random.Random(seed), seed, FIXES_PER_DEVICE, start))

    span = max(readings(seed, 0)[-1][0] for seed in range(DEVICES))
    tracks = [readings(seed, int(time.time()) - span - 5) for seed in range(DEVICES)]
    assert all(timestamp < time.time() for track in tracks for timestamp, _ in track)
    acked: dict[str, tuple[int, int]] = {}
    """message id -> (device index, nonce), for every message the gateway acknowledged."""
    with GatewayClient(ready.gateway_url) as gateway:

        def send(device: int, nonce: int, fix: tuple[int, dict[str, int]]) -> str:
            timestamp, payload = fix
            body = keys[device].sign_message(SPEC.schema, domain, project, config, nonce, timestamp, payload)
            return str(gateway.send(body).id)

        for device, track in enumerate(tracks):
            first_id = _send_when_admitted(partial(send, device, 0, track[0]))
            acked[first_id] = (device, 0)
            for nonce in range(1, FIXES_PER_DEVICE):
                acked[send(device, nonce, track[nonce])] = (device, nonce)
    assert len(acked) == DEVICES * FIXES_PER_DEVICE

    # --- SIGKILL mid-run, with a route transaction in flight ------------------------------------------------
    # Once every task is assigned and one has settled, the chain stops mining on its own: the next route tx
    # waits in the pool, the node waits for its receipt, and the kill lands with that task in ``submitted``.
    # The tx is mined after the node's death, so on restart the store says submitted and the chain says settled.
    def ready_to_freeze() -> bool:
        statuses = task_statuses(db)
        unfinished = sum(1 for s in statuses.values() if s not in FINAL)
        return (
            len(statuses) == DEVICES * TASKS_PER_DEVICE
            and assigned_task_count(db) == len(statuses)
            and "settled" in statuses.values()
            and unfinished >= 2
        )

    wait_until(ready_to_freeze, "all tasks assigned, one settled, two or more unfinished", SETTLE_TIMEOUT_S, 0.02)
    _rpc(client, "evm_setAutomine", [False])
    try:
        wait_until(
            lambda: "submitted" in task_statuses(db).values() and _pending_to(client, manifest.core.router) > 0,
            "a route transaction in flight",
            SETTLE_TIMEOUT_S,
            0.05,
        )
        first.kill()
    finally:
        _rpc(client, "evm_mine", [])
        _rpc(client, "evm_setAutomine", [True])
    snapshot = task_statuses(db)  # exact: nothing writes the store any more
    print(f"killed pid={first.pid} with tasks {sorted(Counter(snapshot.values()).items())}")
    assert "settled" in snapshot.values(), f"nothing settled before the kill: {snapshot}"
    assert any(status not in FINAL for status in snapshot.values()), f"the kill came too late: {snapshot}"
    in_flight = [int(task) for task, status in snapshot.items() if status == "submitted"]
    assert any(core.tasks.get_task(task).status is ChainStatus.SETTLED for task in in_flight), (
        "no task was left submitted in the store yet settled on chain"
    )

    # Every acknowledged message was durable before the acknowledgement went out.
    assert set(acked) <= stored_message_ids(db), "acknowledged messages lost in the kill"

    # --- restart on the same data and chain ---------------------------------------------------------------------
    ready_again = second.start(RESTART_TIMEOUT_S)
    assert ready_again.project == ready.project

    def all_final() -> bool:
        statuses = task_statuses(db)
        return len(statuses) == DEVICES * TASKS_PER_DEVICE and set(statuses.values()) <= FINAL

    wait_until(all_final, "every task to be final after the restart", SETTLE_TIMEOUT_S)
    statuses = task_statuses(db)
    assert set(statuses.values()) == {"settled"}, f"tasks did not all settle: {statuses}"

    # --- the chain agrees, and nothing was sent twice ----------------------------------------------------------
    task_ids = {int(task) for task in statuses}
    for task in task_ids:
        assert core.tasks.get_task(task).status is ChainStatus.SETTLED
    settled_events = core.router.task_settled_events(manifest.core.start_block, "latest")
    assert Counter(e.task_id for e in settled_events) == Counter(dict.fromkeys(task_ids, 1))
    assert core.router.task_failed_events(manifest.core.start_block, "latest") == []
    # Routes are batched: every transaction to the Router settled tasks; none was a resend that landed for nothing.
    route_txs = {e.position.tx_hash for e in settled_events}
    assert _transactions_to(client, manifest.core.router, manifest.core.start_block) == len(route_txs), (
        "a route transaction was sent more than once"
    )
    settle_tx = {int(e.task_id): e.position.tx_hash for e in settled_events}

    # --- every acknowledged message reports its settlement through the restarted gateway -----------------------
    by_task: dict[int, list[tuple[int, int]]] = {}
    with GatewayClient(ready_again.gateway_url) as gateway:
        for message_id, (device, nonce) in acked.items():
            status: dict[str, Any] = gateway.status(message_id)
            assert status["status"] == "settled", status
            task = int(status["task_id"])
            assert _same_tx(status.get("tx_hash"), settle_tx[task]), status
            by_task.setdefault(task, []).append((device, nonce))
    assert set(by_task) == task_ids
    assert all(len(members) == SPEC.capacity for members in by_task.values())

    # --- rewards: each owner holds exactly the Python reference's metres times the DApp's rate -----------------
    # Each device's tasks in nonce order, each from the previous one's last fix (the anchor).
    expected = [0] * DEVICES
    previous: dict[int, TaskRecord] = {}
    for members in sorted(by_task.values(), key=lambda m: (m[0][0], min(n for _, n in m))):
        (device,) = {d for d, _ in members}
        fixes = [TaskRecord(nonce, *tracks[device][nonce]) for _, nonce in sorted(members)]
        logic.check(fixes)
        (metres,) = logic.outputs(fixes, previous.get(device))
        previous[device] = fixes[-1]
        expected[device] += metres * rate
    assert all(amount > 0 for amount in expected)
    # Rewards accrue per device until claimed; anyone may claim (an account the node does not use: no nonce race).
    dapp.claim([k.address for k in keys], sender=dev_account(9))
    assert [token.balance_of(owner) for owner in owners] == expected

    assert second.terminate() == 0, second.log_tail()


def _send_when_admitted(send: Callable[[], str]) -> str:
    """The gateway refuses a device (403 unknown_device) until the indexer has read its registration."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return send()
        except MessageError as exc:
            if exc.code != "unknown_device" or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _rpc(client: ChainClient, method: str, params: list[Any]) -> Any:
    response = client.web3.provider.make_request(RPCEndpoint(method), params)
    assert "error" not in response, response
    return response.get("result")


def _pending_to(client: ChainClient, address: str) -> int:
    """Transactions to ``address`` waiting in anvil's pool."""
    pool = _rpc(client, "txpool_content", [])
    target = to_checksum_address(address)
    return sum(
        1
        for by_nonce in pool.get("pending", {}).values()
        for tx in by_nonce.values()
        if tx.get("to") and to_checksum_address(tx["to"]) == target
    )


def _transactions_to(client: ChainClient, address: str, from_block: int) -> int:
    target = to_checksum_address(address)
    count = 0
    for number in range(from_block, client.block_number() + 1):
        block = client.web3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            to = tx.get("to") if not isinstance(tx, bytes) else None
            if to is not None and to_checksum_address(to) == target:
                count += 1
    return count


def _same_tx(a: str | None, b: str) -> bool:
    return a is not None and a.lower().removeprefix("0x") == b.lower().removeprefix("0x")
