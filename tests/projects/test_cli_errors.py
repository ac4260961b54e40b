"""The errors a developer meets on the way, through the real CLI: each says what to fix, never a traceback.

A circuit that does not compile, a schema that does not match the circuit, a circuit too big for the powers of
tau, an unreachable chain, a project not deployed yet, and a single-party setup headed for a real chain.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from circuit.test_ptau import fake_ptau
from projects.helpers import invoke
from proofstream.chain.accounts import DEV_PRIVATE_KEYS
from proofstream.chain.localnet import Localnet
from proofstream.projects.scaffold import scaffold

pytestmark = pytest.mark.chain


def test_a_circuit_that_does_not_compile_names_the_line(tmp_path: Path) -> None:
    root = scaffold("broken", "uptime", tmp_path)
    circuit = root / "circuit.circom"
    lines = circuit.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if "signal output" in line)
    lines[index] += " this is not circom"
    circuit.write_text("\n".join(lines) + "\n")

    code, output = invoke("project", "build", "--project", str(root))

    assert code == 1
    assert "(circuit_compile)" in output
    assert "circuit.circom" in output
    assert re.search(rf"\b{index + 1}\b", output), output


def test_a_schema_field_the_circuit_lacks_is_named_with_the_fix(tmp_path: Path) -> None:
    root = scaffold("mismatch", "weather-quality", tmp_path)
    config = root / "proofstream.toml"
    config.write_text(config.read_text().replace('humidity = "uint8"', 'humidity = "uint8"\nwind = "uint16"'))

    code, output = invoke("project", "build", "--project", str(root))

    assert code == 1
    assert "(schema_mismatch)" in output
    assert "wind" in output
    assert "signal input wind" in output


def test_a_circuit_too_big_for_the_powers_of_tau_says_which_size_and_where_to_get_it(tmp_path: Path) -> None:
    root = scaffold("big", "uptime", tmp_path)
    small = fake_ptau(tmp_path / "pot10.ptau", 10)

    code, output = invoke("project", "build", "--project", str(root), "--ptau", str(small))

    assert code == 1
    assert "(ptau_too_small)" in output
    needed = int(re.search(r"power >= (\d+)", output).group(1))  # type: ignore[union-attr]
    assert needed > 10
    assert f"powersOfTau28_hez_final_{needed:02d}.ptau" in output
    assert "capacity" in output  # or make the circuit smaller


def test_an_unreachable_chain_says_what_to_check(tmp_path: Path) -> None:
    root = scaffold("offline", "uptime", tmp_path, backend="attest")

    code, output = invoke("project", "deploy", "--project", str(root), "--chain", "http://127.0.0.1:9")

    assert code == 1
    assert "(chain_unavailable)" in output
    assert "cannot reach the chain at http://127.0.0.1:9" in output
    assert "--chain local" in output


def test_a_project_that_is_not_deployed_says_to_deploy(tmp_path: Path) -> None:
    root = scaffold("fresh", "uptime", tmp_path, backend="attest")

    code, output = invoke("project", "status", "--project", str(root))
    assert code == 1
    assert "not deployed on the local chain" in output
    assert "proofstream project deploy --chain local" in output

    code, output = invoke("project", "status", "--project", str(root), "--chain", "mainnet")
    assert code == 1
    assert "use `local` or an RPC URL" in output


def test_a_real_chain_needs_a_key_and_refuses_a_single_party_setup(tmp_path: Path) -> None:
    key_file = tmp_path / "operator.key"
    key_file.write_text(DEV_PRIVATE_KEYS[0])
    groth16 = scaffold("real-zk", "uptime", tmp_path)
    attest = scaffold("real-attest", "uptime", tmp_path, backend="attest")
    with Localnet(chain_id=1337) as chain:  # any chain but anvil's 31337 counts as real
        code, output = invoke("project", "deploy", "--project", str(attest), "--chain", chain.rpc_url)
        assert code == 1
        assert "PROOFSTREAM_PRIVATE_KEY" in output

        code, output = invoke(
            "project", "deploy", "--project", str(groth16), "--chain", chain.rpc_url, "--key-file", str(key_file)
        )
        assert code != 0
        assert "single-party setup" in output
        assert "--force-unsafe-setup" in output
        assert not (groth16 / ".proofstream" / "deployments-1337.json").exists()

        code, output = invoke(
            "project", "deploy", "--project", str(attest), "--chain", chain.rpc_url, "--key-file", str(key_file)
        )
        assert code != 0
        assert "--attester" in output

        attesters = ["--attester", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]
        attesters += ["--attester", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"]
        code, output = invoke(
            "project", "deploy", "--project", str(attest), "--chain", chain.rpc_url, "--key-file", str(key_file),
            "--yes", *attesters,
        )  # fmt: skip
        assert code == 0, output
        assert "chain id 1337" in output
        assert re.search(r"gas estimate: [\d,]+ gas", output)
        assert (attest / ".proofstream" / "deployments-1337.json").is_file()
        assert (attest / ".proofstream" / "build" / "standard-json-input.json").is_file()
        assert (attest / ".proofstream" / "versions" / "1337" / "1" / "logic.py").is_file()
