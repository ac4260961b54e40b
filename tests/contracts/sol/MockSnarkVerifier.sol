// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice Test-only stand-in for a snarkjs-exported verifier with 3 public signals: accepts exactly
/// a = [1, 2], b = [[3, 4], [5, 6]], c = [7, 8], pubSignals = [9, 10, 11], so a test sees that the adapter
/// forwards every word in place.
contract MockSnarkVerifier3 {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[3] calldata pubSignals
    ) external pure returns (bool) {
        return a[0] == 1 && a[1] == 2 && b[0][0] == 3 && b[0][1] == 4 && b[1][0] == 5 && b[1][1] == 6 && c[0] == 7
            && c[1] == 8 && pubSignals[0] == 9 && pubSignals[1] == 10 && pubSignals[2] == 11;
    }
}
