"""Settlement gas per message and per task: one route per task against 1, 4, 16 and 64 tasks per route transaction.

A benchmark that prints figures, not a test. On a fresh anvil chain it deploys proofstream's core and the demo's
template (tracker-distance, scaffolded at capacity 8 unless ``--capacity`` says otherwise) twice: with its Groth16
verifier (the snarkjs-exported one for ``route``, the batch verifier generated from the same key for ``routeBatch``)
and with an attest verifier (2 of 3 attesters). For each backend it registers ``--tasks`` secp256k1 devices, assigns
one full task (capacity fixes from the generator) per device in one ``assignTasks``, proves each (real Groth16
proofs, the fast path when installed) or has the attesters sign it, takes an anvil snapshot, and then, going back to
the snapshot each time, routes the same tasks one ``route`` per task (today's path, the baseline) and in
``routeBatch`` transactions of each size. Gas per task is every assign and route transaction's gas over the tasks;
per message, over their messages. Rewards accrue in the DApp; the one claim that mints them is reported apart (it is
per device, not per task).

``--capacity 16`` runs the same with the template scaffolded at capacity 16 (``project new --capacity 16``:
``TrackerDistance(4)``, 2^15 powers of tau, what the demo runs): what a task of 16 fixes costs against one of 8.

    .venv/bin/python bench/settle.py [--tasks 64] [--sizes 1,4,16,64] [--backends groth16,attest] [--capacity 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from proofstream.chain.accounts import dev_account
from proofstream.chain.client import ChainClient
from proofstream.chain.contracts.rewards import RewardDApp
from proofstream.chain.contracts.router import RouteCall
from proofstream.chain.deploy import DeploymentManifest, ProjectDeployment, attach_core
from proofstream.chain.localnet import Localnet
from proofstream.demo import DEMO_TEMPLATE
from proofstream.domain.anchor import NO_ANCHOR, Anchor, anchor_after
from proofstream.domain.attestation import Attestation, attest_domain, sign_digest
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.eip712 import Domain
from proofstream.domain.layout import batch_root
from proofstream.domain.tasks import TaskCommitment
from proofstream.domain.types import Address, ConfigVersion, FieldElement, Nonce, ProjectId
from proofstream.projects.build import ProjectBuild, build_project
from proofstream.projects.circuit import ProjectCircuit
from proofstream.projects.deploy import deploy_built_project
from proofstream.projects.scaffold import scaffold, template_dir
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.prover.groth16 import Groth16Backend
from proofstream.prover.warm import WarmProver, fast_prover_installed
from proofstream.sdk.device import DeviceKey

START = 1_764_300_000
OWNER, SEQUENCER, PROVER = dev_account(0), dev_account(2), dev_account(3)
ATTESTERS = (dev_account(6), dev_account(7), dev_account(8))
GENERATOR = load_project(template_dir(DEMO_TEMPLATE)).generator()
"""The tracker template's simulated fixes (imported once)."""
MAX_TX_GAS = 16_000_000
"""Below the 2^24 gas cap a transaction may have since Osaka (EIP-7825)."""


@dataclass(frozen=True)
class Proven:
    """One assigned task, ready to route."""

    task_id: int
    outputs: tuple[int, ...]
    last: Anchor
    proof: bytes
    messages: int


@dataclass(frozen=True)
class Figures:
    backend: str
    task: int
    """1: each device's first task (its slots are written for the first time); 2: its second."""
    per_tx: int
    """Tasks per route transaction; 0 for one ``route`` per task (the baseline)."""
    tasks: int
    messages: int
    assign_gas: int
    route_gas: int
    claim_gas: int

    @property
    def per_task(self) -> int:
        return (self.assign_gas + self.route_gas) // self.tasks

    @property
    def per_message(self) -> int:
        return (self.assign_gas + self.route_gas) // self.messages


def _fixes(index: int, capacity: int, round_: int) -> list[TaskRecord]:
    """Device ``index``'s fixes of task ``round_`` (0: its first): nonces and times follow on from the task before."""
    readings = GENERATOR.readings(random.Random(index), index, 2 * capacity, START)
    records = [TaskRecord(nonce, timestamp, payload) for nonce, (timestamp, payload) in enumerate(readings)]
    return records[round_ * capacity : (round_ + 1) * capacity]


