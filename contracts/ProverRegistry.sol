// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title ProverRegistry
/// @notice The accounts that may be assigned tasks. Minimal for now: a prover registers itself and names a
/// beneficiary; stake, backends and unbonding come in a later version behind the same `isProver` view.
contract ProverRegistry {
    mapping(address prover => address beneficiary) private _beneficiaries;

    event ProverRegistered(address indexed prover, address indexed beneficiary);
    event BeneficiaryChanged(address indexed prover, address indexed beneficiary);

    error ZeroAddress();
    error AlreadyRegistered(address prover);
    error NotRegistered(address prover);

    /// @notice Register the caller as a prover; `beneficiary` receives what it earns.
    function registerProver(address beneficiary) external {
        if (beneficiary == address(0)) revert ZeroAddress();
        if (_beneficiaries[msg.sender] != address(0)) revert AlreadyRegistered(msg.sender);
        _beneficiaries[msg.sender] = beneficiary;
        emit ProverRegistered(msg.sender, beneficiary);
    }

    function setBeneficiary(address beneficiary) external {
        if (beneficiary == address(0)) revert ZeroAddress();
        if (_beneficiaries[msg.sender] == address(0)) revert NotRegistered(msg.sender);
        _beneficiaries[msg.sender] = beneficiary;
        emit BeneficiaryChanged(msg.sender, beneficiary);
    }

    function isProver(address prover) external view returns (bool) {
        return _beneficiaries[prover] != address(0);
    }

    /// @notice The prover's beneficiary, or the zero address if it is not registered.
    function beneficiaryOf(address prover) external view returns (address) {
        return _beneficiaries[prover];
    }
}
