// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice The receiver hook of ERC-721's `safeTransferFrom`.
interface IERC721Receiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4);
}

/// @title DeviceNFT
/// @notice A minimal ERC-721 (with ERC-165, `name` and `symbol`) whose tokens are registered devices: token id
/// `project << 160 | device` (`tokenIdOf`), its owner the account the device's rewards go to.
/// @dev Keeps no owner of its own: the registry that inherits it says who owns a token (`_tokenOwner`) and records a
/// transfer (`_setTokenOwner`) in its device record, so a device's owner is one storage slot, whether it is read
/// as `ownerOf` or as `DeviceRegistry.deviceOwner`, and a mint costs only the owner's balance and the event.
abstract contract DeviceNFT {
    bytes4 private constant _ERC165_ID = 0x01ffc9a7;
    bytes4 private constant _ERC721_ID = 0x80ac58cd;

    mapping(address owner => uint256) private _balances;
    mapping(uint256 tokenId => address) private _approvals;
    mapping(address owner => mapping(address operator => bool)) private _operators;

    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    error NonexistentToken(uint256 tokenId);
    error NotTokenOwner(address from, address owner);
    error NotOwnerNorApproved(address caller, uint256 tokenId);
    error TransferToZeroAddress();
    error UnsafeRecipient(address to);

    /// @notice The owner the registry records for `tokenId`; the zero address for a device it does not hold.
    function _tokenOwner(uint256 tokenId) internal view virtual returns (address);

    /// @notice Record `to` as the owner of the existing `tokenId`.
    function _setTokenOwner(uint256 tokenId, address to) internal virtual;

    function name() external pure returns (string memory) {
        return "proofstream device";
    }

    function symbol() external pure returns (string memory) {
        return "PSDEV";
    }

    /// @notice The token of `device` in `project`: `uint256(project) << 160 | uint160(device)`.
    function tokenIdOf(uint64 project, address device) public pure returns (uint256) {
        return (uint256(project) << 160) | uint256(uint160(device));
    }

    /// @notice The (project, device) of a token id, the inverse of `tokenIdOf` (whether or not it exists).
    function deviceOfToken(uint256 tokenId) public pure returns (uint64 project, address device) {
        return (uint64(tokenId >> 160), address(uint160(tokenId)));
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == _ERC165_ID || interfaceId == _ERC721_ID;
    }

    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert TransferToZeroAddress();
        return _balances[owner];
    }

    function ownerOf(uint256 tokenId) public view returns (address owner) {
        owner = _tokenOwner(tokenId);
        if (owner == address(0)) revert NonexistentToken(tokenId);
    }

    function approve(address approved, uint256 tokenId) external {
        address owner = ownerOf(tokenId);
        if (msg.sender != owner && !_operators[owner][msg.sender]) revert NotOwnerNorApproved(msg.sender, tokenId);
        _approvals[tokenId] = approved;
        emit Approval(owner, approved, tokenId);
    }

    function getApproved(uint256 tokenId) external view returns (address) {
        ownerOf(tokenId);
        return _approvals[tokenId];
    }

    function setApprovalForAll(address operator, bool approved) external {
        _operators[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operators[owner][operator];
    }

    /// @notice Move the device to `to`: from now on its rewards are paid to `to` (the registry's device owner).
    /// The owner, an operator of the owner or the token's approved account may call.
    function transferFrom(address from, address to, uint256 tokenId) public {
        address owner = ownerOf(tokenId);
        if (owner != from) revert NotTokenOwner(from, owner);
        if (to == address(0)) revert TransferToZeroAddress();
        if (msg.sender != owner && !_operators[owner][msg.sender] && _approvals[tokenId] != msg.sender) {
            revert NotOwnerNorApproved(msg.sender, tokenId);
        }
        delete _approvals[tokenId];
        unchecked {
            _balances[from] -= 1;
            _balances[to] += 1;
        }
        _setTokenOwner(tokenId, to);
        emit Transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /// @dev A contract recipient must answer `onERC721Received` with its selector (UnsafeRecipient otherwise).
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        if (to.code.length == 0) return;
        try IERC721Receiver(to).onERC721Received(msg.sender, from, tokenId, data) returns (bytes4 answer) {
            if (answer != IERC721Receiver.onERC721Received.selector) revert UnsafeRecipient(to);
        } catch {
            revert UnsafeRecipient(to);
        }
    }

    /// @notice Count a new device of `owner`; the registry has already recorded it as the token's owner.
    function _mint(address owner, uint256 tokenId) internal {
        unchecked {
            _balances[owner] += 1;
        }
        emit Transfer(address(0), owner, tokenId);
    }
}
