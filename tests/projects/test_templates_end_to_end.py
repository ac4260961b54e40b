"""Every template, with Groth16 and with attest, the way a developer uses it: scaffold, build, test, deploy to the
local chain and run with simulated devices. Each device owner's on-chain balance must equal the project's own
Python logic over the very messages its tasks settled, times the DApp's rate. One of them keeps its node's store
(and its attesters') in PostgreSQL, the real server (pg_server.py), as an operator who outgrew SQLite would."""

from __future__ import annotations

import re
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from pg_server import pg_schemas

from projects.helpers import cli
from proofstream.domain.tasks import TaskStatus
from proofstream.projects.scaffold import TEMPLATES, scaffold
from proofstream.projects.spec import load_project
from proofstream.settings import GatewaySettings, Settings, StoreSettings
from proofstream.simulation import run_project
from proofstream.store.postgres import PostgresStore

pytestmark = [pytest.mark.slow, pytest.mark.chain]


TUTORIAL = {("weather-quality", "groth16"), ("uptime", "attest")}
"""The two the tutorial builds, deploys and runs (tests/e2e/test_tutorial.py checks its rewards): not again here."""

ON_POSTGRES = ("tracker-distance", "attest")
"""The case whose node (and its attesters) keep the store in PostgreSQL: the whole pipeline, no extra run."""


@pytest.mark.parametrize(
    ("template", "backend"),
    [(t, b) for t in sorted(TEMPLATES) for b in ("groth16", "attest") if (t, b) not in TUTORIAL],
)
def test_scaffold_build_test_deploy_run(tmp_path: Path, template: str, backend: str) -> None:
    # The template's own circuit: the build cache is keyed by content alone, so the build the other tests made of
    # it is used again, whatever the project is called.
    root = scaffold(template, template, tmp_path, backend=backend)

    built = cli("project", "build", "--project", str(root))
    if backend == "groth16":
        assert re.search(r"[\d,]+ constraints, 12 public signals; needs powers of tau 2\^1[0-4]", built), built
        assert "unsafe for real funds" in built
    cli("project", "test", "--project", str(root), "--examples", "5")
    deployed = cli("project", "deploy", "--project", str(root), "--chain", "local")
    assert "chain id 31337" in deployed
    assert re.search(r"gas estimate: [\d,]+ gas", deployed)
    state = root / ".proofstream"
    assert (state / "deployments-31337.json").is_file()
    assert (state / "anvil-state.json").is_file()  # the local chain keeps its state between runs

    spec = load_project(root)
    with ExitStack() as stack:
        settings = None
        if (template, backend) == ON_POSTGRES:
            schemas = stack.enter_context(pg_schemas())
            schema = schemas.new()
            store = StoreSettings(url=f"{schemas.url}?schema={schema}")
            settings = Settings(gateway=GatewaySettings(port=0), store=store)
        summary = run_project(spec, devices=2, messages=9, data_dir=spec.state_dir, settings=settings)
        if settings is not None:  # the tasks are where the setting said, not in a SQLite file
            assert not list(spec.state_dir.glob("*.sqlite3"))
            with closing(PostgresStore(schemas.url, schema=schema)) as kept:
                settled = kept.tasks_with_status(TaskStatus.SETTLED)
                assert sorted(t.route_tx or "" for t in settled) == sorted(t.route_tx or "" for t in summary.tasks)

    assert summary.project == 1  # the deployed project, found again on the restarted local chain
    assert summary.backend == backend
    assert [d.accepted for d in summary.devices] == [9, 9]
    assert summary.tasks and {t.status for t in summary.tasks} == {"settled"}
    assert all(t.messages <= spec.capacity for t in summary.tasks)
    assert sum(t.messages for t in summary.tasks) == 18
    for device in summary.devices:
        assert device.proven == device.reference
        assert device.tokens_wei == device.proven * summary.rate_per_unit_wei
    assert sum(d.proven for d in summary.devices) > 0
    if backend == "groth16":
        assert all(t.constraints for t in summary.tasks)
    else:
        assert all(t.constraints is None for t in summary.tasks)
