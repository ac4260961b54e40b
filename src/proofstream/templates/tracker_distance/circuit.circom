pragma circom 2.1.6;

// Tracker distance (proofstream template): the metres a GPS tracker travelled during one task.
//
// Inputs follow the project format: the 11 public task-record inputs, the anchor's opening (prevNonce and
// prevFields = the previous fix's lat, lon), then valid/nonce/timestamp and one array per [schema] field
// (lat, lon) with CAPACITY slots, zero padding after the last fix. ProofstreamBatch (the shared library) checks
// the slots, order, ranges, the batch's Merkle root and the anchor; this file computes `metres` exactly as
// logic.py does:
//   cosq   = floor(2^16 * (180^2 - 4 D^2) / (180^2 + D^2)), D = lat[0] - 90e6 (Bhaskara's cosine of the first
//            fix's latitude, as a 16-bit fraction; D in microdegrees)
//   hop i  = from the fix before slot i (slot i - 1, or for slot 0 the previous task's last fix when the batch
//            opens it, hasPrev) to fix i: dlat = lat[i] - lat[before], dlon = |lon[i] - lon[before]| wrapped
//            at the antimeridian (dlon > 180e6 -> 360e6 - dlon), s[i] = isqrt(dlat^2 * 2^32 + dlon^2 * cosq^2)
//   seg[i] = min(s[i], SPEED_CAP * dt[i]): at most MAX_SPEED = 100 m/s over the hop's seconds dt[i], in the same
//            scaled units (SPEED_CAP = floor(100 * METRES_DEN / METRES_NUM)). dt is 0 for padding and for slot
//            0 without an opened previous fix, so those hops count 0.
//   metres = floor(sum(seg) * 111195 / (2^16 * 10^6))
// lat and lon are offset microdegrees: lat = round(deg * 1e6) + 90_000_000 in 0..180_000_000, lon =
// round(deg * 1e6) + 180_000_000 in 0..360_000_000 (0 and 360_000_000 are the same meridian); a fix outside
// these ranges, the previous one included, makes the proof fail.
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
    var LON_MAX = 360000000;          // offset microdegrees, 29 bits; also one full turn of longitude
    var HALF_TURN = 180000000;        // a longitude difference beyond this is shorter the other way round
    var LAT_ZERO = 90000000;          // offset of the equator
    var COS_SCALE = 65536;            // cos(lat0) as a 16-bit fixed-point fraction
    var BHASKARA = 32400 * 1000000000000;  // 180^2 in microdegrees^2
    var DEN_BITS = 56;                // BHASKARA + D^2 <= 4.05e16 < 2^56
    var COS_BITS = 17;                // cosq <= COS_SCALE = 2^16
    var SQRT_BITS = 44;               // hop in scaled microdegrees: <= sqrt(2) * 180e6 * 2^16 < 1.67e13 < 2^44
    var REM_BITS = 45;                // isqrt remainders are <= 2s < 2^45
    var METRES_NUM = 111195;          // metres per microdegree * 1e6 (sphere of radius 6371008.8 m)
    var METRES_DEN = 65536000000;     // COS_SCALE * 1e6 < 2^36
    var METRES_DEN_BITS = 36;
    var METRES_BITS = SQRT_BITS + DEPTH + 17 - 35;  // sum(seg) < 2^(44+DEPTH), * 111195 < 2^17, / 2^35.9
    var SPEED_CAP = 58937901;         // floor(MAX_SPEED * METRES_DEN / METRES_NUM), MAX_SPEED = 100 m/s; < 2^26
    var CAP_BITS = 90;                // SPEED_CAP * dt < 2^26 * 2^64 (dt <= 2^64 - 1, ProofstreamBatch)

    // Public inputs, in the order of the snarkjs public signals after the output.
    signal input project;
    signal input taskId;
    signal input root;
    signal input device;
    signal input prover;
    signal input firstNonce;
    signal input lastNonce;
    signal input prevTime;
    signal input prevLeaf;
    signal input lastTime;
    signal input lastLeaf;

    signal input prevNonce;            // the anchor's opening: the previous task's last fix (zeros without one)
    signal input prevFields[2];        // its lat, lon
    signal input valid[CAPACITY];
    signal input nonce[CAPACITY];
    signal input timestamp[CAPACITY];
    signal input lat[CAPACITY];        // [schema] lat = "uint32"
    signal input lon[CAPACITY];        // [schema] lon = "uint32"

    signal output metres;

    // --- the framework's checks, the anchor and the batch commitment; field widths in [schema] order.
    component batch = ProofstreamBatch(DEPTH, 2, [32, 32]);
    batch.project <== project;
    batch.taskId <== taskId;
    batch.root <== root;
    batch.device <== device;
    batch.prover <== prover;
    batch.firstNonce <== firstNonce;
    batch.lastNonce <== lastNonce;
    batch.prevTime <== prevTime;
    batch.prevLeaf <== prevLeaf;
    batch.lastTime <== lastTime;
    batch.lastLeaf <== lastLeaf;
    batch.prevNonce <== prevNonce;
    batch.prevFields <== prevFields;
    batch.valid <== valid;
    batch.nonce <== nonce;
    batch.timestamp <== timestamp;
    batch.fields[0] <== lat;
    batch.fields[1] <== lon;

    // The fix before each slot: slot i - 1, and for slot 0 the anchor's fix (all zeros when it is not opened,
    // when dt[0] = 0 makes its hop count nothing).
    signal latBefore[CAPACITY];
    signal lonBefore[CAPACITY];
    latBefore[0] <== prevFields[0];
    lonBefore[0] <== prevFields[1];
    for (var i = 1; i < CAPACITY; i++) {
        latBefore[i] <== lat[i - 1];
        lonBefore[i] <== lon[i - 1];
    }

    // --- coordinates at most their maximum in every slot (padding carries 0) and in the previous fix; the batch
    // already checked that they are non-negative 32-bit numbers, so LAT_MAX - lat in [0, 2^28) means
    // 0 <= lat <= LAT_MAX.
    component latHigh[CAPACITY];
    component lonHigh[CAPACITY];
    for (var i = 0; i < CAPACITY; i++) {
        latHigh[i] = RangeCheck(28);
        latHigh[i].in <== LAT_MAX - lat[i];
        lonHigh[i] = RangeCheck(29);
        lonHigh[i].in <== LON_MAX - lon[i];
    }
    component prevLatHigh = RangeCheck(28);
    prevLatHigh.in <== LAT_MAX - prevFields[0];
    component prevLonHigh = RangeCheck(29);
    prevLonHigh.in <== LON_MAX - prevFields[1];

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

    // --- hops: s = isqrt(dlat^2 * COS_SCALE^2 + dlon^2 * cosq^2) with dlon the shorter way round, then capped
    // by the hop's seconds. Both longitudes are in [0, LON_MAX] (< 2^29), so |difference| <= LON_MAX and
    // LON_MAX - |difference| is in [0, 2^29) too: AbsDiff and MinOf see inputs in their ranges.
    signal dlat2[CAPACITY];
    component lonDiff[CAPACITY];
    component lonShort[CAPACITY];
    signal dlon2[CAPACITY];
    signal lonTerm[CAPACITY];
    signal s[CAPACITY];
    signal sSquare[CAPACITY];
    component sRange[CAPACITY];
    component sLow[CAPACITY];
    component sHigh[CAPACITY];
    component speedCap[CAPACITY];
    var total = 0;
    for (var i = 0; i < CAPACITY; i++) {
        dlat2[i] <== (lat[i] - latBefore[i]) * (lat[i] - latBefore[i]);
        lonDiff[i] = AbsDiff(29);
        lonDiff[i].a <== lon[i];
        lonDiff[i].b <== lonBefore[i];
        lonShort[i] = MinOf(29);
        lonShort[i].a <== lonDiff[i].out;
        lonShort[i].b <== LON_MAX - lonDiff[i].out;
        dlon2[i] <== lonShort[i].out * lonShort[i].out;
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
        // at most MAX_SPEED for dt[i] seconds; dt[i] = 0 (padding, or slot 0 without a previous fix) counts 0.
        speedCap[i] = MinOf(CAP_BITS);
        speedCap[i].a <== s[i];
        speedCap[i].b <== SPEED_CAP * batch.dt[i];
        total += speedCap[i].out;
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

component main {public [project, taskId, root, device, prover, firstNonce, lastNonce, prevTime, prevLeaf, lastTime,
    lastLeaf]} = TrackerDistance(3);
