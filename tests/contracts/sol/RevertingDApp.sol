// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IDapp} from "contracts/IDapp.sol";

/// @notice Test-only IDapp that always reverts, with a custom error or by burning all its gas.
contract RevertingDApp is IDapp {
    bool public burnGas;

    error Refused(uint256 taskId, uint256 firstOutput);

    function setBurnGas(bool burnGas_) external {
        burnGas = burnGas_;
    }

    function process(uint64, uint256 taskId, address, uint256[] calldata outputs) external view {
        if (burnGas) {
            // Spin until out of gas: the shape of a DApp call given too little gas.
            uint256 x;
            while (true) {
                x = uint256(keccak256(abi.encode(x)));
            }
        }
        revert Refused(taskId, outputs[0]);
    }
}
