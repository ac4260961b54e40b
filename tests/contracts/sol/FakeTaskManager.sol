// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TaskManager} from "contracts/TaskManager.sol";

/// @notice Test-only impostor a gateway could deploy and name in a receipt: it answers getTask with whatever
/// record it was given (a Settled one) and names the real Router and ProjectRegistry, but verified nothing.
contract FakeTaskManager {
    address public immutable router;
    address public immutable projects;
    mapping(uint256 => TaskManager.Task) private _tasks;

    constructor(address router_, address projects_) {
        router = router_;
        projects = projects_;
    }

    function setTask(uint256 taskId, TaskManager.Task calldata task) external {
        _tasks[taskId] = task;
    }

    function getTask(uint256 taskId) external view returns (TaskManager.Task memory) {
        return _tasks[taskId];
    }
}
