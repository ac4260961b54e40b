// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IDapp} from "contracts/IDapp.sol";

/// @notice Test-only IDapp written the way docs/protocol.md says not to: it catches an inner call's failure,
/// out of gas included, and reverts with its own error. The Router gives it exactly DAPP_GAS, so no caller can
/// starve it: it fails a task only when its own work does not fit that budget.
contract SwallowingDApp is IDapp {
    uint256 public immutable rounds;
    uint256 public processed;

    error InnerFailed(uint256 taskId);

    constructor(uint256 rounds_) {
        rounds = rounds_;
    }

    /// @notice Burns about 100 gas a round.
    function work() external view returns (uint256 x) {
        for (uint256 i = 0; i < rounds; ++i) {
            x = uint256(keccak256(abi.encode(x, i)));
        }
    }

    function process(uint64, uint256 taskId, address, uint256[] calldata) external {
        try this.work() returns (uint256) {
            processed += 1;
        } catch {
            revert InnerFailed(taskId);
        }
    }
}
