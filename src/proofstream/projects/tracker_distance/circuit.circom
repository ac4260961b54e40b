pragma circom 2.1.6;

// proofstream tracker-distance circuit (protocol version 1, docs/protocol.md).
//
// Proves: the task's fixes (one device, nonce order) hash to the committed Poseidon Merkle root, their nonces and
// timestamps strictly increase, and `metres` is the integer length of the track computed exactly as
// proofstream.projects.tracker_distance.logic.distance_metres does (equirectangular distance with Bhaskara's cosine
// of the first fix's latitude). Unused slots are padding: valid = 0 and all their inputs 0.
//
// Every value computed with `<--` is pinned by a constraint right below it; every input that stands for a bounded
// number is range-checked, so no arithmetic can wrap around the field.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

// `in` is an integer in [0, 2^n): Num2Bits constrains n boolean bits that sum to `in`.
template RangeCheck(n) {
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in;
}

// Integer square root hint: the largest s < 2^bits with s*s <= x (bitwise, so it never divides in the field).
function isqrtHint(x, bits) {
    var s = 0;
    for (var k = bits - 1; k >= 0; k--) {
        var c = s + (1 << k);
        if (c * c <= x) {
            s = c;
        }
    }
    return s;
}

template TrackerDistance(DEPTH) {
    var CAPACITY = 1 << DEPTH;
    var LEAF_TAG = 0x70732e6c656166;  // "ps.leaf"
    var NODE_TAG = 0x70732e6e6f6465;  // "ps.node"
    var LAT_MAX = 180000000;          // offset microdegrees, 28 bits
    var LON_MAX = 360000000;          // offset microdegrees, 29 bits
    var LAT_ZERO = 90000000;          // offset of the equator
    var COS_SCALE = 65536;            // cos(lat0) as a 16-bit fixed-point fraction
    var BHASKARA = 32400 * 1000000000000;  // 180^2 in microdegrees^2
    var DEN_BITS = 56;                // BHASKARA + D^2 <= 4.05e16 < 2^56
    var COS_BITS = 17;                // cosq <= COS_SCALE = 2^16
    var SQRT_BITS = 45;               // segment length in scaled microdegrees: < 2.64e13 < 2^45
    var REM_BITS = 46;                // isqrt remainders are <= 2s < 2^46
    var METRES_NUM = 111195;          // metres per microdegree * 1e6 (sphere of radius 6371008.8 m)
    var METRES_DEN = 65536000000;     // COS_SCALE * 1e6 < 2^36
    var METRES_DEN_BITS = 36;
    var METRES_BITS = SQRT_BITS + DEPTH + 17 - 35;  // sum(seg) < 2^(45+DEPTH), * 111195 < 2^17, / 2^35.9

    // Public inputs, in the order of the snarkjs public signals after the output.
    signal input project;
    signal input taskId;
    signal input root;
    signal input device;
    signal input prover;
    signal input firstNonce;
    signal input lastNonce;

    signal input valid[CAPACITY];
    signal input nonce[CAPACITY];
    signal input timestamp[CAPACITY];
    signal input lat[CAPACITY];
    signal input lon[CAPACITY];

    signal output metres;

    // taskId and prover enter no other constraint: bind them so the proof commits to them.
    signal taskIdSquare <== taskId * taskId;
    signal proverSquare <== prover * prover;

    // --- valid flags: boolean, slot 0 used, a prefix of used slots.
    valid[0] === 1;
    for (var i = 1; i < CAPACITY; i++) {
        valid[i] * (valid[i] - 1) === 0;
        valid[i] * (1 - valid[i - 1]) === 0;
    }

    // --- coordinates in range in every slot (padding slots carry 0).
    component latLow[CAPACITY];
    component latHigh[CAPACITY];
    component lonLow[CAPACITY];
    component lonHigh[CAPACITY];
    for (var i = 0; i < CAPACITY; i++) {
        latLow[i] = RangeCheck(28);
        latLow[i].in <== lat[i];
        latHigh[i] = RangeCheck(28);
        latHigh[i].in <== LAT_MAX - lat[i];
        lonLow[i] = RangeCheck(29);
        lonLow[i].in <== lon[i];
        lonHigh[i] = RangeCheck(29);
        lonHigh[i].in <== LON_MAX - lon[i];
    }

    // --- strictly increasing nonces (uint64, gaps allowed) and timestamps (gap < 2^32) among used slots:
    // rejects reordered and duplicated fixes.
    signal nonceGap[CAPACITY];
    signal timeGap[CAPACITY];
    component nonceGapRange[CAPACITY];
    component timeGapRange[CAPACITY];
    for (var i = 1; i < CAPACITY; i++) {
        nonceGap[i] <== valid[i] * (nonce[i] - nonce[i - 1] - 1);
        nonceGapRange[i] = RangeCheck(64);
        nonceGapRange[i].in <== nonceGap[i];
        timeGap[i] <== valid[i] * (timestamp[i] - timestamp[i - 1] - 1);
        timeGapRange[i] = RangeCheck(32);
        timeGapRange[i].in <== timeGap[i];
    }

    // --- first and last nonce of the task (the last used slot is where valid drops from 1 to 0).
    firstNonce === nonce[0];
    signal lastTerm[CAPACITY];
    var lastSum = 0;
    for (var i = 0; i < CAPACITY; i++) {
        var nextValid = i + 1 < CAPACITY ? valid[i + 1] : 0;
        lastTerm[i] <== (valid[i] - nextValid) * nonce[i];
        lastSum += lastTerm[i];
    }
    lastNonce === lastSum;

    // --- batch commitment: Poseidon leaves (0 for padding), Poseidon(NODE_TAG, l, r) nodes, heap order.
    component leafHash[CAPACITY];
    component nodeHash[CAPACITY - 1];
    signal node[2 * CAPACITY - 1];
    for (var i = 0; i < CAPACITY; i++) {
        leafHash[i] = Poseidon(7);
        leafHash[i].inputs[0] <== LEAF_TAG;
        leafHash[i].inputs[1] <== project;
        leafHash[i].inputs[2] <== device;
        leafHash[i].inputs[3] <== nonce[i];
        leafHash[i].inputs[4] <== timestamp[i];
        leafHash[i].inputs[5] <== lat[i];
        leafHash[i].inputs[6] <== lon[i];
        node[CAPACITY - 1 + i] <== valid[i] * leafHash[i].out;
    }
    for (var k = CAPACITY - 2; k >= 0; k--) {
        nodeHash[k] = Poseidon(3);
        nodeHash[k].inputs[0] <== NODE_TAG;
        nodeHash[k].inputs[1] <== node[2 * k + 1];
        nodeHash[k].inputs[2] <== node[2 * k + 2];
        node[k] <== nodeHash[k].out;
    }
    root === node[0];

    // --- cosq = floor(COS_SCALE * (BHASKARA - 4 D^2) / (BHASKARA + D^2)), D = lat[0] - LAT_ZERO (signed; its
    // square in the field is the integer square). The numerator is >= 0 because |D| <= 90e6.
    signal d2 <== (lat[0] - LAT_ZERO) * (lat[0] - LAT_ZERO);
    signal cosq;
    signal cosRem;
    cosq <-- (COS_SCALE * (BHASKARA - 4 * d2)) \ (BHASKARA + d2);
    cosRem <-- (COS_SCALE * (BHASKARA - 4 * d2)) % (BHASKARA + d2);
    cosq * (BHASKARA + d2) + cosRem === COS_SCALE * (BHASKARA - 4 * d2);
    component cosqRange = RangeCheck(COS_BITS);
    cosqRange.in <== cosq;
    component cosRemRange = RangeCheck(DEN_BITS);
    cosRemRange.in <== cosRem;
    component cosRemBelow = RangeCheck(DEN_BITS);
    cosRemBelow.in <== BHASKARA + d2 - 1 - cosRem;
    signal cos2 <== cosq * cosq;

    // --- segments: s = isqrt(dlat^2 * COS_SCALE^2 + dlon^2 * cosq^2), counted only where valid.
    signal dlat2[CAPACITY];
    signal dlon2[CAPACITY];
    signal lonTerm[CAPACITY];
    signal s[CAPACITY];
    signal sSquare[CAPACITY];
    signal seg[CAPACITY];
    component sRange[CAPACITY];
    component sLow[CAPACITY];
    component sHigh[CAPACITY];
    var total = 0;
    for (var i = 1; i < CAPACITY; i++) {
        dlat2[i] <== (lat[i] - lat[i - 1]) * (lat[i] - lat[i - 1]);
        dlon2[i] <== (lon[i] - lon[i - 1]) * (lon[i] - lon[i - 1]);
        lonTerm[i] <== dlon2[i] * cos2;
        var sq = dlat2[i] * COS_SCALE * COS_SCALE + lonTerm[i];
        s[i] <-- isqrtHint(sq, SQRT_BITS);
        sRange[i] = RangeCheck(SQRT_BITS);
        sRange[i].in <== s[i];
        sSquare[i] <== s[i] * s[i];
        // s*s <= sq < (s+1)*(s+1); both gaps are small non-negative integers, so nothing wraps.
        sLow[i] = RangeCheck(REM_BITS);
        sLow[i].in <== sq - sSquare[i];
        sHigh[i] = RangeCheck(REM_BITS);
        sHigh[i].in <== sSquare[i] + 2 * s[i] - sq;
        seg[i] <== valid[i] * s[i];
        total += seg[i];
    }

    // --- metres = floor(total * METRES_NUM / METRES_DEN).
    signal metresRem;
    metres <-- (total * METRES_NUM) \ METRES_DEN;
    metresRem <-- (total * METRES_NUM) % METRES_DEN;
    metres * METRES_DEN + metresRem === total * METRES_NUM;
    component metresRange = RangeCheck(METRES_BITS);
    metresRange.in <== metres;
    component metresRemRange = RangeCheck(METRES_DEN_BITS);
    metresRemRange.in <== metresRem;
    component metresRemBelow = RangeCheck(METRES_DEN_BITS);
    metresRemBelow.in <== METRES_DEN - 1 - metresRem;
}

component main {public [project, taskId, root, device, prover, firstNonce, lastNonce]} = TrackerDistance(3);
