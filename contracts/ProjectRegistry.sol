// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title ProjectRegistry
/// @notice Who runs a DePIN project, which logic it runs (content-addressed config versions, each with its
/// verifier), where its results go (its DApp) and who may batch its messages into tasks (its sequencer).
/// @dev Project ids start at 1, so 0 always means "no project". Config versions start at 1 and only grow. A
/// version is live from the moment it is added until it is retired: the current version is always live; adding a
/// new one gives the previous one a grace period (in blocks) after which it retires by itself, and the owner may
/// retire any version but the current one at once. Only live versions get new tasks (TaskManager asks
/// `isLive`); a task records its version and is verified against that version's verifier even after the version
/// retired, until the task's own deadline (docs/protocol.md, "Versions and upgrades").
contract ProjectRegistry {
    struct Project {
        address owner;
        uint32 currentVersion;
        bool paused;
        address sequencer;
        address dapp;
    }

    /// @dev verifier and retiresAt share one storage slot.
    struct Version {
        bytes32 configHash;
        address verifier;
        uint64 retiresAt;
        string uri;
    }

    /// @notice Number of projects created; also the id of the newest one.
    uint64 public projectCount;

    mapping(uint64 project => Project) private _projects;
    mapping(uint64 project => mapping(uint32 version => Version)) private _versions;

    event ProjectCreated(uint64 indexed project, address indexed owner, address dapp, address sequencer);
    event VersionAdded(
        uint64 indexed project, uint32 indexed version, bytes32 configHash, string uri, address verifier
    );
    /// @notice Version `version` is not live from block `atBlock` on: when the owner retires it (`atBlock` is this
    /// block) or when a newer version makes it the previous one (`atBlock` is that block plus the grace period,
    /// possibly in the future). Emitted again if the owner later retires it before its grace period ends.
    event VersionRetired(uint64 indexed project, uint32 indexed version, uint64 atBlock);
    event Paused(uint64 indexed project);
    event Resumed(uint64 indexed project);
    event SequencerChanged(uint64 indexed project, address sequencer);

    error UnknownProject(uint64 project);
    error UnknownVersion(uint64 project, uint32 version);
    error NotProjectOwner(uint64 project, address caller);
    error ZeroAddress();
    error NotAContract(address account);
    error AlreadyPaused(uint64 project);
    error NotPaused(uint64 project);
    error CannotRetireCurrentVersion(uint64 project, uint32 version);
    error AlreadyRetired(uint64 project, uint32 version, uint64 atBlock);
    error GraceTooLong(uint64 graceBlocks);

    modifier onlyProjectOwner(uint64 project) {
        if (msg.sender != ownerOf(project)) revert NotProjectOwner(project, msg.sender);
        _;
    }

    /// @notice Create a project owned by the caller, with config version 1.
    /// @param configHash hash of the project's config (schema, logic, circuit) that `uri` points to.
    /// @param verifier the IVerifier that checks version 1's proofs.
    /// @param dapp the IDapp that receives verified results.
    /// @param sequencer the account allowed to assign the project's tasks.
    function createProject(bytes32 configHash, string calldata uri, address verifier, address dapp, address sequencer)
        external
        returns (uint64 project)
    {
        _requireContract(dapp);
        if (sequencer == address(0)) revert ZeroAddress();
        project = ++projectCount;
        _projects[project] = Project({
            owner: msg.sender, currentVersion: 0, paused: false, sequencer: sequencer, dapp: dapp
        });
        emit ProjectCreated(project, msg.sender, dapp, sequencer);
        _addVersion(project, configHash, uri, verifier);
    }

    /// @notice Add a config version; it becomes current, so new tasks may be assigned under it (and are verified
    /// by `verifier`). The previous current version stays live for `graceBlocks` more blocks, so that messages
    /// devices signed under it before they upgraded can still be batched, then it retires by itself. A grace of 0
    /// retires it in this very block.
    function addVersion(
        uint64 project,
        bytes32 configHash,
        string calldata uri,
        address verifier,
        uint64 graceBlocks
    ) external onlyProjectOwner(project) returns (uint32 version) {
        uint256 endsAt = block.number + uint256(graceBlocks);
        if (endsAt > type(uint64).max) revert GraceTooLong(graceBlocks);
        _retire(project, _projects[project].currentVersion, uint64(endsAt));
        return _addVersion(project, configHash, uri, verifier);
    }

    /// @notice Retire a version that is not the current one, now: no new task may be assigned under it. Tasks
    /// already assigned under it can still be routed until their deadlines. Also ends a grace period early.
    function retireVersion(uint64 project, uint32 version) external onlyProjectOwner(project) {
        if (version == _projects[project].currentVersion) revert CannotRetireCurrentVersion(project, version);
        uint64 atBlock = _existingVersion(project, version).retiresAt;
        if (atBlock != 0 && atBlock <= block.number) revert AlreadyRetired(project, version, atBlock);
        _retire(project, version, uint64(block.number));
    }

    /// @notice Stop new tasks and settlements for the project until `resume`. Deadlines and grace periods keep
    /// counting blocks while the project is paused.
    function pause(uint64 project) external onlyProjectOwner(project) {
        if (_projects[project].paused) revert AlreadyPaused(project);
        _projects[project].paused = true;
        emit Paused(project);
    }

    function resume(uint64 project) external onlyProjectOwner(project) {
        if (!_projects[project].paused) revert NotPaused(project);
        _projects[project].paused = false;
        emit Resumed(project);
    }

    function setSequencer(uint64 project, address sequencer) external onlyProjectOwner(project) {
        if (sequencer == address(0)) revert ZeroAddress();
        _projects[project].sequencer = sequencer;
        emit SequencerChanged(project, sequencer);
    }

    function ownerOf(uint64 project) public view returns (address) {
        return _existing(project).owner;
    }

    function sequencerOf(uint64 project) external view returns (address) {
        return _existing(project).sequencer;
    }

    function dappOf(uint64 project) external view returns (address) {
        return _existing(project).dapp;
    }

    function currentVersion(uint64 project) external view returns (uint32) {
        return _existing(project).currentVersion;
    }

    function verifierOf(uint64 project, uint32 version) external view returns (address) {
        return _existingVersion(project, version).verifier;
    }

    function configHashOf(uint64 project, uint32 version) external view returns (bytes32) {
        return _existingVersion(project, version).configHash;
    }

    function uriOf(uint64 project, uint32 version) external view returns (string memory) {
        return _existingVersion(project, version).uri;
    }

    /// @notice True while new tasks may be assigned under `version`: it exists and is the current version or one
    /// whose retirement block has not come yet. False (no revert) for an unknown project or version. Says nothing
    /// about pause: see `isActive`.
    function isLive(uint64 project, uint32 version) external view returns (bool) {
        if (version == 0 || version > _projects[project].currentVersion) return false;
        uint64 atBlock = _versions[project][version].retiresAt;
        return atBlock == 0 || block.number < atBlock;
    }

    /// @notice The block from which `version` is retired, or 0 while no retirement is set (the current version).
    function retiresAt(uint64 project, uint32 version) external view returns (uint64) {
        return _existingVersion(project, version).retiresAt;
    }

    /// @notice True when the project exists and is not paused; false (no revert) for an unknown project.
    function isActive(uint64 project) external view returns (bool) {
        Project storage p = _projects[project];
        return p.owner != address(0) && !p.paused;
    }

    function _addVersion(uint64 project, bytes32 configHash, string calldata uri, address verifier)
        private
        returns (uint32 version)
    {
        _requireContract(verifier);
        version = ++_projects[project].currentVersion;
        _versions[project][version] = Version({configHash: configHash, verifier: verifier, retiresAt: 0, uri: uri});
        emit VersionAdded(project, version, configHash, uri, verifier);
    }

    function _retire(uint64 project, uint32 version, uint64 atBlock) private {
        _versions[project][version].retiresAt = atBlock;
        emit VersionRetired(project, version, atBlock);
    }

    function _existing(uint64 project) private view returns (Project storage p) {
        p = _projects[project];
        if (p.owner == address(0)) revert UnknownProject(project);
    }

    function _existingVersion(uint64 project, uint32 version) private view returns (Version storage) {
        if (version == 0 || version > _existing(project).currentVersion) revert UnknownVersion(project, version);
        return _versions[project][version];
    }

    function _requireContract(address account) private view {
        // A call to an address without code "succeeds" with no return data: refuse it up front.
        if (account.code.length == 0) revert NotAContract(account);
    }
}
