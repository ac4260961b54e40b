"""Proving time per task: the snarkjs CLI against the fast path (warm witness worker + groth16py), per template.

A benchmark that prints figures, not a test. For each template circuit (tracker-distance, weather-quality, uptime,
capacity 8), and for its signed variant (``project new --signatures circuit``: capacity 4, every message's
EdDSA-Poseidon signature checked in the circuit, shown as ``+sig``), a child process of its own builds (or loads
from the cache) the circuit and its Groth16 keys, then
proves full tasks from the template's generator through the node's Groth16Backend, alternating CLI and fast on
the same tasks (CLI, fast, CLI, fast, ...) so both meet the same machine state. It reports constraints, the time
per task (min and median; the fast path's first proof, which starts its processes, apart), their ratio, tasks per
minute with 1 and 2 workers (threads on one backend, as the node's ``prover.workers`` runs them), and peak memory:
of the CLI's biggest child process (``RUSAGE_CHILDREN``) and of one fast lane's two processes (``VmHWM``). The
last proof of each path is checked with ``snarkjs groth16 verify``.

    .venv/bin/python bench/prove.py [--quick] [--rounds 5] [--tasks 4] [--circuits tracker-distance,uptime]
        [--signatures gateway,circuit]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from proofstream.circuits.build import build_circuit
from proofstream.circuits.signed import sign_task
from proofstream.domain.circuit_task import CircuitTask, TaskRecord
from proofstream.domain.eddsa import EddsaKey
from proofstream.domain.layout import batch_root
from proofstream.projects.circuit import ProjectCircuit
from proofstream.projects.scaffold import scaffold, template_dir
from proofstream.projects.spec import ProjectSpec, load_project
from proofstream.prover.groth16 import Groth16Backend, SnarkjsProver, verify
from proofstream.prover.warm import WarmProver, fast_prover_installed

TEMPLATES = ("tracker-distance", "weather-quality", "uptime")
PROJECT = 7
PROVER = 0x2546BCD3C84621E976D8185A91A922AE77ECEC30
START = 1_764_300_000
SIGNATURES = ("gateway", "circuit")
"""Who checks the device signatures: the gateway (the plain template) or the circuit (its signed variant)."""
DEVICE_KEY = EddsaKey(bytes([7]) * 32)
"""The BabyJubJub key that signs the signed variant's tasks."""
CHAIN_ID = 31337
REGISTRY = 0x5FBDB2315678AFECB367F032D93F642F64180AA3
"""The chain and DeviceRegistry the signed messages are signed under (any values do: they are public inputs)."""


def make_task(spec: ProjectSpec, index: int) -> CircuitTask:
    """A full task (capacity messages) of device ``index`` from the template's own generator, a device's first."""
    device = 0x1000 + index
    readings = spec.generator().readings(random.Random(index), index, spec.capacity, START)
    records = tuple(TaskRecord(nonce, timestamp, payload) for nonce, (timestamp, payload) in enumerate(readings))
    root = batch_root(PROJECT, device, records, spec.schema.payload_names, spec.depth)
    task = CircuitTask(PROJECT, 0xB000 + index, device, PROVER, root, records)
    if spec.circuit_signatures:
        return sign_task(task, DEVICE_KEY, CHAIN_ID, REGISTRY, spec.schema.payload_names)
    return task


def timed(prove: Callable[[CircuitTask], object], task: CircuitTask) -> float:
    started = time.perf_counter()
    prove(task)
    return time.perf_counter() - started


def tasks_per_minute(backend: Groth16Backend, tasks: Sequence[CircuitTask], workers: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(backend.prove, tasks))
    return 60 * len(tasks) / (time.perf_counter() - started)


