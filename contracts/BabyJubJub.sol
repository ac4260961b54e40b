// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice circomlib's Poseidon hash of 5 field elements (the contract circomlibjs's
/// `poseidonContract.createCode(5)` generates; its ABI also has a `bytes32[5]` overload, unused here).
interface IPoseidon5 {
    function poseidon(uint256[5] memory input) external pure returns (uint256);
}

/// @title BabyJubJub
/// @notice The BabyJubJub curve (EIP-2494) and circomlib's EdDSA-Poseidon signature check, so a contract can
/// accept the keys that circuits verify signatures of.
/// @dev The twisted Edwards curve a*x^2 + y^2 = 1 + d*x^2*y^2 with a = 168700, d = 168696 over the BN254 scalar
/// field P. `a` is a square and `d` is not, so the addition law is complete: the same formulas add any two points,
/// doubling and the identity (0, 1) included, and a projective Z never becomes 0.
/// Points are computed in extended coordinates (X : Y : T : Z), x = X/Z, y = Y/Z, x*y = T/Z (Hisil, Wong, Carter,
/// Dawson 2008: "add-2008-hwcd" and "dbl-2008-hwcd"), so a scalar multiplication needs no field inverse until the
/// end, where one modular exponentiation (precompile 0x05) brings the result back to affine coordinates.
/// Every input coordinate must be a canonical field element (< P): `isOnCurve` refuses any other.
library BabyJubJub {
    /// @notice The BN254 scalar field, which BabyJubJub's coordinates live in.
    uint256 internal constant P = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    uint256 internal constant A = 168700;
    uint256 internal constant D = 168696;
    /// @notice Order of the prime subgroup that Base8 generates (the curve's order is 8 * L).
    uint256 internal constant L = 2736030358979909402780800718157159386076813972158567259200215660948447373041;
    /// @notice circomlib's Base8, the generator of the prime subgroup that EdDSA keys and R8 are multiples of.
    uint256 internal constant BASE8_X = 5299619240641551281634865583518297030282874472190772894086521144482721001553;
    uint256 internal constant BASE8_Y = 16950150798460657717958625567821834550301663161624707787222815936182638968203;

    /// @notice True when (x, y) is a point of the curve with canonical coordinates (both below P).
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        uint256 xx = mulmod(x, x, P);
        uint256 yy = mulmod(y, y, P);
        uint256 lhs = addmod(mulmod(A, xx, P), yy, P);
        uint256 rhs = addmod(1, mulmod(D, mulmod(xx, yy, P), P), P);
        return lhs == rhs;
    }

    /// @notice True when 8 * (x, y) is the identity: the point lies in the torsion subgroup of order 8 (the
    /// identity included). Such a key verifies signatures that no secret key made. (x, y) must be on the curve.
    function isSmallOrder(uint256 x, uint256 y) internal pure returns (bool) {
        (uint256 xx,,) = _times8(x, y);
        // 8 * point has order 1 or L: the identity is the only such point with x = 0 (the other, (0, -1), has
        // order 2).
        return xx == 0;
    }

    /// @notice Whether (x, y), on the curve, lies in the prime-order subgroup of Base8: L * P is the identity.
    function inSubgroup(uint256 x, uint256 y) internal view returns (bool) {
        (uint256 qx, uint256 qy) = mul(x, y, L);
        return qx == 0 && qy == 1;
    }

    /// @notice (x1, y1) + (x2, y2), both on the curve.
    function add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) internal view returns (uint256, uint256) {
        (uint256 xx, uint256 yy, uint256 zz) = _mulAdd(x1, y1, x2, y2, 1, 1, 1);
        return _toAffine(xx, yy, zz);
    }

    /// @notice k * (x, y), (x, y) on the curve, any 256-bit k.
    function mul(uint256 x, uint256 y, uint256 k) internal view returns (uint256, uint256) {
        (uint256 xx, uint256 yy, uint256 zz) = _mulAdd(x, y, 0, 1, 1, k, 0);
        return _toAffine(xx, yy, zz);
    }

    /// @notice The inverse of `v` modulo P (0 for 0), by Fermat: v^(P-2) with the modexp precompile.
    function inverse(uint256 v) internal view returns (uint256 r) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x20)
            mstore(add(m, 0x20), 0x20)
            mstore(add(m, 0x40), 0x20)
            mstore(add(m, 0x60), v)
            // P - 2, P (literals: a library constant costs more in inline assembly)
            mstore(add(m, 0x80), 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593efffffff)
            mstore(add(m, 0xa0), 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001)
            if iszero(staticcall(gas(), 0x05, m, 0xc0, m, 0x20)) { revert(0, 0) }
            r := mload(m)
        }
    }

    /// @notice circomlib's EdDSA-Poseidon check (circomlibjs `verifyPoseidon`): the signature (R8, S) of `message`
    /// by the key (ax, ay) is valid iff S < L, R8 and the key lie on the curve, and
    /// S * Base8 == R8 + (8 * hm) * key with hm = Poseidon(R8x, R8y, ax, ay, message).
    /// @dev Says nothing about a small-order key: callers that accept keys refuse those (`isSmallOrder`).
    function verifyPoseidon(
        IPoseidon5 poseidon,
        uint256 message,
        uint256 ax,
        uint256 ay,
        uint256 r8x,
        uint256 r8y,
        uint256 s
    ) internal view returns (bool) {
        if (s >= L || !isOnCurve(r8x, r8y) || !isOnCurve(ax, ay)) return false;
        uint256 hm = poseidon.poseidon([r8x, r8y, ax, ay, message]);
        // (8 * hm) * key = hm * (8 * key): 8 * hm may not fit 256 bits, hm < P does.
        (uint256 kx, uint256 ky, uint256 kz) = _times8(ax, ay);
        // S * Base8 + hm * (-8 * key) == R8, compared projectively: X == r8x * Z and Y == r8y * Z.
        (uint256 xx, uint256 yy, uint256 zz) = _mulAdd(BASE8_X, BASE8_Y, (P - kx) % P, ky, kz, s, hm);
        return xx == mulmod(r8x, zz, P) && yy == mulmod(r8y, zz, P);
    }

    function _toAffine(uint256 xx, uint256 yy, uint256 zz) private view returns (uint256, uint256) {
        uint256 zInv = inverse(zz);
        return (mulmod(xx, zInv, P), mulmod(yy, zInv, P));
    }

    /// @dev 8 * (x, y) in projective coordinates (X : Y : Z): three doublings (dbl-2008-hwcd without T).
    function _times8(uint256 x, uint256 y) private pure returns (uint256 xx, uint256 yy, uint256 zz) {
        assembly ("memory-safe") {
            let q := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
            xx := x
            yy := y
            zz := 1
            for { let i := 0 } lt(i, 3) { i := add(i, 1) } {
                let a_ := mulmod(xx, xx, q) // A = X^2
                let b_ := mulmod(yy, yy, q) // B = Y^2
                let c_ := mulmod(zz, zz, q)
                c_ := addmod(c_, c_, q) // C = 2 Z^2
                let d_ := mulmod(168700, a_, q) // D = a A
                xx := addmod(xx, yy, q)
                xx := addmod(mulmod(xx, xx, q), sub(q, addmod(a_, b_, q)), q) // E = (X + Y)^2 - A - B
                yy := addmod(d_, b_, q) // G = D + B
                zz := addmod(yy, sub(q, c_), q) // F = G - C
                d_ := addmod(d_, sub(q, b_), q) // H = D - B
                a_ := mulmod(xx, zz, q) // E F
                zz := mulmod(zz, yy, q) // F G
                yy := mulmod(yy, d_, q) // G H
                xx := a_
            }
        }
    }

    /// @dev k1 * (x1, y1) + k2 * (X2 : Y2 : Z2) in projective coordinates (X : Y : Z), the first point affine, the
    /// second projective, both on the curve, by Straus's method with 2-bit windows: one pass of doublings over
    /// both scalars together, and per 2 bits at most one addition of a * point 1 + b * point 2, a, b in 0..3, from
    /// a 15-point table in scratch memory. Leading zero bits cost nothing. About 254 doublings and 120 additions
    /// for two 254-bit scalars. The loop (`_straus`) writes its doublings and additions out rather than calling
    /// Yul functions (a call costs about a quarter of a doubling), and uses P as a literal: referring to the
    /// library constant from inline assembly doubled the cost of the loop.
    function _mulAdd(uint256 x1, uint256 y1, uint256 x2, uint256 y2, uint256 z2, uint256 k1, uint256 k2)
        private
        pure
        returns (uint256, uint256, uint256)
    {
        assembly ("memory-safe") {
            // dbl-2008-hwcd on the point at `from`, written to `to`; the input's T is not needed.
            function dblAt(from, to) {
                let q := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
                let x := mload(from)
                let y := mload(add(from, 0x20))
                let z := mload(add(from, 0x60))
                let a_ := mulmod(x, x, q) // A = X^2
                let b_ := mulmod(y, y, q) // B = Y^2
                let c_ := mulmod(z, z, q)
                c_ := addmod(c_, c_, q) // C = 2 Z^2
                let d_ := mulmod(168700, a_, q) // D = a A
                x := addmod(x, y, q)
                x := addmod(mulmod(x, x, q), sub(q, addmod(a_, b_, q)), q) // E = (X + Y)^2 - A - B
                y := addmod(d_, b_, q) // G = D + B
                z := addmod(y, sub(q, c_), q) // F = G - C
                d_ := addmod(d_, sub(q, b_), q) // H = D - B
                mstore(to, mulmod(x, z, q)) // E F
                mstore(add(to, 0x20), mulmod(y, d_, q)) // G H
                mstore(add(to, 0x40), mulmod(x, d_, q)) // E H
                mstore(add(to, 0x60), mulmod(z, y, q)) // F G
            }
            // add-2008-hwcd of the points at `p1` and `p2`, written to `to`.
            function addAt(p1, p2, to) {
                let q := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
                let x1_ := mload(p1)
                let y1_ := mload(add(p1, 0x20))
                let x2_ := mload(p2)
                let y2_ := mload(add(p2, 0x20))
                let a_ := mulmod(x1_, x2_, q) // A = X1 X2
                let b_ := mulmod(y1_, y2_, q) // B = Y1 Y2
                // E = (X1 + Y1)(X2 + Y2) - A - B
                let e_ := addmod(mulmod(addmod(x1_, y1_, q), addmod(x2_, y2_, q), q), sub(q, addmod(a_, b_, q)), q)
                let h_ := addmod(b_, sub(q, mulmod(168700, a_, q)), q) // H = B - a A
                // C = d T1 T2, D = Z1 Z2
                a_ := mulmod(mulmod(168696, mload(add(p1, 0x40)), q), mload(add(p2, 0x40)), q)
                b_ := mulmod(mload(add(p1, 0x60)), mload(add(p2, 0x60)), q)
                let f_ := addmod(b_, sub(q, a_), q) // F = D - C
                b_ := addmod(b_, a_, q) // G = D + C
                mstore(to, mulmod(e_, f_, q)) // E F
                mstore(add(to, 0x20), mulmod(b_, h_, q)) // G H
                mstore(add(to, 0x40), mulmod(e_, h_, q)) // E H
                mstore(add(to, 0x60), mulmod(f_, b_, q)) // F G
            }

            // Table in scratch memory past the free memory pointer (nothing is allocated while it is in use):
            // entry a + 4 b, 128 bytes at m + 128 (a + 4 b), is a * point 1 + b * point 2 as (X, Y, T, Z).
            let q := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
            let m := mload(0x40)
            mstore(add(m, 0x80), x1)
            mstore(add(m, 0xa0), y1)
            mstore(add(m, 0xc0), mulmod(x1, y1, q))
            mstore(add(m, 0xe0), 1)
            // (X2 : Y2 : Z2) in extended coordinates: (X2 Z2 : Y2 Z2 : X2 Y2 : Z2^2).
            mstore(add(m, 0x200), mulmod(x2, z2, q))
            mstore(add(m, 0x220), mulmod(y2, z2, q))
            mstore(add(m, 0x240), mulmod(x2, y2, q))
            mstore(add(m, 0x260), mulmod(z2, z2, q))
            dblAt(add(m, 0x80), add(m, 0x100))
            addAt(add(m, 0x100), add(m, 0x80), add(m, 0x180))
            dblAt(add(m, 0x200), add(m, 0x400))
            addAt(add(m, 0x400), add(m, 0x200), add(m, 0x600))
            for { let b := 0x200 } lt(b, 0x800) { b := add(b, 0x200) } {
                for { let a := 0x80 } lt(a, 0x200) { a := add(a, 0x80) } {
                    addAt(add(m, a), add(m, b), add(m, add(a, b)))
                }
            }
            // The loop adds table entries as the second point: keep d T there instead of T.
            for { let e := add(m, 0xc0) } lt(e, add(m, 0x800)) { e := add(e, 0x80) } {
                mstore(e, mulmod(168696, mload(e), q))
            }
        }
        return _straus(k1, k2);
    }

    /// @dev The loop of `_mulAdd` over the table it left in scratch memory at the free memory pointer.
    function _straus(uint256 k1, uint256 k2) private pure returns (uint256 xx, uint256 yy, uint256 zz) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            // Bit length of the larger scalar, rounded up to whole windows.
            let i := 0
            {
                let top := or(k1, k2)
                if shr(128, top) {
                    i := 128
                    top := shr(128, top)
                }
                if shr(64, top) {
                    i := add(i, 64)
                    top := shr(64, top)
                }
                if shr(32, top) {
                    i := add(i, 32)
                    top := shr(32, top)
                }
                if shr(16, top) {
                    i := add(i, 16)
                    top := shr(16, top)
                }
                if shr(8, top) {
                    i := add(i, 8)
                    top := shr(8, top)
                }
                if shr(4, top) {
                    i := add(i, 4)
                    top := shr(4, top)
                }
                if shr(2, top) { i := add(i, 2) }
                // Bits i and i + 1 hold the top of the scalars.
                if top { i := add(i, 2) }
            }

            let q := 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001
            // The accumulator (xx : yy : tt : zz) starts at the identity (0 : 1 : 0 : 1).
            yy := 1
            zz := 1
            let tt := 0
            for {} i {} {
                i := sub(i, 2)
                // Two doublings (dbl-2008-hwcd), the first without T, which the second does not read.
                {
                    let a_ := mulmod(xx, xx, q) // A = X^2
                    let b_ := mulmod(yy, yy, q) // B = Y^2
                    let c_ := mulmod(zz, zz, q)
                    c_ := addmod(c_, c_, q) // C = 2 Z^2
                    let d_ := mulmod(168700, a_, q) // D = a A
                    xx := addmod(xx, yy, q)
                    xx := addmod(mulmod(xx, xx, q), sub(q, addmod(a_, b_, q)), q) // E
                    yy := addmod(d_, b_, q) // G = D + B
                    zz := addmod(yy, sub(q, c_), q) // F = G - C
                    d_ := addmod(d_, sub(q, b_), q) // H = D - B
                    a_ := mulmod(xx, zz, q) // E F
                    zz := mulmod(zz, yy, q) // F G
                    yy := mulmod(yy, d_, q) // G H
                    xx := a_
                }
                {
                    let a_ := mulmod(xx, xx, q)
                    let b_ := mulmod(yy, yy, q)
                    let c_ := mulmod(zz, zz, q)
                    c_ := addmod(c_, c_, q)
                    let d_ := mulmod(168700, a_, q)
                    xx := addmod(xx, yy, q)
                    xx := addmod(mulmod(xx, xx, q), sub(q, addmod(a_, b_, q)), q)
                    yy := addmod(d_, b_, q)
                    zz := addmod(yy, sub(q, c_), q)
                    d_ := addmod(d_, sub(q, b_), q)
                    a_ := mulmod(xx, zz, q)
                    tt := mulmod(xx, d_, q) // E H
                    zz := mulmod(zz, yy, q)
                    yy := mulmod(yy, d_, q)
                    xx := a_
                }
                // Offset of table entry (bits of k1) + 4 (bits of k2); 0 when both are 0.
                let ptr := shl(7, or(and(shr(i, k1), 3), shl(2, and(shr(i, k2), 3))))
                if ptr {
                    // add-2008-hwcd with the table entry (X2, Y2, d T2, Z2).
                    ptr := add(m, ptr)
                    let x2_ := mload(ptr)
                    let y2_ := mload(add(ptr, 0x20))
                    let a_ := mulmod(xx, x2_, q) // A = X1 X2
                    let b_ := mulmod(yy, y2_, q) // B = Y1 Y2
                    // E = (X1 + Y1)(X2 + Y2) - A - B, in steps that keep the stack shallow
                    x2_ := addmod(x2_, y2_, q)
                    y2_ := addmod(xx, yy, q)
                    x2_ := addmod(mulmod(x2_, y2_, q), sub(q, addmod(a_, b_, q)), q)
                    y2_ := addmod(b_, sub(q, mulmod(168700, a_, q)), q) // H = B - a A
                    a_ := mulmod(tt, mload(add(ptr, 0x40)), q) // C = T1 d T2
                    b_ := mulmod(zz, mload(add(ptr, 0x60)), q) // D = Z1 Z2
                    zz := addmod(b_, sub(q, a_), q) // F = D - C
                    b_ := addmod(b_, a_, q) // G = D + C
                    xx := mulmod(x2_, zz, q) // E F
                    zz := mulmod(zz, b_, q) // F G
                    yy := mulmod(b_, y2_, q) // G H
                    tt := mulmod(x2_, y2_, q) // E H
                }
            }
        }
    }
}
