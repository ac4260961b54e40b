"""AttestVerifier on anvil: a quorum of registered attesters of the set settles a task through the Router; every
other proof is refused (verify returns false, route reverts InvalidProof)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from attest.attest_world import QUORUM, RATE, AttestWorld
from proofstream.chain.accounts import dev_account
from proofstream.chain.attest import AttestVerifier, deploy_attest_verifier
from proofstream.chain.contracts.tasks import TaskStatus
from proofstream.domain.anchor import Anchor
from proofstream.domain.attestation import Attestation, attest_domain, result_hash
from proofstream.domain.eip712 import domain_separator
from proofstream.domain.messages import SECP256K1_N
from proofstream.domain.types import FIELD_MODULUS, Address, ConfigVersion, TaskId
from proofstream.errors import ProofstreamError, TransactionRevertedError

pytestmark = pytest.mark.chain

OUTPUTS = [1234]
LAST = Anchor(1_764_300_000, 0xBEEF, 1)
"""The anchor the attested task leaves (its last message's time and leaf)."""


def _setup(aw: AttestWorld, outputs: list[int] = OUTPUTS) -> tuple[int, list[int], Attestation]:
    record = aw.assign(root=0xABCDEF)
    inputs = list(aw.core.router.public_inputs_of(record.task_id, outputs, LAST))
    return record.task_id, inputs, Attestation.from_public_inputs(inputs, 1)


def _verifier(aw: AttestWorld, *, outputs: int) -> AttestVerifier:
    """Another AttestVerifier of the world's attesters, for projects with ``outputs`` outputs."""
    return deploy_attest_verifier(
        aw.client,
        aw.compilation,
        aw.core_deployment.router,
        aw.core_deployment.prover_registry,
        1,
        [a.address for a in aw.attesters],
        QUORUM,
        sender=aw.owner,
        outputs=outputs,
    )


def test_public_inputs_of_another_length_are_refused(aw: AttestWorld) -> None:
    """The five signature inputs the Router appends for a BabyJubJub device (or any other shape) never shift the
    record under the signed digest: the verifier reverts instead of reading the wrong fields."""
    _, inputs, attestation = _setup(aw)
    proof = aw.proof(aw.attesters[:2], attestation)
    for shape in ([*inputs, 1, 2, 3, 4, 5], inputs[1:], [0, *inputs]):
        with pytest.raises(ProofstreamError, match="WrongPublicInputCount"):
            aw.verifier.verify(shape, proof)


def _by_address(*accounts: LocalAccount) -> list[LocalAccount]:
    return sorted(accounts, key=lambda a: int(a.address, 16))


def test_quorum_settles_through_the_router_and_mints(aw: AttestWorld) -> None:
    task, inputs, attestation = _setup(aw)
    proof = aw.proof(aw.attesters[:2], attestation)
    assert aw.verifier.verify(inputs, proof)
    before = aw.token.balance_of(aw.device_owner.address)
    result = aw.core.router.route(task, OUTPUTS, LAST, proof, sender=aw.prover)
    assert result.settled
    assert aw.core.tasks.get_task(task).status is TaskStatus.SETTLED
    aw.dapp.claim([aw.device.address], sender=aw.prover)  # rewards accrue per device until claimed
    assert aw.token.balance_of(aw.device_owner.address) - before == OUTPUTS[0] * RATE
    print(f"\nattest route gas (k=2, one output): {result.receipt.gas_used}")
    # Groth16 verification alone costs ~250k gas (DESIGN.md); two ecrecovers and two registry reads much less.
    # Protocol v2 adds the anchor (two storage slots written the first time) and the device's registry check.
    assert result.receipt.gas_used < 230_000


def test_verify_alone_costs_little_gas(aw: AttestWorld) -> None:
    _, inputs, attestation = _setup(aw)
    call = aw.verifier._contract.functions.verify(inputs, aw.proof(aw.attesters[:2], attestation))
    gas = call.estimate_gas({"from": aw.prover.address}) - 21_000
    print(f"\nAttestVerifier.verify gas above the 21k base (k=2, as a top-level call): {gas}")
    assert gas < 40_000


def test_golden_digest_python_contract_and_eth_account_agree(aw: AttestWorld) -> None:
    outputs = [FIELD_MODULUS - 1, 0, 77]
    _, inputs, attestation = _setup(aw, outputs)
    ours = attestation.digest(aw.domain)
    three = _verifier(aw, outputs=3)
    assert three.digest_of(inputs) == ours
    typed = encode_typed_data(full_message=attestation.typed_data(aw.domain))
    assert keccak(b"\x19" + typed.version + typed.header + typed.body) == ours
    assert aw.verifier.result_hash(outputs) == result_hash(outputs) == attestation.result
    assert aw.verifier.domain_separator() == domain_separator(aw.domain)
    assert (
        aw.verifier.attestation_digest(
            attestation.project,
            attestation.task_id,
            attestation.root,
            attestation.result,
            (attestation.prev_time, attestation.prev_leaf, attestation.last_time, attestation.last_leaf),
        )
        == ours
    )


def _high_s(signature: bytes) -> bytes:
    """The malleable twin of a signature: (r, n - s) with v flipped recovers the same key."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


REJECTED: dict[str, Callable[[AttestWorld, Attestation], bytes]] = {
    "k-1 signatures": lambda aw, a: aw.proof(aw.attesters[:1], a),
    "k+1 signatures": lambda aw, a: aw.proof([*aw.attesters[:2], aw.outsider], a),
    "no signatures": lambda aw, a: b"",
    "duplicate signer": lambda aw, a: aw.sign(aw.attesters[0], a) * 2,
    "unsorted": lambda aw, a: b"".join(aw.sign(s, a) for s in reversed(_by_address(*aw.attesters[:2]))),
    "unregistered signer": lambda aw, a: aw.proof([aw.attesters[0], aw.attesters[2]], a),
    "signer outside the set": lambda aw, a: aw.proof([aw.attesters[0], aw.outsider], a),
    "another result": lambda aw, a: aw.proof(aw.attesters[:2], replace(a, result=result_hash([1235]))),
    "another task": lambda aw, a: aw.proof(aw.attesters[:2], replace(a, task_id=TaskId(a.task_id ^ 1))),
    "another root": lambda aw, a: aw.proof(aw.attesters[:2], replace(a, root=5)),
    "another config": lambda aw, a: aw.proof(
        aw.attesters[:2],
        replace(a, config=ConfigVersion(2)),
    ),
    "another anchor": lambda aw, a: aw.proof(aw.attesters[:2], replace(a, prev_time=a.prev_time + 1)),
    "another next anchor": lambda aw, a: aw.proof(aw.attesters[:2], replace(a, last_leaf=a.last_leaf ^ 1)),
    "another chain": lambda aw, a: b"".join(
        aw.sign(s, a, attest_domain(1, aw.core_deployment.router)) for s in _by_address(*aw.attesters[:2])
    ),
    "another router": lambda aw, a: b"".join(
        aw.sign(s, a, attest_domain(aw.client.chain_id, aw.core_deployment.task_manager))
        for s in _by_address(*aw.attesters[:2])
    ),
    "device-message domain": lambda aw, a: b"".join(
        aw.sign(s, a, aw.device_domain) for s in _by_address(*aw.attesters[:2])
    ),
    "high s (malleable)": lambda aw, a: b"".join(
        _high_s(aw.sign(s, a)) if i == 0 else aw.sign(s, a) for i, s in enumerate(_by_address(*aw.attesters[:2]))
    ),
    "bad v": lambda aw, a: b"".join(
        (sig := aw.sign(s, a))[:64] + bytes([sig[64] - 27]) for s in _by_address(*aw.attesters[:2])
    ),
    "garbage": lambda aw, a: b"\x01" * 65 * QUORUM,
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_bad_proofs_return_false(aw: AttestWorld, case: str) -> None:
    _, inputs, attestation = _setup(aw)
    proof = REJECTED[case](aw, attestation)
    assert aw.verifier.verify(inputs, proof) is False


def test_a_rejected_proof_reverts_the_route_and_leaves_the_task_open(aw: AttestWorld) -> None:
    task, _, attestation = _setup(aw)
    proof = aw.proof([aw.attesters[0], aw.outsider], attestation)
    with pytest.raises(TransactionRevertedError) as info:
        aw.core.router.route(task, OUTPUTS, LAST, proof, sender=aw.prover)
    assert info.value.error_name == "InvalidProof"
    # A valid quorum for 1234 does not pay out a different claimed output either.
    good = aw.proof(aw.attesters[:2], attestation)
    with pytest.raises(TransactionRevertedError, match="InvalidProof"):
        aw.core.router.route(task, [9999], LAST, good, sender=aw.prover)
    assert aw.core.tasks.get_task(task).status is TaskStatus.ASSIGNED
    assert aw.dapp.accrued(aw.device.address) == 0


def test_registering_a_signer_later_makes_its_signature_count(aw: AttestWorld) -> None:
    _, inputs, attestation = _setup(aw)
    proof = aw.proof([aw.attesters[0], aw.attesters[2]], attestation)
    assert not aw.verifier.verify(inputs, proof)
    aw.core.provers.register_prover(aw.attesters[2].address, sender=aw.attesters[2])
    assert aw.verifier.verify(inputs, proof)


def test_too_few_public_inputs_is_a_wiring_error(aw: AttestWorld) -> None:
    with pytest.raises(TransactionRevertedError, match="WrongPublicInputCount"):
        aw.verifier.verify([1, 2, 3], b"")


def test_views(aw: AttestWorld) -> None:
    assert aw.verifier.quorum() == QUORUM
    assert aw.verifier.config_version() == 1
    assert aw.verifier.output_count() == 1
    assert aw.verifier.router() == aw.core_deployment.router
    assert aw.verifier.provers() == aw.core_deployment.prover_registry
    assert aw.verifier.attesters() == tuple(Address(a.address) for a in aw.attesters)
    assert aw.verifier.is_attester(aw.attesters[2].address) and not aw.verifier.is_attester(aw.outsider.address)


@pytest.mark.parametrize(
    ("attesters", "quorum", "error"),
    [
        ([6, 7], 0, "BadQuorum"),
        ([6, 7], 3, "BadQuorum"),
        ([6, 6], 1, "DuplicateAttester"),
        ([], 1, "BadQuorum"),
    ],
)
def test_constructor_refusals(aw: AttestWorld, attesters: list[int], quorum: int, error: str) -> None:
    artifact = aw.compilation.artifact("AttestVerifier")
    args = [
        aw.core_deployment.router,
        aw.core_deployment.prover_registry,
        1,
        1,
        [dev_account(i).address for i in attesters],
        quorum,
    ]
    with pytest.raises(TransactionRevertedError, match=error):
        aw.client.deploy(artifact, *args)


def test_constructor_refuses_a_zero_attester_a_zero_version_no_outputs_and_a_router_without_code(
    aw: AttestWorld,
) -> None:
    artifact = aw.compilation.artifact("AttestVerifier")
    router, provers = aw.core_deployment.router, aw.core_deployment.prover_registry
    zero = "0x" + "00" * 20
    with pytest.raises(TransactionRevertedError, match="ZeroAddress"):
        aw.client.deploy(artifact, router, provers, 1, 1, [zero], 1)
    with pytest.raises(TransactionRevertedError, match="ZeroConfigVersion"):
        aw.client.deploy(artifact, router, provers, 0, 1, [aw.outsider.address], 1)
    with pytest.raises(TransactionRevertedError, match="ZeroOutputs"):
        aw.client.deploy(artifact, router, provers, 1, 0, [aw.outsider.address], 1)
    with pytest.raises(TransactionRevertedError, match="NotAContract"):
        aw.client.deploy(artifact, aw.outsider.address, provers, 1, 1, [aw.outsider.address], 1)


def test_deploy_helper_checks_its_arguments_before_sending(aw: AttestWorld) -> None:
    from proofstream.errors import ConfigError

    with pytest.raises(ConfigError, match="quorum"):
        deploy_attest_verifier(
            aw.client,
            aw.compilation,
            aw.core_deployment.router,
            aw.core_deployment.prover_registry,
            1,
            [aw.outsider.address],
            2,
            outputs=1,
        )
    with pytest.raises(ConfigError, match="twice"):
        deploy_attest_verifier(
            aw.client,
            aw.compilation,
            aw.core_deployment.router,
            aw.core_deployment.prover_registry,
            1,
            [aw.outsider.address, aw.outsider.address.lower()],
            1,
            outputs=1,
        )