def peak_kb(pid: int) -> int:
    """A live process's peak resident memory (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measure(name: str, signatures: str, rounds: int, n_tasks: int) -> dict[str, Any]:
    """Everything for one template (or its signed variant), in this (child) process."""
    if signatures == "circuit":
        with tempfile.TemporaryDirectory(prefix="proofstream-bench-") as parent:
            # Scaffolded under one fixed name, so its files, and so its cached build, are the same each run.
            folder = scaffold("bench-signed", name, Path(parent), signatures="circuit")
            return _measure(load_project(folder), rounds, n_tasks)
    return _measure(load_project(template_dir(name)), rounds, n_tasks)


def _measure(spec: ProjectSpec, rounds: int, n_tasks: int) -> dict[str, Any]:
    built = time.perf_counter()
    artifacts = build_circuit(spec.circuit_path, spec.circuit_name)
    build_s = time.perf_counter() - built
    circuit = ProjectCircuit.of(spec)
    tasks = [make_task(spec, i) for i in range(max(rounds, n_tasks))]
    cli = Groth16Backend(circuit, artifacts, SnarkjsProver(artifacts))
    warm = WarmProver(artifacts, lanes=2)
    fast = Groth16Backend(circuit, artifacts, warm)
    try:
        first_fast_s = timed(fast.prove, tasks[0])  # starts the lane's two processes
        cli_s, fast_s = [], []
        for task in tasks[:rounds]:
            cli_s.append(timed(cli.prove, task))
            fast_s.append(timed(fast.prove, task))
        # The warm lane is alive, so RUSAGE_CHILDREN holds only the CLI's finished snarkjs and witness processes.
        cli_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        fast_peak = sum(peak_kb(pid) for pid in warm.processes)
        verified = verify(artifacts, cli.prove(tasks[0])) and verify(artifacts, fast.prove(tasks[0]))
        throughput: dict[str, float] = {}
        for workers in (1, 2):
            tasks_per_minute(fast, tasks[:workers], workers)  # a second lane starts before the clock does
            throughput[f"fast_{workers}"] = tasks_per_minute(fast, tasks[:n_tasks], workers)
            throughput[f"cli_{workers}"] = tasks_per_minute(cli, tasks[:n_tasks], workers)
    finally:
        fast.close()
    return {
        "circuit": spec.template + ("+sig" if spec.circuit_signatures else ""),
        "capacity": spec.capacity,
        "constraints": artifacts.constraints,
        "build_s": build_s,
        "cli_s": cli_s,
        "fast_s": fast_s,
        "first_fast_s": first_fast_s,
        "cli_peak_kb": cli_peak,
        "fast_peak_kb": fast_peak,
        "verified": verified,
        **throughput,
    }


def table(results: Sequence[dict[str, Any]]) -> str:
    head = (
        f"{'circuit':<21}{'cap':>4}{'constraints':>12}{'CLI min':>9}{'CLI med':>9}{'fast min':>9}{'fast med':>9}"
        f"{'ratio':>7}"
        f"{'1st fast':>9}{'t/min CLI 1|2':>15}{'t/min fast 1|2':>16}{'peak MB CLI|fast':>18}{'verified':>9}"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        cli_med, fast_med = statistics.median(r["cli_s"]), statistics.median(r["fast_s"])
        rows.append(
            f"{r['circuit']:<21}{r['capacity']:>4}{r['constraints']:>12}{min(r['cli_s']):>8.2f}s{cli_med:>8.2f}s"
            f"{min(r['fast_s']):>8.2f}s{fast_med:>8.2f}s{cli_med / fast_med:>6.1f}x{r['first_fast_s']:>8.2f}s"
            f"{r['cli_1']:>8.0f} |{r['cli_2']:>5.0f}{r['fast_1']:>9.0f} |{r['fast_2']:>5.0f}"
            f"{r['cli_peak_kb'] / 1024:>11.0f} |{r['fast_peak_kb'] / 1024:>5.0f}{'yes' if r['verified'] else 'NO':>9}"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, 2 tasks per throughput run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved CLI/fast proofs per circuit")
    parser.add_argument("--tasks", type=int, default=4, help="tasks per throughput run")
    parser.add_argument("--circuits", default=",".join(TEMPLATES))
    parser.add_argument("--signatures", default=",".join(SIGNATURES), help="gateway (the template), circuit (+sig)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-signatures", default="gateway", help=argparse.SUPPRESS)
    args = parser.parse_args()
    rounds, n_tasks = (3, 2) if args.quick else (args.rounds, args.tasks)
    if args.child:
        print(json.dumps(measure(args.child, args.child_signatures, rounds, n_tasks)))
        return
    if not fast_prover_installed():
        sys.exit("the fast path needs the fastprove extra (groth16py): ./dev.sh setup installs it")
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; rounds {rounds}, "
          f"{n_tasks} tasks per throughput run", flush=True)  # fmt: skip
    results = []
    for signatures in args.signatures.split(","):
        for name in args.circuits.split(","):
            argv = [sys.executable, __file__, "--child", name, "--child-signatures", signatures]
            argv += ["--rounds", str(rounds), "--tasks", str(n_tasks)]
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"{name} ({signatures}): {done.stderr[-3000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{result['circuit']}: {json.dumps({k: v for k, v in result.items() if k != 'circuit'})}", flush=True)
            results.append(result)
    print()
    print(table(results))


if __name__ == "__main__":
    main()
