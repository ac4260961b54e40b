"""Deployment: the manifest, deploy_project's checks, and a real snarkjs verifier behind the adapter."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chain_world import RATE, World
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address

from proofstream.chain.accounts import dev_account
from proofstream.chain.client import ChainClient
from proofstream.chain.deploy import DeploymentManifest, ProjectDeployment, attach_core, deploy_project
from proofstream.circuits.ptau import find_ptau
from proofstream.domain.types import FIELD_MODULUS
from proofstream.errors import ConfigError, ToolchainError
from proofstream.toolchain import find_node_modules, run_node_tool

pytestmark = pytest.mark.chain

TINY_CIRCUIT = """pragma circom 2.1.0;
template Tiny() {
    signal input a;
    signal input b;
    signal output c;
    c <== a * b;
}
component main {public [b]} = Tiny();
"""
"""Public signals in snarkjs order: [c, b]."""


def test_manifest_round_trips(world: World) -> None:
    manifest = DeploymentManifest(core=world.core_deployment).with_project(world.project)
    again = DeploymentManifest.from_json(manifest.to_json())
    assert again == manifest
    assert again.project(world.project_id).reward_dapp == world.project.reward_dapp
    with pytest.raises(ConfigError):
        again.project(99)


@pytest.mark.parametrize("text", ["nope", "[]", '{"version": 2}', '{"version": 1, "core": {"chain_id": 1}}'])
def test_bad_manifest_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        DeploymentManifest.from_json(text)


def test_attach_refuses_a_deployment_of_another_chain(world: World) -> None:
    other_chain = dataclasses.replace(world.core_deployment, chain_id=world.client.chain_id + 1)
    with pytest.raises(ConfigError):
        attach_core(world.client, other_chain, world.compilation)


def test_deploy_project_needs_exactly_one_verifier(world: World) -> None:
    common = {"config_hash": b"\x00" * 32, "uri": "u", "sequencer": world.sequencer.address}
    with pytest.raises(ConfigError):
        deploy_project(world.client, world.core_deployment, None, 8, RATE, **common)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        deploy_project(
            world.client,
            world.core_deployment,
            "contract X {}",
            8,
            RATE,
            verifier=world.project.verifier,
            **common,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class TinyProof:
    verifier_source: str
    public: list[int]
    proof: bytes
    """abi.encode(a, b, c) as the adapter takes it (b in snarkjs' Solidity order)."""
    vkey: dict[str, Any]
    """verification_key.json of the same key."""
    second: tuple[list[int], bytes]
    """Another statement's public signals and proof under the same key (a=5, b=7)."""


def _ptau() -> Path:
    # Any file will do for a one-constraint circuit: the repo's own demo file first, as a user's machine has it.
    return find_ptau(1).path


@pytest.fixture(scope="module")
def tiny_proof(tmp_path_factory: pytest.TempPathFactory) -> TinyProof:
    """Compile a one-constraint circuit, set it up, prove a*b=c and export its Solidity verifier (~2 s)."""
    try:
        ptau = _ptau()
        find_node_modules()
    except (ConfigError, ToolchainError):
        pytest.skip("needs node_modules (npm ci) and a powers-of-tau file")
    work = tmp_path_factory.mktemp("tiny")
    (work / "tiny.circom").write_text(TINY_CIRCUIT)
    run_node_tool(".bin/circom2", [str(work / "tiny.circom"), "--r1cs", "--wasm", "-o", str(work)])
    snarkjs = ".bin/snarkjs"
    run_node_tool(snarkjs, ["groth16", "setup", str(work / "tiny.r1cs"), str(ptau), str(work / "tiny.zkey")])
    run_node_tool(snarkjs, ["zkey", "export", "solidityverifier", str(work / "tiny.zkey"), str(work / "v.sol")])
    run_node_tool(snarkjs, ["zkey", "export", "verificationkey", str(work / "tiny.zkey"), str(work / "vk.json")])
    public, proof = _prove(work, {"a": 3, "b": 11})
    second = _prove(work, {"a": 5, "b": 7})
    vkey = json.loads((work / "vk.json").read_text())
    return TinyProof((work / "v.sol").read_text(), public, proof, vkey, second)


def _prove(work: Path, inputs: dict[str, int]) -> tuple[list[int], bytes]:
    """Prove ``inputs`` with the tiny circuit's key: (public signals, abi.encode(a, b, c))."""
    snarkjs = ".bin/snarkjs"
    (work / "input.json").write_text(json.dumps(inputs))
    files = [str(work / n) for n in ("input.json", "tiny_js/tiny.wasm", "tiny.zkey", "proof.json", "public.json")]
    run_node_tool(snarkjs, ["groth16", "fullprove", *files])
    calldata = run_node_tool(
        snarkjs, ["zkey", "export", "soliditycalldata", str(work / "public.json"), str(work / "proof.json")]
    ).stdout
    a, b, c, public = json.loads(f"[{calldata}]")  # hex strings, b already in Solidity order
    proof = encode(["uint256[2]", "uint256[2][2]", "uint256[2]"], _ints([a, b, c]))
    return [int(x, 16) for x in public], proof


def _deploy_tiny(world: World, tiny_proof: TinyProof) -> ProjectDeployment:
    """A project whose verifiers (the snarkjs-exported one and the batch one) are the tiny circuit's."""
    return deploy_project(
        world.client,
        world.core_deployment,
        tiny_proof.verifier_source,
        2,
        RATE,
        config_hash=b"\x07" * 32,
        uri="ipfs://tiny",
        sequencer=world.sequencer.address,
        owner=world.owner,
        verifying_key=tiny_proof.vkey,
    )


def _ints(value: Any) -> Any:
    return [_ints(v) for v in value] if isinstance(value, list) else int(value, 16)


@pytest.mark.slow
def test_project_with_a_real_snarkjs_verifier(world: World, tiny_proof: TinyProof) -> None:
    assert tiny_proof.public == [33, 11]
    deployment = _deploy_tiny(world, tiny_proof)
    assert deployment.snark_verifier is not None
    assert world.core.projects.verifier_of(deployment.project, 1) == deployment.verifier
    abi = world.compilation.artifact("Groth16VerifierAdapter").abi
    adapter = world.client.contract(deployment.verifier, abi)
    client = world.client
    assert client.call(adapter.functions.verify(tiny_proof.public, tiny_proof.proof)) is True
    assert client.call(adapter.functions.verify([33, 12], tiny_proof.proof)) is False
    assert client.call(adapter.functions.verify([33 + FIELD_MODULUS, 11], tiny_proof.proof)) is False
    tampered = bytearray(tiny_proof.proof)
    tampered[-1] ^= 1
    assert client.call(adapter.functions.verify(tiny_proof.public, bytes(tampered))) is False


@pytest.mark.slow
def test_real_verifier_short_of_gas_says_false(world: World, tiny_proof: TinyProof) -> None:
    """Why route() takes an explicit gas limit: short of gas, the pairing check fails and verify() is
    false."""
    deployment = _deploy_tiny(world, tiny_proof)
    client = ChainClient(world.net.rpc_url, dev_account(0))
    abi = world.compilation.artifact("Groth16VerifierAdapter").abi
    adapter = client.web3.eth.contract(address=to_checksum_address(deployment.verifier), abi=list(abi))
    call = adapter.functions.verify(tiny_proof.public, tiny_proof.proof)
    assert call.call({"gas": 1_000_000}) is True
    assert call.call({"gas": 120_000}) is False


@pytest.mark.slow
def test_batch_verifier_checks_every_real_proof_at_once(world: World, tiny_proof: TinyProof) -> None:
    """The batch verifier generated from the key accepts real proofs together, and refuses the batch when any
    one proof or public input is wrong, or when they are paired with the wrong statement."""
    deployment = _deploy_tiny(world, tiny_proof)
    abi = world.compilation.artifact("Groth16VerifierAdapter").abi
    adapter = world.client.contract(deployment.verifier, abi)
    (public2, proof2) = tiny_proof.second
    assert public2 == [35, 7]

    def batch(inputs: list[list[int]], proofs: bytes) -> bool:
        return bool(world.client.call(adapter.functions.verifyBatch(inputs, proofs)))

    assert batch([tiny_proof.public, public2], tiny_proof.proof + proof2)
    assert batch([tiny_proof.public], tiny_proof.proof)
    assert batch([public2, tiny_proof.public, public2], proof2 + tiny_proof.proof + proof2)
    assert not batch([public2, tiny_proof.public], tiny_proof.proof + proof2)  # swapped statements
    assert not batch([tiny_proof.public, [35, 8]], tiny_proof.proof + proof2)
    assert not batch([tiny_proof.public, [35 + FIELD_MODULUS, 7]], tiny_proof.proof + proof2)
    tampered = bytearray(proof2)
    tampered[-1] ^= 1
    assert not batch([tiny_proof.public, public2], tiny_proof.proof + bytes(tampered))
    assert not batch([tiny_proof.public, public2], tiny_proof.proof)  # a proof short
    assert not batch([], b"")
