// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IDapp} from "./IDapp.sol";
import {IVerifier} from "./IVerifier.sol";
import {DeviceRegistry} from "./DeviceRegistry.sol";
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
/// A route passes the task's record and the device's anchor in calldata: TaskManager stores only their hashes and
/// checks them (TaskManager.settle). `routeBatch` routes many tasks under one verifier in one transaction, with one
/// batched check of all their proofs (IVerifier.verifyBatch): it settles all of them or none.
/// Protocol v2: a device's tasks are routed in assignment order (a task whose predecessor is still Assigned is
/// refused with PredecessorPending: wait, or expire the predecessor past its deadline), and each proof is checked
/// against the device's anchor in TaskManager (prevTime, prevLeaf) and pins the next one (lastTime, lastLeaf),
/// which TaskManager stores once the proof verifies. The device must be active in the DeviceRegistry at route time
/// (a device deactivated after assignment is never paid). For a BabyJubJub device the Router appends what its
/// in-circuit signature checks need: [chainId, DeviceRegistry, configVersion, keyAx, keyAy], the key being the one
/// the registry holds for the device, so the proof shows every message was signed by that key.
contract Router {
    /// @dev The BN254 scalar field: every public input must lie below it.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @dev Public inputs the Router appends after the outputs: project, taskId, root, device, prover,
    /// firstNonce, lastNonce, prevTime, prevLeaf, lastTime, lastLeaf (docs/protocol.md).
    uint256 internal constant RECORD_INPUTS = 11;

    /// @dev Public inputs appended for a BabyJubJub device: chainId, registry, config, keyAx, keyAy.
    uint256 internal constant SIGNATURE_INPUTS = 5;

    /// @notice The gas every `IDapp.process` call is given, exactly, whatever gas the caller sent: a route that
    /// cannot forward it reverts (DappGasTooLow) and the task stays assigned, so no prover can starve a DApp into
    /// failing a task for good. A DApp whose `process` needs more fails its tasks (docs/protocol.md, "A DApp's gas").
    uint256 public constant DAPP_GAS = 500_000;

    /// @dev What the Router spends after the DApp returns: markFailed and TaskFailed with the revert data.
    uint256 internal constant AFTER_DAPP_GAS = 60_000;

    /// @notice One task of a routeBatch: its record, the proven outputs, the device's anchor the proof was made
    /// against, and the anchor it leaves (its last message's timestamp and leaf).
    struct Route {
        TaskManager.Task task;
        uint256[] outputs;
        TaskManager.Anchor prev;
        uint64 lastTime;
        uint256 lastLeaf;
    }

    TaskManager public immutable taskManager;
    ProjectRegistry public immutable projects;
    DeviceRegistry public immutable devices;

    event TaskSettled(uint256 indexed taskId, address indexed prover);
    event TaskFailed(uint256 indexed taskId, bytes reason);

    error NotAssignedProver(uint256 taskId, address caller);
    error DeadlinePassed(uint256 taskId, uint64 deadline);
    error ProjectNotActive(uint64 project);
    error OutputOutOfField(uint256 index);
    error InvalidProof(uint256 taskId);
    error InvalidBatch(uint256 tasks);
    error EmptyBatch();
    error MixedVerifiers(uint256 index);
    error DappGasTooLow(uint256 taskId, uint256 available, uint256 needed);
    error DeviceNotActive(uint256 taskId, address device);

    constructor(TaskManager taskManager_, ProjectRegistry projectRegistry, DeviceRegistry deviceRegistry) {
        taskManager = taskManager_;
        projects = projectRegistry;
        devices = deviceRegistry;
    }

    /// @notice Settle the task of record `task` with the proven `outputs`; only the task's prover, before its
    /// deadline, once the device's previous task is no longer Assigned. `prev` is the device's anchor (as
    /// AnchorAdvanced gave it; all zero before its first task); `lastTime` and `lastLeaf` are the timestamp and
    /// leaf of the batch's last message, which the proof pins and which become the device's anchor.
    /// @dev If the DApp reverts, the task ends Failed with the revert data in TaskFailed, and route() succeeds.
    function route(
        TaskManager.Task calldata task,
        uint256[] calldata outputs,
        TaskManager.Anchor calldata prev,
        uint64 lastTime,
        uint256 lastLeaf,
        bytes calldata proof
    ) external {
        if (!projects.isActive(task.project)) revert ProjectNotActive(task.project);
        (uint256 taskId, uint256[] memory inputs) = _check(task, outputs, prev, lastTime, lastLeaf);
        // Settled before the proof is checked, as in a batch: a bad proof reverts the settlement with it.
        taskManager.settle(task, prev, lastTime, lastLeaf);
        address verifier = projects.verifierOf(task.project, task.configVersion);
        if (!IVerifier(verifier).verify(inputs, proof)) revert InvalidProof(taskId);
        _process(projects.dappOf(task.project), task, taskId, outputs);
    }

    /// @notice Route many tasks at once, all verified by the same verifier (one project's config version, or
    /// versions that share it): one batched check of every proof (IVerifier.verifyBatch), then each DApp call as
    /// route() makes it. `proofs` is the tasks' proofs, one after the other, all of the verifier's proof length.
    /// @dev All or nothing: any refusal or one bad proof reverts the batch (InvalidBatch), and the submitter routes
    /// the good ones again without it. A task whose predecessor is in the same batch, before it, is routed after
    /// it (its anchor is the one the predecessor leaves).
    function routeBatch(Route[] calldata routes, bytes calldata proofs) external {
        if (routes.length == 0) revert EmptyBatch();
        (uint256[] memory ids, uint256[][] memory inputs, address verifier) = _settleAll(routes);
        if (!IVerifier(verifier).verifyBatch(inputs, proofs)) revert InvalidBatch(routes.length);
        address dapp;
        uint64 dappProject;
        for (uint256 i = 0; i < routes.length; ++i) {
            TaskManager.Task calldata task = routes[i].task;
            if (i == 0 || task.project != dappProject) {
                dapp = projects.dappOf(task.project);
                dappProject = task.project;
            }
            _process(dapp, task, ids[i], routes[i].outputs);
        }
    }

    /// @dev routeBatch's checks and settlements, in order; the tasks' ids, public inputs and common verifier.
    function _settleAll(Route[] calldata routes)
        private
        returns (uint256[] memory ids, uint256[][] memory inputs, address verifier)
    {
        uint256 n = routes.length;
        ids = new uint256[](n);
        inputs = new uint256[][](n);
        uint64 project;
        uint32 version;
        for (uint256 i = 0; i < n; ++i) {
            Route calldata r = routes[i];
            // The project and its version's verifier are read when they change, not once per task.
            if (i == 0 || r.task.project != project || r.task.configVersion != version) {
                (project, version) = (r.task.project, r.task.configVersion);
                if (!projects.isActive(project)) revert ProjectNotActive(project);
                address own = projects.verifierOf(project, version);
                if (i == 0) verifier = own;
                else if (own != verifier) revert MixedVerifiers(i);
            }
            (ids[i], inputs[i]) = _check(r.task, r.outputs, r.prev, r.lastTime, r.lastLeaf);
            // Settled as it goes, so a device's later task in the batch meets the anchor this one leaves; the
            // batched check after reverts every settlement when a proof fails.
            taskManager.settle(r.task, r.prev, r.lastTime, r.lastLeaf);
        }
    }

    /// @notice The public inputs route() hands the verifier for `outputs` claimed on `task` against the anchor
    /// `prev`, leaving (`lastTime`, `lastLeaf`), in snarkjs order: [outputs..., project, taskId, root, device,
    /// prover, firstNonce, lastNonce, prevTime, prevLeaf, lastTime, lastLeaf] (then the signature inputs).
    function publicInputsOf(
        TaskManager.Task calldata task,
        uint256[] calldata outputs,
        TaskManager.Anchor calldata prev,
        uint64 lastTime,
        uint256 lastLeaf
    ) external view returns (uint256[] memory) {
        (uint256 keyAx, uint256 keyAy) = devices.bjjKeyOf(task.project, task.device);
        return _publicInputs(task, _taskId(task), outputs, prev, lastTime, lastLeaf, keyAx, keyAy);
    }

    /// @dev The Router's checks on the record given (the caller checked that its project is active) (TaskManager.settle then checks it against the stored hash,
    /// with the status, the predecessor and the anchor) and the public inputs built from it. The task is then
    /// settled before its proof is checked (in a batch, as each is checked, so a device's later task meets the
    /// anchor this one leaves): a proof that fails reverts the settlements with it. Either way the task is
    /// settled before its DApp is called: a DApp that calls back finds it settled, and the anchor moves whatever
    /// the DApp does (those messages are spent).
    function _check(
        TaskManager.Task calldata task,
        uint256[] calldata outputs,
        TaskManager.Anchor calldata prev,
        uint64 lastTime,
        uint256 lastLeaf
    ) private view returns (uint256 taskId, uint256[] memory inputs) {
        taskId = _taskId(task);
        if (msg.sender != task.prover) revert NotAssignedProver(taskId, msg.sender);
        if (block.number > task.deadline) revert DeadlinePassed(taskId, task.deadline);
        (bool active, uint256 keyAx, uint256 keyAy) = devices.routeKeyOf(task.project, task.device);
        if (!active) revert DeviceNotActive(taskId, task.device);
        inputs = _publicInputs(task, taskId, outputs, prev, lastTime, lastLeaf, keyAx, keyAy);
    }

    /// @dev TaskManager.taskIdOf, computed here (no call): the id binds the chain, the TaskManager, the project,
    /// the device and the first nonce.
    function _taskId(TaskManager.Task calldata task) private view returns (uint256) {
        return uint256(
            keccak256(abi.encode(block.chainid, address(taskManager), task.project, task.device, task.firstNonce))
        ) >> 8;
    }

    /// @dev Hand the outputs to the DApp with exactly DAPP_GAS; a revert fails the task alone.
    function _process(address dapp, TaskManager.Task calldata task, uint256 taskId, uint256[] calldata outputs)
        private
    {
        // EIP-150 forwards at most 63/64 of what is left: with less than this, the DApp could get less than
        // DAPP_GAS, and a revert it then made (its own, or an inner call's out-of-gas) would say nothing about it.
        uint256 needed = DAPP_GAS + DAPP_GAS / 63 + AFTER_DAPP_GAS;
        if (gasleft() < needed) revert DappGasTooLow(taskId, gasleft(), needed);
        try IDapp(dapp).process{gas: DAPP_GAS}(task.project, taskId, task.device, outputs) {
            emit TaskSettled(taskId, msg.sender);
        } catch (bytes memory reason) {
            taskManager.markFailed(taskId, reason);
            emit TaskFailed(taskId, reason);
        }
    }

    function _publicInputs(
        TaskManager.Task calldata task,
        uint256 taskId,
        uint256[] calldata outputs,
        TaskManager.Anchor calldata prev,
        uint64 lastTime,
        uint256 lastLeaf,
        uint256 keyAx,
        uint256 keyAy
    ) private view returns (uint256[] memory inputs) {
        uint256 n = outputs.length;
        bool signed = keyAx != 0 || keyAy != 0;
        inputs = new uint256[](n + RECORD_INPUTS + (signed ? SIGNATURE_INPUTS : 0));
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
        inputs[n + 7] = prev.timestamp;
        // The anchor's leaf is opened only by a task of the same config version (another version's leaf may hold
        // other fields): across a version change the boundary earns nothing, but time still chains.
        inputs[n + 8] = prev.configVersion == task.configVersion ? prev.leaf : 0;
        inputs[n + 9] = lastTime;
        if (lastLeaf >= FIELD_MODULUS) revert OutputOutOfField(n + 10);
        inputs[n + 10] = lastLeaf;
        if (signed) {
            uint256 at = n + RECORD_INPUTS;
            inputs[at] = block.chainid;
            inputs[at + 1] = uint256(uint160(address(devices)));
            inputs[at + 2] = task.configVersion;
            inputs[at + 3] = keyAx;
            inputs[at + 4] = keyAy;
        }
    }
}
