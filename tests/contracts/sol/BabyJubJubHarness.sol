// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BabyJubJub, IPoseidon5} from "contracts/BabyJubJub.sol";

/// @notice Test-only: the BabyJubJub library's internal functions as external ones.
contract BabyJubJubHarness {
    function isOnCurve(uint256 x, uint256 y) external pure returns (bool) {
        return BabyJubJub.isOnCurve(x, y);
    }

    function isSmallOrder(uint256 x, uint256 y) external pure returns (bool) {
        return BabyJubJub.isSmallOrder(x, y);
    }

    function add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) external view returns (uint256, uint256) {
        return BabyJubJub.add(x1, y1, x2, y2);
    }

    function mul(uint256 x, uint256 y, uint256 k) external view returns (uint256, uint256) {
        return BabyJubJub.mul(x, y, k);
    }

    function inverse(uint256 v) external view returns (uint256) {
        return BabyJubJub.inverse(v);
    }

    function verifyPoseidon(
        IPoseidon5 poseidon,
        uint256 message,
        uint256 ax,
        uint256 ay,
        uint256 r8x,
        uint256 r8y,
        uint256 s
    ) external view returns (bool) {
        return BabyJubJub.verifyPoseidon(poseidon, message, ax, ay, r8x, r8y, s);
    }

    /// @notice Gas of one verification, for the figures in the docs.
    function verifyGas(
        IPoseidon5 poseidon,
        uint256 message,
        uint256 ax,
        uint256 ay,
        uint256 r8x,
        uint256 r8y,
        uint256 s
    ) external view returns (bool ok, uint256 gasUsed) {
        uint256 before = gasleft();
        ok = BabyJubJub.verifyPoseidon(poseidon, message, ax, ay, r8x, r8y, s);
        gasUsed = before - gasleft();
    }
}
