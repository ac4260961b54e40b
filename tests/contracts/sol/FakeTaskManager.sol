// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TaskManager} from "contracts/TaskManager.sol";

/// @notice Test-only impostor a gateway could deploy and name in a receipt: it emits TaskAssigned for whatever
/// record it was given, says it is Settled and that it matches, and names the real Router and ProjectRegistry,
/// but verified nothing.
contract FakeTaskManager {
    address public immutable router;
    address public immutable projects;
    mapping(uint256 => bool) private _known;

    constructor(address router_, address projects_) {
        router = router_;
        projects = projects_;
    }

    function setTask(uint256 taskId, TaskManager.Task calldata t) external {
        _known[taskId] = true;
        emit TaskManager.TaskAssigned(
            taskId,
            t.project,
            t.device,
            t.prover,
            t.root,
            t.firstNonce,
            t.lastNonce,
            t.configVersion,
            t.deadline,
            t.prevFirstNonce,
            t.hasPrev
        );
    }

    function statusOf(uint256 taskId) external view returns (TaskManager.Status) {
        return _known[taskId] ? TaskManager.Status.Settled : TaskManager.Status.None;
    }

    function recordMatches(uint256 taskId, TaskManager.Task calldata) external view returns (bool) {
        return _known[taskId];
    }
}