def _setup(
    client: ChainClient, build: ProjectBuild, manifest: DeploymentManifest | None, n: int
) -> tuple[DeploymentManifest, ProjectDeployment, list[DeviceKey], int]:
    """Deploy ``build``, register ``n`` devices and assign each one full task in one transaction."""
    attesters = [a.address for a in ATTESTERS] if build.spec.backend == "attest" else []
    manifest, deployment = deploy_built_project(
        client, build, manifest, owner=OWNER, sequencer=SEQUENCER.address, attesters=attesters
    )
    core = attach_core(client, manifest.core, build.compilation)
    if not core.provers.is_prover(PROVER.address):
        core.provers.register_prover(PROVER.address, sender=PROVER)
    for attester in ATTESTERS if attesters else ():
        if not core.provers.is_prover(attester.address):
            core.provers.register_prover(attester.address, sender=attester)
    project = ProjectId(deployment.project)
    domain = Domain(client.chain_id, manifest.core.device_registry)
    keys = [DeviceKey.generate() for _ in range(n)]
    for key in keys:
        owner = Account.create().address
        core.devices.register_device(
            project, key.address, owner, key.sign_binding(domain, project, owner), sender=OWNER
        )
    return manifest, deployment, keys, project


def _assign(
    client: ChainClient,
    build: ProjectBuild,
    manifest: DeploymentManifest,
    project: int,
    keys: Sequence[DeviceKey],
    round_: int,
) -> tuple[list[int], int]:
    spec = build.spec
    core = attach_core(client, manifest.core, build.compilation)
    names = spec.schema.payload_names
    commitments = []
    for i, key in enumerate(keys):
        fixes = _fixes(i, spec.capacity, round_)
        root = batch_root(project, int(key.address, 16), fixes, names, spec.depth)
        commitments.append(
            TaskCommitment(
                project=ProjectId(project),
                config=ConfigVersion(1),
                device=Address(key.address),
                first_nonce=Nonce(fixes[0].nonce),
                last_nonce=Nonce(fixes[-1].nonce),
                root=FieldElement(root),
                prover=Address(PROVER.address),
            )
        )
    result = core.tasks.assign_tasks(commitments, 10_000, sender=SEQUENCER, gas=MAX_TX_GAS)
    return list(result.task_ids), result.receipt.gas_used


def _prove_groth16(
    build: ProjectBuild, project: int, keys: Sequence[DeviceKey], ids: Sequence[int], round_: int
) -> list[Proven]:
    """Real proofs, each against its device's anchor: none for a first task, the task before's last fix else."""
    spec = build.spec
    assert build.artifacts is not None
    circuit = ProjectCircuit.of(spec)
    backend = Groth16Backend(circuit, build.artifacts, WarmProver(build.artifacts) if fast_prover_installed() else None)
    proven = []
    try:
        for i, (key, task_id) in enumerate(zip(keys, ids, strict=True)):
            task = _task(spec, project, key, i, task_id, round_)
            proof = backend.prove(task)
            n = len(proof.public_signals)
            last = Anchor(proof.public_signals[n - 2], proof.public_signals[n - 1], 1)
            proven.append(Proven(task_id, tuple(proof.public_signals[:1]), last, proof.calldata, len(task.records)))
    finally:
        backend.close()
    return proven


def _task(spec: ProjectSpec, project: int, key: DeviceKey, index: int, task_id: int, round_: int) -> CircuitTask:
    """Device ``index``'s task ``round_``, against the anchor its task before leaves (none for its first)."""
    fixes = _fixes(index, spec.capacity, round_)
    device = int(key.address, 16)
    root = batch_root(project, device, fixes, spec.schema.payload_names, spec.depth)
    previous = _fixes(index, spec.capacity, round_ - 1)[-1] if round_ else None
    anchor = NO_ANCHOR if previous is None else _anchor(spec, project, device, previous)
    prover = int(PROVER.address, 16)
    return CircuitTask(project, task_id, device, prover, root, tuple(fixes), config=1, anchor=anchor, previous=previous)


def _anchor(spec: ProjectSpec, project: int, device: int, last: TaskRecord) -> Anchor:
    """The anchor a task whose last fix is ``last`` leaves."""
    fields = [last.payload[n] for n in spec.schema.payload_names]
    return anchor_after(project, device, 1, last.nonce, last.timestamp, fields)


def _attest(
    client: ChainClient,
    build: ProjectBuild,
    manifest: DeploymentManifest,
    project: int,
    keys: Sequence[DeviceKey],
    ids: Sequence[int],
    round_: int,
) -> list[Proven]:
    spec = build.spec
    logic = spec.logic()
    domain = attest_domain(client.chain_id, manifest.core.router)
    signers = sorted(ATTESTERS, key=lambda a: int(a.address, 16))[: spec.quorum]
    proven = []
    for i, (key, task_id) in enumerate(zip(keys, ids, strict=True)):
        task = _task(spec, project, key, i, task_id, round_)
        outputs = tuple(logic.outputs(list(task.records), task.previous))
        last = _anchor(spec, project, task.device, task.records[-1])
        anchors = (task.anchor.timestamp, task.anchor.leaf, last.timestamp, last.leaf)
        digest = Attestation.of_outputs(project, 1, task_id, task.root, outputs, anchors).digest(domain)
        proof = b"".join(sign_digest(bytes(s.key), digest) for s in signers)
        proven.append(Proven(task_id, outputs, last, proof, len(task.records)))
    return proven


