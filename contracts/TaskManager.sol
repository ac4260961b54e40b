// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ProjectRegistry} from "./ProjectRegistry.sol";
import {ProverRegistry} from "./ProverRegistry.sol";

/// @title TaskManager
/// @notice Records each task's commitment when it is assigned (project, config version, device, nonce range, batch
/// root, prover, deadline), so the Router can check a proof against the record instead of against whatever the
/// submitter claims, and so that each message is settled at most once.
/// @dev Task id (docs/protocol.md): uint256(keccak256(abi.encode(chainId, taskManager, project, device,
/// firstNonce))) >> 8. Including chain id and this contract's address keeps ids from repeating across chains and
/// deployments; the shift keeps them below the BN254 field so a circuit can take the id as a public input.
contract TaskManager {
    enum Status {
        None,
        Assigned,
        Settled,
        Failed
    }

    /// @dev Field order packs the record into four storage slots (about 22k gas each on first write).
    struct Task {
        address device;
        uint64 project;
        uint32 configVersion;
        address prover;
        uint64 firstNonce;
        Status status;
        uint64 lastNonce;
        uint64 deadline;
        uint256 root;
    }

    /// @dev configVersion is the version the batch's messages were signed under; it must be live (ProjectRegistry
    /// `isLive`), and the task is proven and verified under it.
    struct TaskInput {
        uint64 project;
        uint32 configVersion;
        address device;
        uint64 firstNonce;
        uint64 lastNonce;
        uint256 root;
        address prover;
    }

    /// @dev The BN254 scalar field: the root is a Poseidon hash, i.e. a field element, and a public input.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    ProjectRegistry public immutable projects;
    ProverRegistry public immutable provers;
    address public immutable deployer;
    address public router;

    mapping(uint256 taskId => Task) private _tasks;
    /// @dev Lowest first nonce the next task of (project, device) may have: one more than the last nonce assigned.
    mapping(uint64 project => mapping(address device => uint256 nonce)) private _nextNonce;

    event RouterSet(address router);
    event TaskAssigned(
        uint256 indexed taskId,
        uint64 indexed project,
        address device,
        address prover,
        uint256 root,
        uint64 firstNonce,
        uint64 lastNonce,
        uint32 configVersion,
        uint64 deadline
    );
    event TaskStatusChanged(uint256 indexed taskId, Status status);

    error NotDeployer(address caller);
    error NotRouter(address caller);
    error RouterAlreadySet(address router);
    error ZeroAddress();
    error ZeroDeadline();
    error NotSequencer(uint64 project, address caller);
    error ProjectNotActive(uint64 project);
    error VersionNotLive(uint64 project, uint32 version);
    error UnknownProver(address prover);
    error BadNonceRange(uint64 firstNonce, uint64 lastNonce);
    error RootOutOfField(uint256 root);
    error NonceAlreadyAssigned(uint64 project, address device, uint64 firstNonce, uint256 nextAllowed);
    error TaskExists(uint256 taskId);
    error BadStatus(uint256 taskId, Status status);

    modifier onlyRouter() {
        if (msg.sender != router) revert NotRouter(msg.sender);
        _;
    }

    constructor(ProjectRegistry projectRegistry, ProverRegistry proverRegistry) {
        projects = projectRegistry;
        provers = proverRegistry;
        deployer = msg.sender;
    }

    /// @notice Name the Router, once; only the deployer may, right after deploying both.
    function setRouter(address router_) external {
        if (msg.sender != deployer) revert NotDeployer(msg.sender);
        if (router != address(0)) revert RouterAlreadySet(router);
        if (router_ == address(0)) revert ZeroAddress();
        router = router_;
        emit RouterSet(router_);
    }

    /// @notice Record many tasks in one transaction. Each must come from its project's sequencer, for an active
    /// (not paused) project, a live config version of it and a registered prover, with a nonce range above
    /// everything already assigned for its device.
    /// @param deadlineBlocks the prover must route each result within this many blocks from now.
    /// @return ids the task ids, in input order.
    function assignTasks(TaskInput[] calldata tasks, uint64 deadlineBlocks) external returns (uint256[] memory ids) {
        if (deadlineBlocks == 0) revert ZeroDeadline();
        uint64 deadline = uint64(block.number) + deadlineBlocks;
        ids = new uint256[](tasks.length);
        // A batch usually holds one project's tasks of one or two versions for one prover: check each when it
        // changes, not once per task.
        uint64 checkedProject;
        uint32 checkedVersion;
        address checkedProver;
        for (uint256 i = 0; i < tasks.length; ++i) {
            TaskInput calldata t = tasks[i];
            bool newProject = i == 0 || t.project != checkedProject;
            if (newProject) {
                _checkProject(t.project);
                checkedProject = t.project;
            }
            if (newProject || t.configVersion != checkedVersion) {
                if (!projects.isLive(t.project, t.configVersion)) revert VersionNotLive(t.project, t.configVersion);
                checkedVersion = t.configVersion;
            }
            if (i == 0 || t.prover != checkedProver) {
                if (!provers.isProver(t.prover)) revert UnknownProver(t.prover);
                checkedProver = t.prover;
            }
            ids[i] = _assign(t, deadline);
        }
    }

    /// @notice Router only: the task's proof verified; it can never be routed again.
    function markSettled(uint256 taskId) external onlyRouter {
        Task storage task = _tasks[taskId];
        if (task.status != Status.Assigned) revert BadStatus(taskId, task.status);
        task.status = Status.Settled;
        emit TaskStatusChanged(taskId, Status.Settled);
    }

    /// @notice Router only: the task is over without effect (its DApp reverted).
    /// @dev The second argument is the DApp's revert data. The Router emits it in TaskFailed; storing it here
    /// would cost gas for nothing the chain reads back.
    function markFailed(uint256 taskId, bytes calldata /* reason */ ) external onlyRouter {
        Task storage task = _tasks[taskId];
        if (task.status != Status.Assigned && task.status != Status.Settled) revert BadStatus(taskId, task.status);
        task.status = Status.Failed;
        emit TaskStatusChanged(taskId, Status.Failed);
    }

    function getTask(uint256 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    /// @notice Lowest first nonce a new task of (project, device) may have.
    function nextNonceOf(uint64 project, address device) external view returns (uint256) {
        return _nextNonce[project][device];
    }

    function taskIdOf(uint64 project, address device, uint64 firstNonce) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), project, device, firstNonce))) >> 8;
    }

    function _checkProject(uint64 project) private view {
        if (msg.sender != projects.sequencerOf(project)) revert NotSequencer(project, msg.sender);
        if (!projects.isActive(project)) revert ProjectNotActive(project);
    }

    function _assign(TaskInput calldata t, uint64 deadline) private returns (uint256 taskId) {
        if (t.device == address(0)) revert ZeroAddress();
        if (t.firstNonce > t.lastNonce) revert BadNonceRange(t.firstNonce, t.lastNonce);
        if (t.root >= FIELD_MODULUS) revert RootOutOfField(t.root);
        uint256 nextAllowed = _nextNonce[t.project][t.device];
        // Ranges of one device only move forward, so no message can be counted in two tasks.
        if (t.firstNonce < nextAllowed) revert NonceAlreadyAssigned(t.project, t.device, t.firstNonce, nextAllowed);
        taskId = taskIdOf(t.project, t.device, t.firstNonce);
        if (_tasks[taskId].status != Status.None) revert TaskExists(taskId);
        _nextNonce[t.project][t.device] = uint256(t.lastNonce) + 1;
        _tasks[taskId] = Task({
            device: t.device,
            project: t.project,
            configVersion: t.configVersion,
            prover: t.prover,
            firstNonce: t.firstNonce,
            status: Status.Assigned,
            lastNonce: t.lastNonce,
            deadline: deadline,
            root: t.root
        });
        emit TaskAssigned(
            taskId, t.project, t.device, t.prover, t.root, t.firstNonce, t.lastNonce, t.configVersion, deadline
        );
    }
}
