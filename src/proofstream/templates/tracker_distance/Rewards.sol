// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {RewardDApp} from "contracts/RewardDApp.sol";
import {DeviceRegistry} from "contracts/DeviceRegistry.sol";
import {RewardToken} from "contracts/RewardToken.sol";

/// @title TrackerRewards
/// @notice Pays a tracker's owner `rate` token wei per metre its device travelled in a proven task.
/// @dev outputs = logic.OUTPUTS = (metres,). Change `units` to pay for something else the circuit outputs.
contract TrackerRewards is RewardDApp {
    constructor(address router, DeviceRegistry devices, RewardToken token, uint256 rate)
        RewardDApp(router, devices, token, rate)
    {}

    function units(uint256[] calldata outputs) public pure override returns (uint256) {
        return outputs[0];
    }
}
