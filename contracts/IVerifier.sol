// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IVerifier
/// @notice What the Router asks before a project's DApp sees a result: "is `proof` valid for these public inputs?"
/// @dev One interface for every proof backend (a Groth16 adapter around a snarkjs verifier, PLONK, a quorum of
/// attestations). The Router builds `publicInputs` itself from the on-chain task record and the claimed outputs:
/// `[outputs..., project, taskId, root, device, prover, firstNonce, lastNonce]` (snarkjs order, docs/protocol.md).
/// An implementation returns false for a proof that does not verify; it may revert on inputs of the wrong shape.
interface IVerifier {
    function verify(uint256[] calldata publicInputs, bytes calldata proof) external view returns (bool);
}
