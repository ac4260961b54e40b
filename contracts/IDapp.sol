// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IDapp
/// @notice The stable Router -> project DApp interface. It is deliberately this small and will not change within
/// protocol version 1: a project's DApp keeps working across proofstream upgrades.
/// @dev The Router calls `process` exactly once per task, only after the task's proof verified and the task was
/// marked settled. `project`, `taskId` and `device` come from the on-chain task record; `outputs` are the
/// proven outputs (for tracker distance: `[metres]`). An implementation must accept calls only from the Router.
/// If it reverts, the task is marked failed with the revert data as its reason; the prover is not blamed.
interface IDapp {
    function process(uint64 project, uint256 taskId, address device, uint256[] calldata outputs) external;
}
