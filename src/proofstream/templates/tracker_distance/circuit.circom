pragma circom 2.1.6;

// Tracker distance (proofstream template): the metres a GPS tracker travelled during one task.
//
// Inputs follow the project format: the 7 public task-record inputs, then valid/nonce/timestamp and one array
// per [schema] field (lat, lon) with CAPACITY slots, zero padding after the last fix. ProofstreamBatch (the
// shared library) checks the slots, order, ranges and the batch's Merkle root; this file computes `metres`
// exactly as logic.py does:
//   cosq   = floor(2^16 * (180^2 - 4 D^2) / (180^2 + D^2)), D = lat[0] - 90e6 (Bhaskara's cosine of the first
//            fix's latitude, as a 16-bit fraction; D in microdegrees)
//   seg[i] = isqrt(dlat^2 * 2^32 + dlon^2 * cosq^2) for each pair of consecutive fixes
//   metres = floor(sum(seg) * 111195 / (2^16 * 10^6))
// lat and lon are offset microdegrees: lat = round(deg * 1e6) + 90_000_000 in 0..180_000_000, lon =
// round(deg * 1e6) + 180_000_000 in 0..360_000_000; a fix outside these ranges makes the proof fail.
//
// Every value computed with `<--` is pinned by a constraint right below it; every input that stands for a
// bounded number is range-checked, so no arithmetic can wrap around the field.

include "proofstream/batch.circom";

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
    signal input lat[CAPACITY];        // [schema] lat = "uint32"
    signal input lon[CAPACITY];        // [schema] lon = "uint32"

    signal output metres;

    // --- the framework's checks and the batch commitment; field widths in [schema] order.
    component batch = ProofstreamBatch(DEPTH, 2, [32, 32]);
    batch.project <== project;
    batch.taskId <== taskId;
    batch.root <== root;
    batch.device <== device;
    batch.prover <== prover;
    batch.firstNonce <== firstNonce;
    batch.lastNonce <== lastNonce;
    batch.valid <== valid;
    batch.nonce <== nonce;
    batch.timestamp <== timestamp;
    batch.fields[0] <== lat;
    batch.fields[1] <== lon;

    // --- coordinates at most their maximum in every slot (padding carries 0); the batch already checked that
    // they are non-negative 32-bit numbers, so LAT_MAX - lat in [0, 2^28) means 0 <= lat <= LAT_MAX.
    component latHigh[CAPACITY];
    component lonHigh[CAPACITY];
    for (var i = 0; i < CAPACITY; i++) {
        latHigh[i] = RangeCheck(28);
        latHigh[i].in <== LAT_MAX - lat[i];
        lonHigh[i] = RangeCheck(29);
        lonHigh[i].in <== LON_MAX - lon[i];
    }

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
