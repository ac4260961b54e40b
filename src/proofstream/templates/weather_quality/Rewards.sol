// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {RewardDApp} from "contracts/RewardDApp.sol";
import {DeviceRegistry} from "contracts/DeviceRegistry.sol";
import {RewardToken} from "contracts/RewardToken.sol";

/// @title WeatherRewards
/// @notice Pays a weather station's owner `rate` token wei per good reading in a proven task.
/// @dev outputs = logic.OUTPUTS = (good,): readings in range that changed plausibly since the previous one.
contract WeatherRewards is RewardDApp {
    constructor(address router, DeviceRegistry devices, RewardToken token, uint256 rate)
        RewardDApp(router, devices, token, rate)
    {}

    function units(uint256[] calldata outputs) public pure override returns (uint256) {
        return outputs[0];
    }
}
