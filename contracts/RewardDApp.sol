// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {DeviceRegistry} from "./DeviceRegistry.sol";
import {IDapp} from "./IDapp.sol";
import {RewardToken} from "./RewardToken.sol";

/// @title RewardDApp
/// @notice The reference project DApp: for each settled task it accrues `units(outputs) * ratePerUnit` reward
/// token wei to the task's device; `claim` mints a device's accrued rewards to its current owner (the holder of its
/// device NFT at claim time). Accruing costs one storage write per task instead of a mint (balance, supply and a
/// Transfer). The rate lives here, not in the circuit, so the project can change it without a new circuit or
/// trusted setup.
/// @dev Serves one project, named once by its owner after the project is created (the project id is only known
/// then). Without that binding, another project could name this DApp as its own and mint its tokens.
contract RewardDApp is IDapp {
    address public immutable router;
    DeviceRegistry public immutable devices;
    RewardToken public immutable token;
    address public immutable owner;

    /// @notice Token base units (wei) per unit of output (e.g. per metre).
    uint256 public ratePerUnit;
    /// @notice The project this DApp rewards; 0 until bound.
    uint64 public project;
    /// @notice Token wei each device has earned and not yet claimed.
    mapping(address device => uint256) public accrued;

    event Rewarded(
        uint64 indexed project,
        uint256 indexed taskId,
        address indexed device,
        uint256 units,
        uint256 amount
    );
    event Claimed(uint64 indexed project, address indexed device, address indexed owner, uint256 amount);
    event RateChanged(uint256 ratePerUnit);
    event ProjectBound(uint64 indexed project);

    error NotRouter(address caller);
    error NotOwner(address caller);
    error ZeroAddress();
    error ProjectAlreadyBound(uint64 project);
    error NotThisProjectsDapp(uint64 project);
    error WrongProject(uint64 project);
    error NoOutputs();
    error UnknownDevice(uint64 project, address device);

    constructor(address router_, DeviceRegistry deviceRegistry, RewardToken token_, uint256 ratePerUnit_) {
        if (router_ == address(0)) revert ZeroAddress();
        router = router_;
        devices = deviceRegistry;
        token = token_;
        owner = msg.sender;
        ratePerUnit = ratePerUnit_;
        emit RateChanged(ratePerUnit_);
    }

    /// @notice Bind this DApp to `project_`, once; the project must name this contract as its DApp.
    function bindProject(uint64 project_) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (project != 0) revert ProjectAlreadyBound(project);
        if (devices.projects().dappOf(project_) != address(this)) revert NotThisProjectsDapp(project_);
        project = project_;
        emit ProjectBound(project_);
    }

    function setRate(uint256 ratePerUnit_) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        ratePerUnit = ratePerUnit_;
        emit RateChanged(ratePerUnit_);
    }

    /// @notice The units a task's proven outputs are worth (the reward is `units * ratePerUnit`). By default the
    /// first output (`logic.OUTPUTS[0]`); a project's contract overrides it to combine or cap outputs.
    /// @dev Called after `outputs.length > 0` was checked.
    function units(uint256[] calldata outputs) public pure virtual returns (uint256) {
        return outputs[0];
    }

    /// @inheritdoc IDapp
    /// @dev The Router calls only for a device active in the project (it checks before it settles), so the
    /// device is known here without another registry read.
    function process(uint64 project_, uint256 taskId, address device, uint256[] calldata outputs) external {
        if (msg.sender != router) revert NotRouter(msg.sender);
        if (project_ != project) revert WrongProject(project_);
        if (outputs.length == 0) revert NoOutputs();
        uint256 paid = units(outputs);
        uint256 amount = paid * ratePerUnit;
        accrued[device] += amount;
        emit Rewarded(project_, taskId, device, paid, amount);
    }

    /// @notice Anyone: mint each device's accrued rewards to its current owner. Whoever calls, the tokens go to the
    /// owner the DeviceRegistry names now, so a claim sent by someone else only saves the owner the gas.
    function claim(address[] calldata devices_) external {
        uint64 project_ = project;
        for (uint256 i = 0; i < devices_.length; ++i) {
            address device = devices_[i];
            address deviceOwner = devices.deviceOwner(project_, device);
            if (deviceOwner == address(0)) revert UnknownDevice(project_, device);
            uint256 amount = accrued[device];
            if (amount == 0) continue;
            accrued[device] = 0;
            emit Claimed(project_, device, deviceOwner, amount);
            token.mint(deviceOwner, amount);
        }
    }
}
