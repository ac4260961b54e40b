"""``proofstream attester run`` as a real process with its own key, against anvil and a shared SQLite store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attest.attest_world import AttestWorld, store_task
from proofstream.chain.accounts import DEV_PRIVATE_KEYS, dev_account
from proofstream.chain.attest import deploy_attest_verifier
from proofstream.cli.attest import describe_project
from proofstream.domain.anchor import Anchor
from proofstream.domain.attestation import Attestation, attest_domain, recover_attester
from proofstream.domain.circuit_task import TaskRecord
from proofstream.domain.messages import message_leaf
from proofstream.domain.types import Address
from proofstream.errors import ConfigError
from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import load_project
from proofstream.prover.isolated import IsolatedLogic
from proofstream.store.sqlite import SqliteStore

LATS = [90_000_000, 90_001_000, 90_002_500, 90_004_000]


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return scaffold("walkers", "tracker-distance", tmp_path, backend="attest")


def test_describe_project_reads_the_folder_out_of_process(project_dir: Path) -> None:
    facts = describe_project(project_dir)
    spec = load_project(project_dir)
    assert (facts.backend, facts.capacity, facts.outputs) == ("attest", spec.capacity, spec.outputs)
    assert facts.config_hash == spec.content_hash()
    assert facts.logic_path == spec.logic_path


def test_describe_project_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"proofstream\.toml"):
        describe_project(tmp_path)


@pytest.mark.chain
def test_an_attester_process_signs_a_committed_task(aw: AttestWorld, project_dir: Path, tmp_path: Path) -> None:
    facts = describe_project(project_dir)
    verifier = deploy_attest_verifier(
        aw.client,
        aw.compilation,
        aw.core_deployment.router,
        aw.core_deployment.prover_registry,
        1,
        [dev_account(6).address],
        1,
        sender=aw.owner,
        outputs=1,
    )
    project, _ = aw.core.projects.create_project(
        facts.config_hash, "walkers", verifier.address, aw.project.reward_dapp, aw.sequencer.address, sender=aw.owner
    )
    store_path = tmp_path / "store.db"
    key_file = tmp_path / "attester.key"
    key_file.write_text(DEV_PRIVATE_KEYS[6] + "\n")
    key_file.chmod(0o600)
    with SqliteStore(store_path) as store:
        stored = store_task(
            store,
            chain_id=aw.client.chain_id,
            task_manager=aw.core_deployment.task_manager,
            project=project,
            domain=aw.device_domain,
            device=aw.device,
            lats=LATS,
        )
        aw.assign(first=0, last=len(LATS) - 1, root=stored.row.root, project=project)
        command = [
            sys.executable,
            "-c",
            "from proofstream.cli.attest import attester_app; attester_app()",
            "run",
            "--project",
            str(project_dir),
            "--store",
            str(store_path),
            "--key-file",
            str(key_file),
            "--rpc-url",
            aw.net.rpc_url,
            "--router",
            aw.core_deployment.router,
            "--device-registry",
            aw.core_deployment.device_registry,
            "--chain-id",
            str(aw.client.chain_id),
            "--poll",
            "0.2",
        ]
        log = tmp_path / "attester.log"
        with log.open("wb") as errors:  # a file, not a pipe nobody reads: the child must never block on its log
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=dict(os.environ))
        try:
            assert process.stdout is not None
            ready = process.stdout.readline().decode()
            assert ready.startswith(f"READY attester {dev_account(6).address}"), log.read_text()
            deadline = time.monotonic() + 60
            while not store.attestations(stored.row.id) and time.monotonic() < deadline:
                time.sleep(0.2)
            (attestation,) = store.attestations(stored.row.id)
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert process.returncode == 0
    records = tuple(
        TaskRecord(m.nonce, m.timestamp, {"lat": int(m.payload[0]), "lon": int(m.payload[1])}) for m in stored.messages
    )
    outputs = IsolatedLogic(facts.logic_path).run(records)
    assert attestation.outputs == outputs and outputs[0] > 0
    end = stored.messages[-1]
    last = Anchor(end.timestamp, message_leaf(project, end))
    digest = Attestation.of_outputs(
        project, 1, stored.row.id, stored.row.root, outputs, (0, 0, last.timestamp, last.leaf)
    ).digest(attest_domain(aw.client.chain_id, aw.core_deployment.router))
    assert recover_attester(digest, attestation.signature) == Address(dev_account(6).address)
    inputs = aw.core.router.public_inputs_of(stored.row.id, list(outputs), last)
    assert verifier.verify(inputs, attestation.signature)


def test_the_cli_refuses_a_groth16_project(tmp_path: Path) -> None:
    folder = scaffold("zk", "tracker-distance", tmp_path)
    key = tmp_path / "k"
    key.write_text(DEV_PRIVATE_KEYS[6])
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from proofstream.cli.attest import attester_app; attester_app()",
            "run",
            "--project",
            str(folder),
            "--store",
            str(tmp_path / "s.db"),
            "--key-file",
            str(key),
            "--rpc-url",
            "http://127.0.0.1:9",
            "--router",
            "0x" + "11" * 20,
            "--chain-id",
            "31337",
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert b"groth16" in done.stderr
