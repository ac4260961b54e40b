"""A real multi-party Groth16 phase-2 ceremony through the CLI, on a tiny circuit with the project interface.

The project is the uptime template with a one-constraint circuit (a setup on the repository's 2^14 powers of tau
takes a second). The ceremony does not depend on the project's circuit interface, which ``project build`` checks
(tests/projects/test_cli_errors.py) and which changes with the project format: that check is switched off here.
Init, two contributions and a beacon verify; a tampered
contribution does not; one contribution is not enough to finalize; the entropy never reaches a command line;
and a single-party setup is refused on a real chain by deploy and upgrade alike.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from projects.helpers import cli, invoke
from proofstream.circuits import tools
from proofstream.circuits.artifacts import CircuitArtifacts
from proofstream.errors import ConfigError, ToolchainError
from proofstream.projects import circuit as circuit_project
from proofstream.projects.build import ProjectBuild
from proofstream.projects.ceremony import CeremonyError, ceremony_artifacts, is_multi_party, verify_ceremony
from proofstream.projects.ceremony import steps as ceremony_steps
from proofstream.projects.ceremony import transcript as ceremony_transcript
from proofstream.projects.ceremony.transcript import ENTROPY_BYTES
from proofstream.projects.circuit import compile_project
from proofstream.projects.deploy import require_safe_setup, upgrade_project
from proofstream.projects.scaffold import scaffold
from proofstream.projects.spec import load_project

PTAU = Path(__file__).resolve().parents[2] / "ptau" / "pot14_proofstream.ptau"

TINY_CIRCUIT = """pragma circom 2.1.6;

// One constraint: a circuit small enough for a whole ceremony in a test.
template Tiny() {
    signal input a;
    signal input b;
    signal output c;
    c <== a * b;
}

component main {public [a]} = Tiny();
"""


def _tiny_project(parent: Path, name: str = "tiny-ceremony") -> Path:
    root = scaffold(name, "uptime", parent)
    (root / "circuit.circom").write_text(TINY_CIRCUIT)
    return root


@pytest.fixture(scope="module", autouse=True)
def _any_interface() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(circuit_project, "check_circuit_matches", lambda *args, **kwargs: None)
        yield


@pytest.fixture(scope="module")
def contributed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose ceremony has the initial key and two contributions (alice, bob), not finalized."""
    if not PTAU.is_file():
        pytest.skip(f"no powers of tau at {PTAU}")
    root = _tiny_project(tmp_path_factory.mktemp("ceremony"))
    try:
        compile_project(load_project(root))
    except ToolchainError as exc:
        pytest.skip(f"circuit toolchain unavailable: {exc}")
    cli("ceremony", "init", "--project", str(root), "--ptau", str(PTAU))
    folder = root / "ceremony"
    name = load_project(root).circuit_name
    cli(
        "ceremony",
        "contribute",
        str(folder / f"{name}_0000.zkey"),
        str(folder / f"{name}_0001.zkey"),
        "--name",
        "alice",
    )
    cli("ceremony", "contribute", str(folder / f"{name}_0001.zkey"), str(folder / f"{name}_0002.zkey"), "--name", "bob")
    return root


def _copy(root: Path, target: Path) -> Path:
    shutil.copytree(root, target)
    return target


