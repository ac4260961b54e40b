// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {BabyJubJub, IPoseidon5} from "./BabyJubJub.sol";
import {P256} from "./P256.sol";
import {DeviceNFT} from "./DeviceNFT.sol";
import {ProjectRegistry} from "./ProjectRegistry.sol";

/// @title DeviceRegistry
/// @notice Which devices belong to which project, and who owns each of them (the account its rewards go to).
/// @dev Two key types, each of which signs its own binding to (project, owner) when the project owner registers it:
/// - secp256k1 (`registerDevice`): the device is the address of its key. The key signs
///   `DeviceBinding(uint64 project,address device,address owner)` as EIP-712 typed data under the domain
///   {name "proofstream", version "1", chainId, verifyingContract = this}: the same domain devices sign their
///   messages under (docs/protocol.md), so a signature is valid on one chain and one deployment only.
/// - BabyJubJub (`registerBjjDevice`), whose messages circuits verify: the key (ax, ay) signs with EdDSA-Poseidon
///   (circomlib) the field element Poseidon(BIND_TAG, chainId, this, project, owner) (`bjjBindingMessage`); the
///   device id is `bjjDeviceId(ax, ay)` = the last 20 bytes of keccak256("ps.bjj" || ax || ay), and the key is
///   kept for the Router to read (`bjjKeyOf`).
/// - P-256 (`registerP256Device`), the curve of secure elements: the key (x, y) signs the same EIP-712
///   DeviceBinding digest as a secp256k1 key, verified through the P256VERIFY precompile (EIP-7951, 0x100; reverts
///   `P256Unavailable` on a chain without it); the device id is `p256DeviceId(x, y)` = the last 20 bytes of
///   keccak256("ps.p256" || x || y), and the key is kept (`p256KeyOf`) for gateways to verify messages with.
/// A secp256k1 device may also be registered by anyone (a gateway, paying the gas) with a voucher: an EIP-712
/// `DeviceVoucher(uint64 project,address device,address owner,uint64 nonce,uint64 expiry)` signed by the project's
/// owner or by a manufacturer key the owner registered (`setManufacturer`), together with the device key's own
/// `DevicePermit(...)` of the same members (`registerDeviceWithVoucher`), or alone when the voucher names the
/// owner (`registerDeviceByVoucher`, for firmware that cannot sign a binding). Both carry a nonce (used once, per
/// signer) and an expiry (unix seconds, refused after it).
/// Every registration mints the device's ERC-721 token (`DeviceNFT`, id `tokenIdOf(project, device)`) to its
/// owner; transferring the token changes `deviceOwner`, so the device's rewards not yet claimed, and all later
/// ones, go to the new owner (RewardDApp.claim mints to the owner at claim time).
/// A binding is written once. The project owner may deactivate a device for good (`deactivateDevice`): it stays
/// registered with its owner but is no longer active (`isActive`), and cannot be registered again.
contract DeviceRegistry is DeviceNFT {
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

    /// @notice Domain tag of the BabyJubJub binding message: "ps.bind" as a big-endian integer.
    uint256 public constant BIND_TAG = 0x70732e62696e64;

    /// @dev circomlib's Poseidon(1, 2, 3, 4, 5): the constructor checks the Poseidon contract against it.
    uint256 private constant _POSEIDON5_OF_1_TO_5 =
        6183221330272524995739186171720101788151706631170188140075976616310159254464;

    ProjectRegistry public immutable projects;
    /// @notice The Poseidon(5) contract that BabyJubJub binding signatures are hashed with.
    IPoseidon5 public immutable poseidon;

    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;

    /// @dev owner, bjj and deactivated share one storage slot.
    struct Device {
        address owner;
        bool bjj;
        bool deactivated;
    }

    struct BjjKey {
        uint256 ax;
        uint256 ay;
    }

    mapping(uint64 project => mapping(address device => Device)) private _devices;
    /// @dev By device id, which the key determines: written once, shared by every project the key is in.
    mapping(address device => BjjKey) private _bjjKeys;

    /// @dev A P-256 key (x, y); y is never 0 for a key on the curve, so y == 0 means none.
    struct P256Key {
        uint256 x;
        uint256 y;
    }

    /// @dev By device id, which the key determines: written once, shared by every project the key is in.
    mapping(address device => P256Key) private _p256Keys;

    /// @notice Emitted for every registered device, whatever its key type.
    event DeviceRegistered(uint64 indexed project, address indexed device, address indexed owner);
    /// @notice Emitted with DeviceRegistered when the device has a BabyJubJub key.
    event BjjKeyRegistered(uint64 indexed project, address indexed device, uint256 ax, uint256 ay);
    event DeviceDeactivated(uint64 indexed project, address indexed device);
    /// @notice Emitted with DeviceRegistered when the device has a P-256 key.
    event P256KeyRegistered(uint64 indexed project, address indexed device, uint256 x, uint256 y);
    /// @notice Emitted with the token's Transfer when a device changes owner: its rewards now go to `owner`.
    event DeviceTransferred(uint64 indexed project, address indexed device, address indexed owner);

    error NotProjectOwner(uint64 project, address caller);
    error ZeroAddress();
    error NotAContract(address account);
    error WrongPoseidon(address poseidon);
    error DeviceAlreadyRegistered(uint64 project, address device);
    error InvalidSignature();
    error WrongSigner(address recovered, address device);
    error BjjKeyNotOnCurve(uint256 ax, uint256 ay);
    error BjjKeySmallOrder(uint256 ax, uint256 ay);
    error BjjKeyNotInSubgroup(uint256 ax, uint256 ay);
    error BjjInvalidSignature();
    error UnknownDevice(uint64 project, address device);
    error DeviceAlreadyDeactivated(uint64 project, address device);
    error P256KeyNotOnCurve(uint256 x, uint256 y);
    error P256InvalidSignature();
    /// @notice The chain has no P256VERIFY precompile (EIP-7951): P-256 devices cannot be registered on it.
    error P256Unavailable();

    modifier onlyProjectOwner(uint64 project) {
        if (msg.sender != projects.ownerOf(project)) revert NotProjectOwner(project, msg.sender);
        _;
    }

    /// @param poseidon_ a contract deployed from circomlibjs's `poseidonContract.createCode(5)`; checked against
    /// a known hash, so a Poseidon of another width or another hash is refused.
    constructor(ProjectRegistry projectRegistry, IPoseidon5 poseidon_) {
        if (address(poseidon_).code.length == 0) revert NotAContract(address(poseidon_));
        if (poseidon_.poseidon([uint256(1), 2, 3, 4, 5]) != _POSEIDON5_OF_1_TO_5) {
            revert WrongPoseidon(address(poseidon_));
        }
        projects = projectRegistry;
        poseidon = poseidon_;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @notice Bind `device` to `project` with `owner` as the receiver of its rewards.
    /// @dev Only the project's owner may call; `signature` (65 bytes r || s || v, v in {27, 28}) is the device
    /// key's EIP-712 signature of DeviceBinding(project, device, owner).
    function registerDevice(uint64 project, address device, address owner, bytes calldata signature)
        external
        onlyProjectOwner(project)
    {
        if (device == address(0) || owner == address(0)) revert ZeroAddress();
        if (_devices[project][device].owner != address(0)) revert DeviceAlreadyRegistered(project, device);
        bytes32 digest = bindingDigest(project, device, owner);
        address signer = _recover(digest, signature);
        if (signer != device) revert WrongSigner(signer, device);
        _devices[project][device] = Device({owner: owner, bjj: false, deactivated: false});
        emit DeviceRegistered(project, device, owner);
        _mint(owner, tokenIdOf(project, device));
    }

    /// @notice Bind the BabyJubJub key (ax, ay) to `project` with `owner` as the receiver of its rewards; the
    /// device id is `bjjDeviceId(ax, ay)`.
    /// @dev Only the project's owner may call. (r8x, r8y, s) is the key's EdDSA-Poseidon signature of
    /// `bjjBindingMessage(project, owner)`. Refuses a key off the curve or with non-canonical coordinates
    /// (BjjKeyNotOnCurve), a key of small order, the identity included (BjjKeySmallOrder), a key outside the
    /// prime-order subgroup (BjjKeyNotInSubgroup) and a bad signature (BjjInvalidSignature). Gas, measured on anvil
    /// (tests/contracts/test_bjj_registry.py): 618k for a key new to the registry, 594k for a key already registered
    /// in another project (to an owner new to the registry). Of that, the two Poseidon(5) calls (binding message,
    /// then hm) take 100k each, the curve arithmetic of the signature check ~160k, the subgroup check (L * A)
    /// ~150k, storage ~66k, the device NFT's mint 7k (24k for an owner's first device).
    function registerBjjDevice(
        uint64 project,
        uint256 ax,
        uint256 ay,
        address owner,
        uint256 r8x,
        uint256 r8y,
        uint256 s
    ) external onlyProjectOwner(project) {
        if (owner == address(0)) revert ZeroAddress();
        if (!BabyJubJub.isOnCurve(ax, ay)) revert BjjKeyNotOnCurve(ax, ay);
        if (BabyJubJub.isSmallOrder(ax, ay)) revert BjjKeySmallOrder(ax, ay);
        // Also refuse a key with a small-order part (k * Base8 + T): one secret would otherwise stand for up to 8
        // device ids, and the gateway (which checks l * A == 0) would refuse every message of it.
        if (!BabyJubJub.inSubgroup(ax, ay)) revert BjjKeyNotInSubgroup(ax, ay);
        address device = bjjDeviceId(ax, ay);
        if (_devices[project][device].owner != address(0)) revert DeviceAlreadyRegistered(project, device);
        if (!BabyJubJub.verifyPoseidon(poseidon, bjjBindingMessage(project, owner), ax, ay, r8x, r8y, s)) {
            revert BjjInvalidSignature();
        }
        _devices[project][device] = Device({owner: owner, bjj: true, deactivated: false});
        // Every accepted key has ax != 0: the only points with x = 0 are the identity and (0, -1), of small order.
        if (_bjjKeys[device].ax == 0) _bjjKeys[device] = BjjKey({ax: ax, ay: ay});
        emit DeviceRegistered(project, device, owner);
        emit BjjKeyRegistered(project, device, ax, ay);
        _mint(owner, tokenIdOf(project, device));
    }

    // --- P-256 devices -------------------------------------------------------------------------------------

    /// @notice Bind the P-256 key (x, y) to `project` with `owner` as the receiver of its rewards; the device id is
    /// `p256DeviceId(x, y)`.
    /// @dev Only the project's owner may call. (r, s) is the key's ECDSA signature of
    /// `bindingDigest(project, p256DeviceId(x, y), owner)`, low s. Refuses a key off the curve or with coordinates
    /// >= p (P256KeyNotOnCurve), a non-canonical or wrong signature (P256InvalidSignature), and everything on a
    /// chain without the P256VERIFY precompile (P256Unavailable).
    function registerP256Device(uint64 project, uint256 x, uint256 y, address owner, uint256 r, uint256 s)
        external
        onlyProjectOwner(project)
    {
        if (owner == address(0)) revert ZeroAddress();
        if (!P256.isOnCurve(x, y)) revert P256KeyNotOnCurve(x, y);
        address device = p256DeviceId(x, y);
        if (_devices[project][device].owner != address(0)) revert DeviceAlreadyRegistered(project, device);
        if (!P256.isCanonical(r, s)) revert P256InvalidSignature();
        if (!P256.verify(bindingDigest(project, device, owner), r, s, x, y)) {
            if (!P256.available()) revert P256Unavailable();
            revert P256InvalidSignature();
        }
        _devices[project][device] = Device({owner: owner, bjj: false, deactivated: false});
        if (_p256Keys[device].y == 0) _p256Keys[device] = P256Key({x: x, y: y});
        emit DeviceRegistered(project, device, owner);
        emit P256KeyRegistered(project, device, x, y);
        _mint(owner, tokenIdOf(project, device));
    }

    /// @notice The P-256 key of `device` in `project`; (0, 0) when the device is not registered there or has
    /// another key type.
    function p256KeyOf(uint64 project, address device) external view returns (uint256 x, uint256 y) {
        if (_devices[project][device].owner == address(0)) return (0, 0);
        P256Key storage key = _p256Keys[device];
        return (key.x, key.y);
    }

    /// @notice The device id of the P-256 key (x, y): address(uint160(uint256(keccak256(
    /// abi.encodePacked("ps.p256", x, y))))).
    function p256DeviceId(uint256 x, uint256 y) public pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked("ps.p256", x, y)))));
    }

    /// @notice Whether this chain has the P256VERIFY precompile that `registerP256Device` needs.
    function p256Available() external view returns (bool) {
        return P256.available();
    }

    // --- every key type ------------------------------------------------------------------------------------

    /// @notice Take `device` out of service in `project`, for good: it keeps its owner (`deviceOwner`) and stays
    /// registered, but `isActive` turns false. Either key type; only the project's owner may call.
    function deactivateDevice(uint64 project, address device) external onlyProjectOwner(project) {
        Device storage entry = _devices[project][device];
        if (entry.owner == address(0)) revert UnknownDevice(project, device);
        if (entry.deactivated) revert DeviceAlreadyDeactivated(project, device);
        entry.deactivated = true;
        emit DeviceDeactivated(project, device);
    }

    // --- Vouchers: registration authorised by the project owner or a manufacturer it registered -------------

    /// @notice A voucher's terms and signature. `owner` is the owner the issuer binds the device to, or the zero
    /// address to leave the owner to the device's own permit.
    struct Voucher {
        address issuer;
        address owner;
        uint64 nonce;
        uint64 expiry;
        bytes signature;
    }

    /// @notice The device key's consent to a voucher registration: DevicePermit(project, device, owner, nonce, expiry).
    struct Permit {
        uint64 nonce;
        uint64 expiry;
        bytes signature;
    }

    /// @notice keccak256 of the EIP-712 type an issuer (project owner or manufacturer) signs for one device.
    bytes32 public constant DEVICE_VOUCHER_TYPEHASH =
        keccak256("DeviceVoucher(uint64 project,address device,address owner,uint64 nonce,uint64 expiry)");
    /// @notice keccak256 of the EIP-712 type a device key signs to accept a voucher registration to `owner`.
    bytes32 public constant DEVICE_PERMIT_TYPEHASH =
        keccak256("DevicePermit(uint64 project,address device,address owner,uint64 nonce,uint64 expiry)");

    mapping(uint64 project => mapping(address manufacturer => bool)) private _manufacturers;
    mapping(address issuer => mapping(uint64 nonce => bool)) private _voucherNonceUsed;
    mapping(address device => mapping(uint64 nonce => bool)) private _permitNonceUsed;

    event ManufacturerSet(uint64 indexed project, address indexed manufacturer, bool allowed);
    event VoucherUsed(address indexed issuer, uint64 nonce, uint64 indexed project, address indexed device);
    event VoucherCancelled(address indexed issuer, uint64 nonce);

    error VoucherExpired(uint64 expiry);
    error VoucherNonceUsed(address issuer, uint64 nonce);
    error WrongVoucherSigner(address recovered, address issuer);
    error NotAVoucherIssuer(uint64 project, address issuer);
    error VoucherOwnerMismatch(address voucherOwner, address owner);
    error VoucherNamesNoOwner();
    error PermitExpired(uint64 expiry);
    error PermitNonceUsed(address device, uint64 nonce);

    /// @notice Allow (or stop) `manufacturer` to sign vouchers for `project`; only the project's owner may call.
    /// Vouchers it signed and that were not used yet stop working when it is removed.
    function setManufacturer(uint64 project, address manufacturer, bool allowed) external onlyProjectOwner(project) {
        if (manufacturer == address(0)) revert ZeroAddress();
        _manufacturers[project][manufacturer] = allowed;
        emit ManufacturerSet(project, manufacturer, allowed);
    }

    /// @notice True for the project's owner and for the manufacturers it registered.
    function isVoucherIssuer(uint64 project, address issuer) public view returns (bool) {
        return _manufacturers[project][issuer] || issuer == projects.ownerOf(project);
    }

    /// @notice True for a registered manufacturer of `project` (the owner is an issuer without being one).
    function isManufacturer(uint64 project, address manufacturer) external view returns (bool) {
        return _manufacturers[project][manufacturer];
    }

    /// @notice Whether `issuer`'s voucher nonce `nonce` is used or cancelled (a nonce serves one voucher only).
    function voucherNonceUsed(address issuer, uint64 nonce) external view returns (bool) {
        return _voucherNonceUsed[issuer][nonce];
    }

    /// @notice Whether `device`'s permit nonce `nonce` is used.
    function permitNonceUsed(address device, uint64 nonce) external view returns (bool) {
        return _permitNonceUsed[device][nonce];
    }

    /// @notice Withdraw the caller's voucher with nonce `nonce` before anyone uses it.
    function cancelVoucher(uint64 nonce) external {
        if (_voucherNonceUsed[msg.sender][nonce]) revert VoucherNonceUsed(msg.sender, nonce);
        _voucherNonceUsed[msg.sender][nonce] = true;
        emit VoucherCancelled(msg.sender, nonce);
    }

    /// @notice Register the secp256k1 `device` in `project` to `owner` with the issuer's voucher and the device
    /// key's permit. Anyone may send it (a gateway pays the gas): the two signatures are the authority.
    /// @dev Refuses, in order: ZeroAddress, DeviceAlreadyRegistered, then for the voucher VoucherExpired,
    /// VoucherNonceUsed, InvalidSignature / WrongVoucherSigner, NotAVoucherIssuer, VoucherOwnerMismatch (it names
    /// another owner), then for the permit PermitExpired, PermitNonceUsed, InvalidSignature / WrongSigner.
    function registerDeviceWithVoucher(
        uint64 project,
        address device,
        address owner,
        Voucher calldata voucher,
        Permit calldata permit
    ) external {
        _useVoucher(project, device, owner, voucher);
        if (block.timestamp > permit.expiry) revert PermitExpired(permit.expiry);
        if (_permitNonceUsed[device][permit.nonce]) revert PermitNonceUsed(device, permit.nonce);
        _permitNonceUsed[device][permit.nonce] = true;
        address signer = _recover(permitDigest(project, device, owner, permit.nonce, permit.expiry), permit.signature);
        if (signer != device) revert WrongSigner(signer, device);
        _registerVouched(project, device, owner);
    }

    /// @notice Register `device` in `project` with a voucher alone, for firmware that cannot sign a new binding
    /// (W3bStream devices): the voucher must name `owner` (VoucherNamesNoOwner otherwise). Anyone may send it.
    /// @dev Refuses as `registerDeviceWithVoucher` does for the voucher.
    function registerDeviceByVoucher(uint64 project, address device, address owner, Voucher calldata voucher)
        external
    {
        if (voucher.owner == address(0)) revert VoucherNamesNoOwner();
        _useVoucher(project, device, owner, voucher);
        _registerVouched(project, device, owner);
    }

    /// @notice The digest an issuer signs (EIP-712, this registry's domain); `owner` zero leaves it to the device.
    function voucherDigest(uint64 project, address device, address owner, uint64 nonce, uint64 expiry)
        public
        view
        returns (bytes32)
    {
        return _termsDigest(DEVICE_VOUCHER_TYPEHASH, project, device, owner, nonce, expiry);
    }

    /// @notice The digest a device key signs to accept a voucher registration to `owner`.
    function permitDigest(uint64 project, address device, address owner, uint64 nonce, uint64 expiry)
        public
        view
        returns (bytes32)
    {
        return _termsDigest(DEVICE_PERMIT_TYPEHASH, project, device, owner, nonce, expiry);
    }

    /// @dev EIP-712 digest of a voucher or a permit: the two structs have the same members.
    function _termsDigest(
        bytes32 typeHash,
        uint64 project,
        address device,
        address owner,
        uint64 nonce,
        uint64 expiry
    ) private view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(typeHash, project, device, owner, nonce, expiry));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function _useVoucher(uint64 project, address device, address owner, Voucher calldata voucher) private {
        if (device == address(0) || owner == address(0)) revert ZeroAddress();
        if (_devices[project][device].owner != address(0)) revert DeviceAlreadyRegistered(project, device);
        if (block.timestamp > voucher.expiry) revert VoucherExpired(voucher.expiry);
        if (_voucherNonceUsed[voucher.issuer][voucher.nonce]) revert VoucherNonceUsed(voucher.issuer, voucher.nonce);
        bytes32 digest = voucherDigest(project, device, voucher.owner, voucher.nonce, voucher.expiry);
        address signer = _recover(digest, voucher.signature);
        if (signer != voucher.issuer) revert WrongVoucherSigner(signer, voucher.issuer);
        if (!isVoucherIssuer(project, signer)) revert NotAVoucherIssuer(project, signer);
        if (voucher.owner != address(0) && voucher.owner != owner) revert VoucherOwnerMismatch(voucher.owner, owner);
        _voucherNonceUsed[signer][voucher.nonce] = true;
        emit VoucherUsed(signer, voucher.nonce, project, device);
    }

    function _registerVouched(uint64 project, address device, address owner) private {
        _devices[project][device] = Device({owner: owner, bjj: false, deactivated: false});
        emit DeviceRegistered(project, device, owner);
        _mint(owner, tokenIdOf(project, device));
    }

    // --- DeviceNFT: a token's owner is its device's owner ------------------------------------------------------

    function _tokenOwner(uint256 tokenId) internal view override returns (address) {
        if (tokenId >> 224 != 0) return address(0); // not a tokenIdOf: one device has one token id
        (uint64 project, address device) = deviceOfToken(tokenId);
        return _devices[project][device].owner;
    }

    function _setTokenOwner(uint256 tokenId, address to) internal override {
        (uint64 project, address device) = deviceOfToken(tokenId);
        _devices[project][device].owner = to;
        emit DeviceTransferred(project, device, to);
    }

    /// @notice The owner bound to `device` in `project`, or the zero address if it is not registered.
    function deviceOwner(uint64 project, address device) external view returns (address) {
        return _devices[project][device].owner;
    }

    /// @notice True once `device` is registered in `project`, deactivated or not.
    function isRegistered(uint64 project, address device) external view returns (bool) {
        return _devices[project][device].owner != address(0);
    }

    /// @notice True when `device` is registered in `project` and not deactivated.
    function isActive(uint64 project, address device) external view returns (bool) {
        Device storage entry = _devices[project][device];
        return entry.owner != address(0) && !entry.deactivated;
    }

    /// @notice What the Router reads per task in one call: whether `device` is active in `project`, and its
    /// BabyJubJub key ((0, 0) for another key type).
    function routeKeyOf(uint64 project, address device) external view returns (bool active, uint256 ax, uint256 ay) {
        Device storage entry = _devices[project][device];
        active = entry.owner != address(0) && !entry.deactivated;
        if (entry.bjj) {
            BjjKey storage key = _bjjKeys[device];
            (ax, ay) = (key.ax, key.ay);
        }
    }

    /// @notice The BabyJubJub key of `device` in `project`; (0, 0) when the device is not registered there or has
    /// a secp256k1 key.
    function bjjKeyOf(uint64 project, address device) external view returns (uint256 ax, uint256 ay) {
        if (!_devices[project][device].bjj) return (0, 0);
        BjjKey storage key = _bjjKeys[device];
        return (key.ax, key.ay);
    }

    /// @notice The device id of the BabyJubJub key (ax, ay): address(uint160(uint256(keccak256(
    /// abi.encodePacked("ps.bjj", ax, ay))))).
    function bjjDeviceId(uint256 ax, uint256 ay) public pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked("ps.bjj", ax, ay)))));
    }

    /// @notice The field element a BabyJubJub key signs to bind itself to `project` and `owner` on this chain and
    /// this registry: Poseidon(BIND_TAG, chainId, this, project, owner), addresses as integers.
    function bjjBindingMessage(uint64 project, address owner) public view returns (uint256) {
        return poseidon.poseidon(
            [BIND_TAG, block.chainid, uint256(uint160(address(this))), uint256(project), uint256(uint160(owner))]
        );
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
