// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title P256
/// @notice P-256 (secp256r1) ECDSA verification through the P256VERIFY precompile (EIP-7951, address 0x100),
/// for device keys held in secure elements (ATECC608 and the like).
/// @dev The precompile takes 160 bytes `hash || r || s || x || y` and returns 32 bytes `1` for a valid signature
/// and nothing otherwise; it costs 6,900 gas. A chain without it (anvil before `--hardfork osaka`) has no code at
/// 0x100, and a call there also succeeds with nothing returned, so "invalid" and "absent" look alike: `available`
/// tells them apart by verifying a known-good signature (docs/vectors/p256.json, `tracker_first`), and callers ask it
/// only after a verification failed. The precompile accepts both `s` and `n - s`: `isCanonical` is the low-s rule.
library P256 {
    /// @notice The P256VERIFY precompile (EIP-7951).
    address internal constant VERIFIER = address(0x100);
    /// @notice The field prime of P-256.
    uint256 internal constant P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF;
    /// @notice The group order of P-256.
    uint256 internal constant N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551;
    /// @notice Largest `s` of a canonical (low-s) signature: n / 2.
    uint256 internal constant HALF_N = N / 2;
    uint256 internal constant A = P - 3;
    uint256 internal constant B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B;

    // The vector `tracker_first` of docs/vectors/p256.json (made with npm elliptic): a valid signature.
    bytes32 private constant _PROBE_HASH = 0x9efae593796a1713c9f23d7a8813ff198feed39c68c39c11073131ab2e1bb8e9;
    uint256 private constant _PROBE_R = 0xff0f92195bca4eaf483559be6288a3c501cd67365a3fb5b236d5eb1b69ef4cef;
    uint256 private constant _PROBE_S = 0x3c0d3d4dad790d38a31bd2f408589962121f22444724f56295e13e2f881af7b2;
    uint256 private constant _PROBE_X = 0x7775e8932f9b6ee0038e0fd689f8eb9ef7e5a7d6c6369ea6d8c560150d6ec91a;
    uint256 private constant _PROBE_Y = 0x737e1b12e5e6ce275b64231b2f7ebd05adeb1d44a02ead8a6a4324086aaa2499;

    /// @notice True when (x, y) has canonical coordinates (below P) and lies on y^2 = x^3 - 3x + b.
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        uint256 rhs = addmod(addmod(mulmod(mulmod(x, x, P), x, P), mulmod(A, x, P), P), B, P);
        return mulmod(y, y, P) == rhs;
    }

    /// @notice True when 0 < r < n and 0 < s <= n / 2.
    function isCanonical(uint256 r, uint256 s) internal pure returns (bool) {
        return r != 0 && r < N && s != 0 && s <= HALF_N;
    }

    /// @notice What P256VERIFY answers for (hash, r, s, x, y): true only for a valid signature on a chain that has
    /// the precompile (false on a chain without it: see `available`). Any `s` below n verifies.
    function verify(bytes32 hash, uint256 r, uint256 s, uint256 x, uint256 y) internal view returns (bool) {
        (bool ok, bytes memory out) = VERIFIER.staticcall(abi.encode(hash, r, s, x, y));
        return ok && out.length == 32 && abi.decode(out, (uint256)) == 1;
    }

    /// @notice Whether this chain has P256VERIFY: it accepts a signature known to be valid.
    function available() internal view returns (bool) {
        return verify(_PROBE_HASH, _PROBE_R, _PROBE_S, _PROBE_X, _PROBE_Y);
    }
}
