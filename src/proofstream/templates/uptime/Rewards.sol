// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {RewardDApp} from "contracts/RewardDApp.sol";
import {DeviceRegistry} from "contracts/DeviceRegistry.sol";
import {RewardToken} from "contracts/RewardToken.sol";

/// @title UptimeRewards
/// @notice Pays a base station's owner `rate` token wei per second of healthy uptime proven in a task.
/// @dev outputs = logic.OUTPUTS = (seconds,): the heartbeat intervals credited, each capped (README.md).
contract UptimeRewards is RewardDApp {
    constructor(address router, DeviceRegistry devices, RewardToken token, uint256 rate)
        RewardDApp(router, devices, token, rate)
    {}

    function units(uint256[] calldata outputs) public pure override returns (uint256) {
        return outputs[0];
    }
}