def _transcript(root: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((root / "ceremony" / "transcript.json").read_text())
    return loaded


def _rewrite(root: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    raw = _transcript(root)
    edit(raw)
    (root / "ceremony" / "transcript.json").write_text(json.dumps(raw, indent=2))


def test_two_contributions_and_a_beacon_verify_and_the_build_uses_the_final_key(
    contributed: Path, tmp_path: Path
) -> None:
    root = _copy(contributed, tmp_path / "project")
    raw = _transcript(root)
    assert [(link["index"], link["kind"], link["name"]) for link in raw["chain"]] == [
        (0, "setup", "coordinator"),
        (1, "contribution", "alice"),
        (2, "contribution", "bob"),
    ]
    assert all(len(link["contribution_hash"]) == 128 for link in raw["chain"][1:])
    assert raw["ptau"]["power"] == 14
    assert len(raw["circuit"]["r1cs_sha256"]) == 64

    output = cli("ceremony", "verify", "--project", str(root))
    assert "#1 contribution by alice" in output
    assert "#2 contribution by bob" in output
    assert raw["chain"][2]["contribution_hash"] in output
    assert "ceremony verifies" in output

    beacon = "0x" + "5e" * 32
    output = cli("ceremony", "finalize", "--project", str(root), "--beacon", beacon, "--iterations", "10")
    assert "ceremony finalized" in output
    final = _transcript(root)
    link = final["chain"][-1]
    assert (link["kind"], link["beacon"], link["iterations_exp"]) == ("beacon", "5e" * 32, 10)
    assert final["final"]["zkey_sha256"] == link["zkey_sha256"]
    assert (root / "ceremony" / "verification_key.json").is_file()

    output = cli("ceremony", "verify", "--project", str(root))
    assert "#3 beacon by final beacon" in output
    assert "ceremony verifies" in output

    # project build (and so deploy and the node) takes the ceremony's keys instead of a single-party setup
    spec = load_project(root)
    artifacts = ceremony_artifacts(spec, compile_project(spec), tmp_path / "cache")
    assert artifacts is not None
    assert artifacts.zkey == root / "ceremony" / final["final"]["zkey"]
    assert artifacts.vkey == root / "ceremony" / "verification_key.json"
    assert "contract Groth16Verifier" in artifacts.verifier_sol.read_text()
    assert root not in artifacts.verifier_sol.parents  # generated GPL code stays in the cache
    assert is_multi_party(artifacts, root)
    _prove_and_verify(artifacts, tmp_path / "proof")
    build = _build_of(artifacts, multi_party=True)
    assert not build.single_party_setup
    assert require_safe_setup(build, local=False, force=False) is False

    # a finalized ceremony takes no more contributions
    head = root / "ceremony" / final["final"]["zkey"]
    code, output = invoke("ceremony", "contribute", str(head), str(root / "ceremony" / "late.zkey"), "--name", "eve")
    assert code == 1
    assert "finalized" in output


def test_a_tampered_contribution_fails_verify(contributed: Path, tmp_path: Path) -> None:
    root = _copy(contributed, tmp_path / "project")
    name = load_project(root).circuit_name
    key = root / "ceremony" / f"{name}_0002.zkey"
    data = bytearray(key.read_bytes())
    data[-100] ^= 0x01  # a point of the last section (H) no longer follows alice's key
    key.write_bytes(bytes(data))

    code, output = invoke("ceremony", "verify", "--project", str(root))
    assert code == 1
    assert "is not the key the transcript recorded" in output
    assert "ceremony DOES NOT verify" in output

    # whoever tampered with it rewrites the transcript too: snarkjs still refuses the key
    _rewrite(root, lambda raw: raw["chain"][2].update(zkey_sha256=hashlib.sha256(bytes(data)).hexdigest()))
    report = verify_ceremony(root / "ceremony")
    assert not report.ok
    assert [check.ok for check in report.links] == [True, True, False]
    assert "snarkjs zkey verify refuses it" in report.links[2].problems[0]

    code, output = invoke("ceremony", "finalize", "--project", str(root), "--beacon", "ab" * 32)
    assert code == 1
    assert "does not verify" in output
    assert "final" not in _transcript(root) or _transcript(root)["final"] is None


def test_a_contribution_renamed_in_the_transcript_fails_verify(contributed: Path, tmp_path: Path) -> None:
    root = _copy(contributed, tmp_path / "project")
    _rewrite(root, lambda raw: raw["chain"][1].update(name="mallory"))

    report = verify_ceremony(root / "ceremony")
    assert not report.ok
    assert any("differ from the transcript" in p for p in report.links[1].problems)


def test_finalize_with_one_contribution_is_refused(contributed: Path, tmp_path: Path) -> None:
    root = _copy(contributed, tmp_path / "project")
    _rewrite(root, lambda raw: raw.update(chain=raw["chain"][:2]))  # setup + alice only
    assert verify_ceremony(root / "ceremony").ok

    code, output = invoke("ceremony", "finalize", "--project", str(root), "--beacon", "ab" * 32)
    assert code == 1
    assert "(ceremony_too_few)" in output
    assert "at least 2" in output
    assert _transcript(root)["final"] is None
    assert not list((root / "ceremony").glob("*_final.zkey"))


def test_contribute_refuses_a_key_that_is_not_the_head(contributed: Path, tmp_path: Path) -> None:
    root = _copy(contributed, tmp_path / "project")
    name = load_project(root).circuit_name
    folder = root / "ceremony"
    code, output = invoke(
        "ceremony", "contribute", str(folder / f"{name}_0001.zkey"), str(folder / "fork.zkey"), "--name", "carol"
    )
    assert code == 1
    assert "(ceremony_not_head)" in output
    assert not (folder / "fork.zkey").exists()


def test_the_entropy_never_appears_in_the_argv_of_snarkjs(
    contributed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy(contributed, tmp_path / "project")
    name = load_project(root).circuit_name
    folder = root / "ceremony"
    secrets: list[str] = []
    real_entropy = ceremony_transcript.os_entropy

    def recorded_entropy() -> str:
        secrets.append(real_entropy())
        return secrets[-1]

    launched: list[tuple[list[str], str | None]] = []
    real_run = subprocess.run

    def recording_run(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        launched.append(([str(a) for a in argv], kwargs.get("input")))
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(ceremony_steps, "os_entropy", recorded_entropy)
    monkeypatch.setattr(subprocess, "run", recording_run)  # the launcher proofstream.circuits.tools uses
    output = cli(
        "ceremony", "contribute", str(folder / f"{name}_0002.zkey"), str(folder / f"{name}_0003.zkey"), "--name", "dan"
    )

    assert len(secrets) == 1
    secret = secrets[0]
    assert len(secret) == 2 * ENTROPY_BYTES
    contribute_runs = [(argv, stdin) for argv, stdin in launched if "contribute" in argv]
    assert len(contribute_runs) == 1
    argv, stdin = contribute_runs[0]
    assert stdin == secret + "\n"  # answers snarkjs' entropy prompt on stdin
    assert not any(arg.startswith(("-e", "--entropy")) for arg in argv)
    for run_argv, _ in launched:
        assert not any(secret in arg for arg in run_argv)
    assert secret not in output
    assert secret not in (folder / "transcript.json").read_text()
    assert _transcript(root)["chain"][-1]["name"] == "dan"


def test_a_changed_circuit_no_longer_uses_the_ceremony(contributed: Path, tmp_path: Path) -> None:
    root = _copy(contributed, tmp_path / "project")
    cli("ceremony", "finalize", "--project", str(root), "--beacon", "cd" * 32)
    circuit = root / "circuit.circom"
    circuit.write_text(circuit.read_text().replace("c <== a * b;", "c <== a * a;"))
    spec = load_project(root)

    with pytest.raises(CeremonyError) as caught:
        ceremony_artifacts(spec, compile_project(spec), tmp_path / "cache")
    assert caught.value.code == "ceremony_stale"


def _prove_and_verify(artifacts: CircuitArtifacts, out: Path) -> None:
    """A proof made with the ceremony's final key verifies under its verification key."""
    out.mkdir()
    (out / "input.json").write_text(json.dumps({"a": 3, "b": 5}))
    snarkjs = tools.snarkjs_cli(tools.node_modules())
    proved = tools.run_node(
        snarkjs,
        ["groth16", "fullprove", "input.json", artifacts.wasm, artifacts.zkey, "proof.json", "public.json"],
        cwd=out,
    )
    assert proved.returncode == 0, proved.output
    assert json.loads((out / "public.json").read_text()) == ["15", "3"]
    verified = tools.run_node(snarkjs, ["groth16", "verify", artifacts.vkey, "public.json", "proof.json"], cwd=out)
    assert verified.returncode == 0 and "OK!" in verified.output, verified.output


def _build_of(artifacts: object, *, multi_party: bool) -> ProjectBuild:
    """A ProjectBuild for the setup checks, which read only the artifacts and the flag."""
    return ProjectBuild(
        spec=cast(Any, None),
        compilation=cast(Any, None),
        artifacts=cast(CircuitArtifacts, artifacts),
        standard_json_path=Path("unused"),
        multi_party=multi_party,
    )


def test_deploy_and_upgrade_refuse_a_single_party_setup_on_a_real_chain_unless_forced() -> None:
    single = _build_of(object(), multi_party=False)
    assert single.single_party_setup
    with pytest.raises(ConfigError) as caught:
        require_safe_setup(single, local=False, force=False)
    assert caught.value.code == "unsafe_setup"
    assert "--force-unsafe-setup" in str(caught.value)
    assert require_safe_setup(single, local=False, force=True) is True
    assert require_safe_setup(single, local=True, force=False) is False
    attest = _build_of(None, multi_party=False)
    assert require_safe_setup(attest, local=False, force=False) is False

    # upgrade checks before it touches the chain (the client, manifest and deployment are never read)
    with pytest.raises(ConfigError) as caught:
        upgrade_project(
            cast(Any, None),
            single,
            cast(Any, None),
            cast(Any, None),
            owner=cast(Any, None),
            grace_blocks=10,
            local=False,
        )
    assert caught.value.code == "unsafe_setup"


def test_deploy_and_upgrade_both_offer_the_force_flag() -> None:
    import typer

    from proofstream.cli.main import app

    project: Any = typer.main.get_command(app).commands["project"]  # type: ignore[attr-defined]
    for name in ("deploy", "upgrade"):
        options = {opt for param in project.commands[name].params for opt in param.opts}
        assert "--force-unsafe-setup" in options, name
