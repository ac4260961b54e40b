// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerifier} from "./IVerifier.sol";

/// @title Groth16VerifierAdapter
/// @notice Puts a snarkjs-exported Groth16 verifier behind IVerifier. snarkjs exports
/// `verifyProof(uint256[2] a, uint256[2][2] b, uint256[2] c, uint256[N] pubSignals)` with N fixed per circuit, so
/// each circuit gets one adapter that knows its N.
/// @dev `proof` is abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c): eight words, 256 bytes, with b in the
/// order snarkjs' Solidity calldata uses. Static arrays ABI-encode as consecutive words, so the call data is the
/// selector, the proof bytes as they are, then the public inputs one word each.
/// verifyBatch goes to the batch verifier that proofstream generates from the same verifying key
/// (proofstream.circuits.batch_verifier): one random-linear-combination pairing check of every proof.
contract Groth16VerifierAdapter is IVerifier {
    /// @dev Length of abi.encode(uint256[2], uint256[2][2], uint256[2]).
    uint256 private constant _PROOF_BYTES = 256;

    /// @notice The snarkjs-exported verifier contract.
    address public immutable snarkVerifier;
    /// @notice The batch verifier generated from the same verifying key (`verifyBatch(uint256[][],bytes)`).
    address public immutable batchVerifier;
    /// @notice Number of public signals the circuit has (outputs + public inputs).
    uint256 public immutable nPublic;
    /// @notice Selector of verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[nPublic]).
    bytes4 public immutable verifyProofSelector;

    error NotAContract(address account);
    error NoPublicInputs();
    error PublicInputCount(uint256 expected, uint256 actual);

    constructor(address snarkVerifier_, address batchVerifier_, uint256 nPublic_) {
        if (snarkVerifier_.code.length == 0) revert NotAContract(snarkVerifier_);
        if (batchVerifier_.code.length == 0) revert NotAContract(batchVerifier_);
        batchVerifier = batchVerifier_;
        if (nPublic_ == 0) revert NoPublicInputs();
        snarkVerifier = snarkVerifier_;
        nPublic = nPublic_;
        verifyProofSelector = bytes4(
            keccak256(
                abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", _decimal(nPublic_), "])")
            )
        );
    }

    /// @inheritdoc IVerifier
    /// @dev Reverts if the number of public inputs is not the circuit's (a wiring error, not a bad proof).
    /// Returns false for a proof of the wrong length, and when the verifier call fails or returns anything but
    /// true: snarkjs verifiers return false (they do not revert) when a pairing check runs out of gas.
    function verify(uint256[] calldata publicInputs, bytes calldata proof) external view returns (bool) {
        if (publicInputs.length != nPublic) revert PublicInputCount(nPublic, publicInputs.length);
        if (proof.length != _PROOF_BYTES) return false;
        (bool ok, bytes memory result) =
            snarkVerifier.staticcall(abi.encodePacked(verifyProofSelector, proof, publicInputs));
        return ok && result.length >= 32 && abi.decode(result, (uint256)) == 1;
    }

    /// @inheritdoc IVerifier
    /// @dev Reverts if any task's public inputs are not the circuit's number (a wiring error); the call data goes
    /// to the batch verifier as it came (same selector and encoding).
    function verifyBatch(uint256[][] calldata publicInputs, bytes calldata proofs) external view returns (bool) {
        for (uint256 i = 0; i < publicInputs.length; ++i) {
            if (publicInputs[i].length != nPublic) revert PublicInputCount(nPublic, publicInputs[i].length);
        }
        if (proofs.length != publicInputs.length * _PROOF_BYTES) return false;
        (bool ok, bytes memory result) = batchVerifier.staticcall(msg.data);
        return ok && result.length >= 32 && abi.decode(result, (uint256)) == 1;
    }

    function _decimal(uint256 value) private pure returns (bytes memory digits) {
        uint256 length = 1;
        for (uint256 rest = value / 10; rest != 0; rest /= 10) {
            ++length;
        }
        digits = new bytes(length);
        for (uint256 i = length; i > 0; --i) {
            digits[i - 1] = bytes1(uint8(48 + (value % 10)));
            value /= 10;
        }
    }
}