def _route(
    client: ChainClient, build: ProjectBuild, manifest: DeploymentManifest, proven: Sequence[Proven], per_tx: int
) -> int:
    """Route every task, ``per_tx`` a transaction (0: one ``route`` each); the gas of all the transactions."""
    router = attach_core(client, manifest.core, build.compilation).router
    calls = [router.call_for(p.task_id, p.outputs, p.last, p.proof) for p in proven]
    gas = 0
    if per_tx == 0:
        for call in calls:
            result = router.route_call(call, sender=PROVER)
            assert result.settled
            gas += result.receipt.gas_used
        return gas
    for at in range(0, len(calls), per_tx):
        chunk: list[RouteCall] = calls[at : at + per_tx]
        results = router.route_batch(chunk, sender=PROVER)
        assert all(r.settled for r in results)
        gas += results[0].receipt.gas_used
    return gas


def run_backend(
    url: str,
    build: ProjectBuild,
    manifest: DeploymentManifest | None,
    n: int,
    sizes: Sequence[int],
    step: Callable[[str], None],
) -> tuple[DeploymentManifest, list[Figures]]:
    """Both rounds of one backend: every device's first task, then its second (against the anchor the first
    left), each routed from the same snapshot once per size; the first round is then routed for good."""
    backend = build.spec.backend
    client = ChainClient(url, OWNER)
    step(f"{backend}: deploying, registering {n} devices")
    manifest, deployment, keys, project = _setup(client, build, manifest, n)
    figures = []
    for round_ in (0, 1):
        ids, assign_gas = _assign(client, build, manifest, project, keys, round_)
        step(f"{backend}: task {round_ + 1} of each device: {'proving' if backend == 'groth16' else 'attesting'}")
        started = time.monotonic()
        if backend == "groth16":
            proven = _prove_groth16(build, project, keys, ids, round_)
        else:
            proven = _attest(client, build, manifest, project, keys, ids, round_)
        step(f"{backend}: {n} tasks in {time.monotonic() - started:.0f} s")
        messages = sum(p.messages for p in proven)
        for per_tx in (0, *sizes):
            snapshot = str(client.web3.provider.make_request("evm_snapshot", [])["result"])  # type: ignore[arg-type]
            route_gas = _route(client, build, manifest, proven, per_tx)
            dapp = RewardDApp.at(client, deployment.reward_dapp, build.compilation)
            claim = dapp.claim([k.address for k in keys], sender=OWNER).gas_used
            figures.append(Figures(backend, round_ + 1, per_tx, n, messages, assign_gas, route_gas, claim))
            client.web3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
            client = ChainClient(url, OWNER)  # a fresh client: the one before keeps nonces the chain went back on
        _route(client, build, manifest, proven, max(sizes))  # for good: the second round starts from these anchors
    return manifest, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--sizes", default="1,4,16,64")
    parser.add_argument("--backends", default="groth16,attest")
    parser.add_argument("--capacity", type=int, default=8, choices=(8, 16))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    def step(text: str) -> None:
        print(f"• {text}", flush=True)

    with tempfile.TemporaryDirectory(prefix="proofstream-settle-") as tmp, Localnet() as net:
        spec = load_project(scaffold(f"tracker-{args.capacity}", DEMO_TEMPLATE, Path(tmp), capacity=args.capacity))
        manifest: DeploymentManifest | None = None
        rows: list[Figures] = []
        for backend in args.backends.split(","):
            variant = spec if backend == "groth16" else dataclasses.replace(spec, backend=backend)
            step(f"{backend}: building the project")
            build = build_project(variant, out_dir=Path(tmp) / backend)
            manifest, figures = run_backend(net.rpc_url, build, manifest, args.tasks, sizes, step)
            rows += figures
    print()
    print(
        f"tracker-distance, capacity {args.capacity}: {args.tasks} devices, one full task of {args.capacity} fixes each"
        " per round (task 1, 2)"
    )
    print(
        f"{'backend':8} {'tasks/tx':>9} {'gas/task':>9} {'gas/msg':>8} {'assign/task':>12} {'route/task':>11}"
        f" {'vs route':>9} {'claim/device':>13}"
    )
    for row in rows:
        base = next(r for r in rows if (r.backend, r.task, r.per_tx) == (row.backend, row.task, 0))
        label = "route" if row.per_tx == 0 else str(row.per_tx)
        ratio = base.per_task / row.per_task
        assign, route, claim = (gas // row.tasks for gas in (row.assign_gas, row.route_gas, row.claim_gas))
        print(
            f"{row.backend:8} {row.task:>4} {label:>9} {row.per_task:>9,} {row.per_message:>8,} {assign:>12,}"
            f" {route:>11,} {ratio:>8.2f}x {claim:>13,}"
        )


if __name__ == "__main__":
    main()
