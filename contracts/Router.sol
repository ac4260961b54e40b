// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IDapp} from "./IDapp.sol";
import {IVerifier} from "./IVerifier.sol";
import {ProjectRegistry} from "./ProjectRegistry.sol";
import {TaskManager} from "./TaskManager.sol";

/// @title Router
/// @notice The one door from a proven result to a project's DApp: check the task, verify the proof against the
/// task's own record, settle the task, then hand the outputs to the DApp.
/// @dev The verifier's public inputs are built here from the task record and the claimed outputs, never taken
/// from the caller, so a proof made for another batch, device, prover or task does not verify. Only the assigned
/// prover may route (a proof copied from the mempool pays nobody else), and only once (the task is keyed by its
/// id, not by the proof, which Groth16 lets anyone re-randomise).
/// A task is verified with the verifier of the config version it was assigned under, even when that version has
/// retired since: retirement only stops new assignments, so a task assigned while its version was live can still
/// be routed until its deadline. Nothing is routed while the project is paused.
contract Router {
    /// @dev The BN254 scalar field: every public input must lie below it.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @dev Public inputs the Router appends after the outputs: project, taskId, root, device, prover,
    /// firstNonce, lastNonce.
    uint256 internal constant RECORD_INPUTS = 7;

    TaskManager public immutable taskManager;
    ProjectRegistry public immutable projects;

    event TaskSettled(uint256 indexed taskId, address indexed prover);
    event TaskFailed(uint256 indexed taskId, bytes reason);

    error TaskNotAssigned(uint256 taskId, TaskManager.Status status);
    error NotAssignedProver(uint256 taskId, address caller);
    error DeadlinePassed(uint256 taskId, uint64 deadline);
    error ProjectNotActive(uint64 project);
    error OutputOutOfField(uint256 index);
    error InvalidProof(uint256 taskId);
    error DappOutOfGas(uint256 taskId);

    constructor(TaskManager taskManager_, ProjectRegistry projectRegistry) {
        taskManager = taskManager_;
        projects = projectRegistry;
    }

    /// @notice Settle task `taskId` with the proven `outputs`; only the task's prover, before its deadline.
    /// @dev If the DApp reverts, the task ends Failed with the revert data in TaskFailed, and route() succeeds.
    function route(uint256 taskId, uint256[] calldata outputs, bytes calldata proof) external {
        TaskManager.Task memory task = taskManager.getTask(taskId);
        if (task.status != TaskManager.Status.Assigned) revert TaskNotAssigned(taskId, task.status);
        if (msg.sender != task.prover) revert NotAssignedProver(taskId, msg.sender);
        if (block.number > task.deadline) revert DeadlinePassed(taskId, task.deadline);
        if (!projects.isActive(task.project)) revert ProjectNotActive(task.project);

        uint256[] memory inputs = _publicInputs(task, taskId, outputs);
        address verifier = projects.verifierOf(task.project, task.configVersion);
        if (!IVerifier(verifier).verify(inputs, proof)) revert InvalidProof(taskId);

        // Effects before the interaction: a DApp that calls back finds the task already settled.
        taskManager.markSettled(taskId);
        address dapp = projects.dappOf(task.project);
        uint256 gasBefore = gasleft();
        try IDapp(dapp).process(task.project, taskId, task.device, outputs) {
            emit TaskSettled(taskId, msg.sender);
        } catch (bytes memory reason) {
            // A call that used up all the gas it was given leaves 1/64 of it here (EIP-150). Then the caller sent
            // too little gas, which says nothing about the DApp: revert rather than fail the task.
            if (gasleft() <= gasBefore / 64) revert DappOutOfGas(taskId);
            taskManager.markFailed(taskId, reason);
            emit TaskFailed(taskId, reason);
        }
    }

    /// @notice The public inputs route() hands the verifier for `outputs` claimed on task `taskId`, in snarkjs
    /// order: [outputs..., project, taskId, root, device, prover, firstNonce, lastNonce].
    function publicInputsOf(uint256 taskId, uint256[] calldata outputs) external view returns (uint256[] memory) {
        return _publicInputs(taskManager.getTask(taskId), taskId, outputs);
    }

    function _publicInputs(TaskManager.Task memory task, uint256 taskId, uint256[] calldata outputs)
        private
        pure
        returns (uint256[] memory inputs)
    {
        uint256 n = outputs.length;
        inputs = new uint256[](n + RECORD_INPUTS);
        for (uint256 i = 0; i < n; ++i) {
            if (outputs[i] >= FIELD_MODULUS) revert OutputOutOfField(i);
            inputs[i] = outputs[i];
        }
        inputs[n] = task.project;
        inputs[n + 1] = taskId;
        inputs[n + 2] = task.root;
        inputs[n + 3] = uint256(uint160(task.device));
        inputs[n + 4] = uint256(uint160(task.prover));
        inputs[n + 5] = task.firstNonce;
        inputs[n + 6] = task.lastNonce;
    }
}
