// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IVerifier
/// @notice What the Router asks before a project's DApp sees a result: "is `proof` valid for these public inputs?"
/// @dev One interface for every proof backend (a Groth16 adapter around a snarkjs verifier, PLONK, a quorum of
/// attestations). The Router builds `publicInputs` itself from the on-chain task record and the claimed outputs:
/// `[outputs..., project, taskId, root, device, prover, firstNonce, lastNonce, prevTime, prevLeaf, lastTime,
/// lastLeaf]` (snarkjs order, docs/protocol.md).
/// An implementation returns false for a proof that does not verify; it may revert on inputs of the wrong shape.
interface IVerifier {
    function verify(uint256[] calldata publicInputs, bytes calldata proof) external view returns (bool);

    /// @notice Whether every proof is valid for its public inputs: `proofs` is the proofs one after the other, each
    /// of this verifier's fixed proof length, `publicInputs[i]` the inputs of the i-th. Returns false when any one
    /// is not (which one is for the caller to find); a Groth16 verifier checks them all in one pairing check.
    function verifyBatch(uint256[][] calldata publicInputs, bytes calldata proofs) external view returns (bool);
}
