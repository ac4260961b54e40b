// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ProjectRegistry} from "./ProjectRegistry.sol";

/// @title DeviceRegistry
/// @notice Which devices belong to which project, and who owns each of them (the account its rewards go to).
/// @dev A device is identified by the address of its secp256k1 key. The device key itself signs the binding
/// `DeviceBinding(uint64 project,address device,address owner)` as EIP-712 typed data under the domain
/// {name "proofstream", version "1", chainId, verifyingContract = this}: the same domain devices sign their
/// messages under (docs/protocol.md), so a signature is valid on one chain and one deployment only.
/// A binding is written once; changing a device's owner is left to a later version (it needs a nonce so an old
/// binding cannot be replayed).
contract DeviceRegistry {
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("proofstream");
    bytes32 private constant _VERSION_HASH = keccak256("1");

    /// @notice keccak256 of the EIP-712 type a device key signs to bind itself to a project and an owner.
    bytes32 public constant DEVICE_BINDING_TYPEHASH =
        keccak256("DeviceBinding(uint64 project,address device,address owner)");

    /// @dev Largest `s` of a canonical secp256k1 signature (n / 2): the other half of the range would give a
    /// second valid signature for the same message (EIP-2).
    uint256 private constant _MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    ProjectRegistry public immutable projects;

    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;

    mapping(uint64 project => mapping(address device => address owner)) private _owners;

    event DeviceRegistered(uint64 indexed project, address indexed device, address indexed owner);

    error NotProjectOwner(uint64 project, address caller);
    error ZeroAddress();
    error DeviceAlreadyRegistered(uint64 project, address device);
    error InvalidSignature();
    error WrongSigner(address recovered, address device);

    constructor(ProjectRegistry projectRegistry) {
        projects = projectRegistry;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @notice Bind `device` to `project` with `owner` as the receiver of its rewards.
    /// @dev Only the project's owner may call; `signature` (65 bytes r || s || v, v in {27, 28}) is the device
    /// key's EIP-712 signature of DeviceBinding(project, device, owner).
    function registerDevice(uint64 project, address device, address owner, bytes calldata signature) external {
        if (msg.sender != projects.ownerOf(project)) revert NotProjectOwner(project, msg.sender);
        if (device == address(0) || owner == address(0)) revert ZeroAddress();
        if (_owners[project][device] != address(0)) revert DeviceAlreadyRegistered(project, device);
        bytes32 digest = bindingDigest(project, device, owner);
        address signer = _recover(digest, signature);
        if (signer != device) revert WrongSigner(signer, device);
        _owners[project][device] = owner;
        emit DeviceRegistered(project, device, owner);
    }

    /// @notice The owner bound to `device` in `project`, or the zero address if it is not registered.
    function deviceOwner(uint64 project, address device) external view returns (address) {
        return _owners[project][device];
    }

    function isRegistered(uint64 project, address device) external view returns (bool) {
        return _owners[project][device] != address(0);
    }

    /// @notice The EIP-712 domain separator devices sign under (bindings and messages).
    function domainSeparator() public view returns (bytes32) {
        // Recomputed after a chain split so signatures from the other chain stop verifying here.
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    /// @notice The digest a device key signs to bind itself (EIP-712: 0x1901 || domainSeparator || hashStruct).
    function bindingDigest(uint64 project, address device, address owner) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(DEVICE_BINDING_TYPEHASH, project, device, owner));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        if (signature.length != 65) revert InvalidSignature();
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > _MAX_S || (v != 27 && v != 28)) revert InvalidSignature();
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
    }
}
