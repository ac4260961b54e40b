"""Groth16VerifierAdapter: the call it makes to a snarkjs-shaped verifier, word for word."""

from __future__ import annotations

import pytest
from chain_world import World
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3.contract import Contract

from proofstream.errors import TransactionRevertedError

pytestmark = pytest.mark.chain

A, B, C = [1, 2], [[3, 4], [5, 6]], [7, 8]
INPUTS = [9, 10, 11]
"""The only values MockSnarkVerifier3 accepts."""


def _proof(a: list[int], b: list[list[int]], c: list[int]) -> bytes:
    return encode(["uint256[2]", "uint256[2][2]", "uint256[2]"], [a, b, c])


@pytest.fixture
def adapter(world: World) -> Contract:
    snark = world.client.deploy(world.compilation.artifact("MockSnarkVerifier3"))
    assert snark.contract_address is not None
    # The batch verifier's address only has to hold code here: these tests check the single path.
    adapter_artifact = world.compilation.artifact("Groth16VerifierAdapter")
    deployed = world.client.deploy(adapter_artifact, snark.contract_address, snark.contract_address, 3)
    assert deployed.contract_address is not None
    abi = world.compilation.artifact("Groth16VerifierAdapter").abi
    return world.client.contract(deployed.contract_address, abi, "Groth16VerifierAdapter")


def test_selector_is_snarkjs_verify_proof_for_n_public(world: World, adapter: Contract) -> None:
    selector = world.client.call(adapter.functions.verifyProofSelector())
    assert selector == keccak(text="verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[3])")[:4]


def test_forwards_every_word_in_place(world: World, adapter: Contract) -> None:
    assert len(_proof(A, B, C)) == 256
    assert world.client.call(adapter.functions.verify(INPUTS, _proof(A, B, C))) is True


@pytest.mark.parametrize("word", range(8))
def test_any_changed_proof_word_fails(world: World, adapter: Contract, word: int) -> None:
    proof = bytearray(_proof(A, B, C))
    proof[word * 32 + 31] ^= 0x80
    assert world.client.call(adapter.functions.verify(INPUTS, bytes(proof))) is False


def test_changed_public_input_fails(world: World, adapter: Contract) -> None:
    assert world.client.call(adapter.functions.verify([9, 10, 12], _proof(A, B, C))) is False


def test_proof_of_the_wrong_length_fails(world: World, adapter: Contract) -> None:
    proof = _proof(A, B, C)
    for bad in (proof[:-1], proof + b"\x00", b""):
        assert world.client.call(adapter.functions.verify(INPUTS, bad)) is False


def test_wrong_number_of_public_inputs_reverts(world: World, adapter: Contract) -> None:
    with pytest.raises(TransactionRevertedError) as info:
        world.client.call(adapter.functions.verify([9, 10], _proof(A, B, C)))
    assert info.value.error_name == "PublicInputCount"
    assert info.value.error_args == (3, 2)


def test_failed_verifier_call_returns_false(world: World) -> None:
    """A verifier call that reverts (here: no such function) is a failed proof, not an error."""
    snark = world.client.deploy(world.compilation.artifact("MockSnarkVerifier3"))
    assert snark.contract_address is not None
    # An adapter for 8 inputs calls verifyProof(...,uint256[8]), which MockSnarkVerifier3 does not have.
    address = snark.contract_address
    deployed = world.client.deploy(world.compilation.artifact("Groth16VerifierAdapter"), address, address, 8)
    assert deployed.contract_address is not None
    adapter = world.client.contract(deployed.contract_address, world.compilation.artifact("Groth16VerifierAdapter").abi)
    assert world.client.call(adapter.functions.verify(list(range(8)), _proof(A, B, C))) is False


def test_adapter_needs_a_contract_and_inputs(world: World) -> None:
    artifact = world.compilation.artifact("Groth16VerifierAdapter")
    with pytest.raises(TransactionRevertedError, match="NotAContract"):
        world.client.deploy(artifact, world.other.address, world.core.router.address, 3)
    with pytest.raises(TransactionRevertedError, match="NotAContract"):
        world.client.deploy(artifact, world.core.router.address, world.other.address, 3)
    with pytest.raises(TransactionRevertedError, match="NoPublicInputs"):
        world.client.deploy(artifact, world.core.router.address, world.core.router.address, 0)
