// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerifier} from "contracts/IVerifier.sol";

/// @notice Test-only IVerifier. verify() is a view (the Router calls it with STATICCALL), so it cannot store what
/// it was given; in echo mode it reverts with the inputs instead, and the test decodes them from the revert data.
contract MockVerifier is IVerifier {
    bool public result = true;
    bool public echo;

    error Seen(uint256[] publicInputs, bytes proof);
    error SeenBatch(uint256[][] publicInputs, bytes proofs);

    function setResult(bool result_) external {
        result = result_;
    }

    function setEcho(bool echo_) external {
        echo = echo_;
    }

    function verify(uint256[] calldata publicInputs, bytes calldata proof) external view returns (bool) {
        if (echo) revert Seen(publicInputs, proof);
        return result;
    }

    function verifyBatch(uint256[][] calldata publicInputs, bytes calldata proofs) external view returns (bool) {
        if (echo) revert SeenBatch(publicInputs, proofs);
        return result;
    }
}
