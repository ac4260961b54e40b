// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ProjectRegistry} from "./ProjectRegistry.sol";
import {ProverRegistry} from "./ProverRegistry.sol";

/// @title TaskManager
/// @notice Records each task's commitment when it is assigned (project, config version, device, nonce range, batch
/// root, prover, deadline), so the Router can check a proof against the record instead of against whatever the
/// submitter claims, and so that each message is settled at most once.
/// Protocol v2: it also keeps each device's anchor (the timestamp and leaf of the last message of its last verified
/// task) which the Router hands the next proof, so a device's tasks chain: no message, time or distance counts
/// twice, and no rule restarts at a task boundary. A task past its deadline can be expired by anyone and
/// reassigned (same record, fresh deadline) by its project's sequencer.
/// @dev Task id (docs/protocol.md): uint256(keccak256(abi.encode(chainId, taskManager, project, device,
/// firstNonce))) >> 8. Including chain id and this contract's address keeps ids from repeating across chains and
/// deployments; the shift keeps them below the BN254 field so a circuit can take the id as a public input.
contract TaskManager {
    enum Status {
        None,
        Assigned,
        Settled,
        Failed,
        Expired
    }

    /// @notice A task's record. Only its hash is stored (one slot, with the status in its low byte: 22k gas at
    /// assignment instead of four slots); TaskAssigned (and TaskReassigned for prover and deadline) carries every
    /// field, and whoever routes, expires, releases or reassigns a task passes its record back in calldata, checked
    /// against the hash (`recordMatches`). `hasPrev`/`prevFirstNonce` name the device's previously assigned task
    /// (its id is taskIdOf(project, device, prevFirstNonce)): the Router routes a device's tasks in assignment
    /// order. recordHash = keccak256(abi.encode(Task)) with its low byte cleared (docs/protocol.md).
    struct Task {
        uint64 project;
        uint32 configVersion;
        address device;
        uint64 firstNonce;
        uint64 lastNonce;
        uint256 root;
        address prover;
        uint64 deadline;
        uint64 prevFirstNonce;
        bool hasPrev;
    }

    /// @notice What the next task of a (project, device) must start after: the last message of its last verified
    /// task. All zero before the first (docs/protocol.md, "Anchors"). Stored as keccak256(abi.encode(Anchor)) in one
    /// slot (0 before the first); AnchorAdvanced carries its fields, and a route passes them back in calldata.
    struct Anchor {
        uint64 timestamp;
        uint32 configVersion;
        uint256 leaf;
    }

    /// @dev Per (project, device): assignment progress (one slot) and the anchor's hash (one slot).
    struct DeviceTasks {
        uint64 lastNonce;
        uint64 lastFirstNonce;
        bool hasTask;
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

    /// @notice The longest deadline a task may get, in blocks (about two weeks at 12 s): a sequencer cannot give a
    /// task a deadline so far away that it never expires and blocks the device's later tasks for good.
    uint64 public constant MAX_DEADLINE_BLOCKS = 100_000;

    ProjectRegistry public immutable projects;
    ProverRegistry public immutable provers;
    address public immutable deployer;
    address public router;

    /// @dev The task's record hash (high 248 bits) and its Status (low byte); 0 for an unknown task.
    mapping(uint256 taskId => uint256) private _slots;
    /// @dev The last nonce and the first nonce of the latest task assigned for (project, device), if any.
    mapping(uint64 project => mapping(address device => DeviceTasks)) private _devices;
    /// @dev keccak256(abi.encode(Anchor)) of the device's anchor; 0 before its first verified task.
    mapping(uint64 project => mapping(address device => bytes32)) private _anchors;

    uint256 private constant _STATUS_MASK = 0xff;

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
        uint64 deadline,
        uint64 prevFirstNonce,
        bool hasPrev
    );
    event TaskStatusChanged(uint256 indexed taskId, Status status);
    event TaskReassigned(uint256 indexed taskId, address prover, uint64 deadline);
    event AnchorAdvanced(
        uint64 indexed project, address indexed device, uint64 timestamp, uint32 configVersion, uint256 leaf
    );

    error NotDeployer(address caller);
    error NotRouter(address caller);
    error RouterAlreadySet(address router);
    error ZeroAddress();
    error ZeroDeadline();
    error DeadlineTooFar(uint64 deadlineBlocks, uint64 maximum);
    error NotSequencer(uint64 project, address caller);
    error ProjectNotActive(uint64 project);
    error VersionNotLive(uint64 project, uint32 version);
    error UnknownProver(address prover);
    error BadNonceRange(uint64 firstNonce, uint64 lastNonce);
    error RootOutOfField(uint256 root);
    error NonceAlreadyAssigned(uint64 project, address device, uint64 firstNonce, uint256 nextAllowed);
    error TaskExists(uint256 taskId);
    error BadStatus(uint256 taskId, Status status);
    error RecordMismatch(uint256 taskId);
    error AnchorMismatch(uint256 taskId);
    error TaskNotAssigned(uint256 taskId, Status status);
    error PredecessorPending(uint256 taskId, uint256 predecessor);
    error DeadlineNotPassed(uint256 taskId, uint64 deadline);
    error AnchorNotAdvanced(uint256 taskId, uint64 anchorTime, uint64 lastTime);
    error LeafOutOfField(uint256 leaf);
    error NotTaskProver(uint256 taskId, address caller);

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
        _checkDeadline(deadlineBlocks);
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

    /// @notice Router only: settle the task of `task` (its record, checked against the stored hash) whose proof
    /// pinned (`lastTime`, `lastLeaf`) to the batch's last message, against the device's anchor `prev` (checked
    /// against the stored hash): they become the device's anchor, whatever the DApp then does with the outputs.
    /// Reverts unless the task is Assigned and its predecessor is not. The Router verifies the proof in the same
    /// transaction (after this, for a batch): a proof that fails reverts the settlement with it.
    /// @return taskId the task's id.
    function settle(Task calldata task, Anchor calldata prev, uint64 lastTime, uint256 lastLeaf)
        external
        onlyRouter
        returns (uint256 taskId)
    {
        taskId = taskIdOf(task.project, task.device, task.firstNonce);
        (uint256 hash, Status status) = _stored(taskId, task);
        if (status != Status.Assigned) revert TaskNotAssigned(taskId, status);
        if (task.hasPrev) {
            uint256 previous = taskIdOf(task.project, task.device, task.prevFirstNonce);
            if (_statusOf(previous) == Status.Assigned) revert PredecessorPending(taskId, previous);
        }
        bytes32 stored = _anchors[task.project][task.device];
        if (stored != (prev.timestamp == 0 && prev.leaf == 0 ? bytes32(0) : keccak256(abi.encode(prev)))) {
            revert AnchorMismatch(taskId);
        }
        if (lastLeaf >= FIELD_MODULUS) revert LeafOutOfField(lastLeaf);
        // The proof already shows this (every message comes after prevTime); kept as a cheap second lock.
        if (lastTime <= prev.timestamp) revert AnchorNotAdvanced(taskId, prev.timestamp, lastTime);
        _slots[taskId] = hash | uint256(Status.Settled);
        _anchors[task.project][task.device] = keccak256(abi.encode(Anchor(lastTime, task.configVersion, lastLeaf)));
        emit TaskStatusChanged(taskId, Status.Settled);
        emit AnchorAdvanced(task.project, task.device, lastTime, task.configVersion, lastLeaf);
    }

    /// @notice Anyone: a task its prover did not route before its deadline ends Expired, so the device's later
    /// tasks can be routed against the anchor as it stands. Its messages are never lost: the sequencer may
    /// reassign the same record (reassign), and they can never count twice (the anchor only moves forward).
    function expire(Task calldata task) external {
        uint256 taskId = taskIdOf(task.project, task.device, task.firstNonce);
        (uint256 hash, Status status) = _stored(taskId, task);
        if (status != Status.Assigned) revert BadStatus(taskId, status);
        if (block.number <= task.deadline) revert DeadlineNotPassed(taskId, task.deadline);
        _slots[taskId] = hash | uint256(Status.Expired);
        emit TaskStatusChanged(taskId, Status.Expired);
    }

    /// @notice The task's prover gives it up before its deadline (its batch breaks the project's rules, so no proof
    /// exists): it ends Expired at once, as expire() would end it at the deadline, so the device's later tasks need
    /// not wait. Nothing is lost that the deadline would have kept: the prover could as well never route.
    function release(Task calldata task) external {
        uint256 taskId = taskIdOf(task.project, task.device, task.firstNonce);
        (uint256 hash, Status status) = _stored(taskId, task);
        if (status != Status.Assigned) revert BadStatus(taskId, status);
        if (msg.sender != task.prover) revert NotTaskProver(taskId, msg.sender);
        _slots[taskId] = hash | uint256(Status.Expired);
        emit TaskStatusChanged(taskId, Status.Expired);
    }

    /// @notice The project's sequencer gives an expired task (the same commitment) to `prover` with a fresh
    /// deadline. The proof is then made against the anchor at that time; a task whose messages are no longer
    /// after the anchor (a later task settled first) can never verify, so nothing counts twice.
    function reassign(Task calldata task, address prover, uint64 deadlineBlocks) external {
        uint256 taskId = taskIdOf(task.project, task.device, task.firstNonce);
        (, Status status) = _stored(taskId, task);
        if (status != Status.Expired) revert BadStatus(taskId, status);
        _checkDeadline(deadlineBlocks);
        _checkProject(task.project);
        if (!provers.isProver(prover)) revert UnknownProver(prover);
        uint64 deadline = uint64(block.number) + deadlineBlocks;
        Task memory fresh = task;
        fresh.prover = prover;
        fresh.deadline = deadline;
        _slots[taskId] = _recordHash(fresh) | uint256(Status.Assigned);
        emit TaskStatusChanged(taskId, Status.Assigned);
        emit TaskReassigned(taskId, prover, deadline);
    }

    /// @notice Router only: the task is over without effect (its DApp reverted).
    /// @dev The second argument is the DApp's revert data. The Router emits it in TaskFailed; storing it here
    /// would cost gas for nothing the chain reads back.
    function markFailed(uint256 taskId, bytes calldata /* reason */ ) external onlyRouter {
        uint256 slot = _slots[taskId];
        Status status = Status(uint8(slot & _STATUS_MASK));
        if (status != Status.Settled) revert BadStatus(taskId, status);
        _slots[taskId] = (slot & ~_STATUS_MASK) | uint256(Status.Failed);
        emit TaskStatusChanged(taskId, Status.Failed);
    }

    /// @notice Where task `taskId` stands (None for an unknown id).
    function statusOf(uint256 taskId) external view returns (Status) {
        return _statusOf(taskId);
    }

    /// @notice Whether `task` is the record stored for `taskId` (its fields as TaskAssigned, and TaskReassigned
    /// since, gave them). Receipts and attesters check what they read from events with this.
    function recordMatches(uint256 taskId, Task calldata task) external view returns (bool) {
        uint256 slot = _slots[taskId];
        return slot != 0 && slot & ~_STATUS_MASK == _recordHash(task)
            && taskId == taskIdOf(task.project, task.device, task.firstNonce);
    }

    /// @notice Lowest first nonce a new task of (project, device) may have.
    function nextNonceOf(uint64 project, address device) external view returns (uint256) {
        return _nextAllowed(_devices[project][device]);
    }

    /// @notice keccak256(abi.encode(Anchor)) of the anchor the next task of (project, device) is proven against;
    /// 0 before its first verified task. AnchorAdvanced gives the fields.
    function anchorHashOf(uint64 project, address device) external view returns (bytes32) {
        return _anchors[project][device];
    }

    function taskIdOf(uint64 project, address device, uint64 firstNonce) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), project, device, firstNonce))) >> 8;
    }

    function _statusOf(uint256 taskId) private view returns (Status) {
        return Status(uint8(_slots[taskId] & _STATUS_MASK));
    }

    /// @dev keccak256(abi.encode(task)) with its low byte cleared for the status.
    function _recordHash(Task memory task) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(task))) & ~_STATUS_MASK;
    }

    /// @dev The stored record hash and status of `taskId`; RecordMismatch when the task exists and `task` is not
    /// its record.
    function _stored(uint256 taskId, Task calldata task) private view returns (uint256 hash, Status status) {
        uint256 slot = _slots[taskId];
        status = Status(uint8(slot & _STATUS_MASK));
        hash = slot & ~_STATUS_MASK;
        if (status != Status.None && hash != _recordHash(task)) revert RecordMismatch(taskId);
    }

    /// @dev One more than the last nonce assigned (uint256: the largest uint64 nonce stays usable), 0 at first.
    function _nextAllowed(DeviceTasks storage progress) private view returns (uint256) {
        return progress.hasTask ? uint256(progress.lastNonce) + 1 : 0;
    }

    function _checkDeadline(uint64 deadlineBlocks) private pure {
        if (deadlineBlocks == 0) revert ZeroDeadline();
        if (deadlineBlocks > MAX_DEADLINE_BLOCKS) revert DeadlineTooFar(deadlineBlocks, MAX_DEADLINE_BLOCKS);
    }

    function _checkProject(uint64 project) private view {
        if (msg.sender != projects.sequencerOf(project)) revert NotSequencer(project, msg.sender);
        if (!projects.isActive(project)) revert ProjectNotActive(project);
    }

    function _assign(TaskInput calldata t, uint64 deadline) private returns (uint256 taskId) {
        if (t.device == address(0)) revert ZeroAddress();
        if (t.firstNonce > t.lastNonce) revert BadNonceRange(t.firstNonce, t.lastNonce);
        if (t.root >= FIELD_MODULUS) revert RootOutOfField(t.root);
        DeviceTasks storage progress = _devices[t.project][t.device];
        uint256 nextAllowed = _nextAllowed(progress);
        // Ranges of one device only move forward, so no message can be counted in two tasks.
        if (t.firstNonce < nextAllowed) revert NonceAlreadyAssigned(t.project, t.device, t.firstNonce, nextAllowed);
        taskId = taskIdOf(t.project, t.device, t.firstNonce);
        if (_slots[taskId] != 0) revert TaskExists(taskId);
        bool hasPrev = progress.hasTask;
        uint64 prevFirstNonce = progress.lastFirstNonce;
        progress.lastNonce = t.lastNonce;
        progress.lastFirstNonce = t.firstNonce;
        progress.hasTask = true;
        Task memory task = Task({
            project: t.project,
            configVersion: t.configVersion,
            device: t.device,
            firstNonce: t.firstNonce,
            lastNonce: t.lastNonce,
            root: t.root,
            prover: t.prover,
            deadline: deadline,
            prevFirstNonce: prevFirstNonce,
            hasPrev: hasPrev
        });
        _slots[taskId] = _recordHash(task) | uint256(Status.Assigned);
        emit TaskAssigned(
            taskId,
            t.project,
            t.device,
            t.prover,
            t.root,
            t.firstNonce,
            t.lastNonce,
            t.configVersion,
            deadline,
            prevFirstNonce,
            hasPrev
        );
    }
}
