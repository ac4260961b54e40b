pragma circom 2.1.6;

// proofstream's shared circuit library (protocol version 2, docs/protocol.md), included by every project
// circuit as `include "proofstream/batch.circom";`.
//
// ProofstreamBatch does the framework's part of a project circuit, so a project's own template only computes
// its outputs:
//   - slot flags: valid[0] == 1 (a task holds at least one message) and the used slots are a prefix;
//   - padding: every input of an unused slot is 0;
//   - header ranges: the first nonce and timestamp are uint64 and every later one follows at a uint64 gap (so
//     none wraps around the field, and every nonce lies in the task record's uint64 [firstNonce, lastNonce]);
//     each payload field fits its declared width;
//   - order: nonces and timestamps strictly increase over the used slots (no reordered or repeated message);
//   - firstNonce / lastNonce are the nonces of the first and the last used slot;
//   - commitment: leaves Poseidon(LEAF_TAG, project, device, nonce, timestamp, fields...) (0 for padding),
//     nodes Poseidon(NODE_TAG, left, right) in heap order, and the root equals the public `root`. This is
//     proofstream.domain.merkle exactly (golden vectors in tests/vectors/merkle.json);
//   - taskId and prover are bound into the proof (squared: they enter no other constraint);
//   - the anchor (protocol v2): prevTime and prevLeaf are what the chain holds for this device (the last
//     timestamp and leaf of its last verified task; 0 when it has none, and prevLeaf 0 when that task was under
//     another config version). The first message comes strictly after prevTime. When prevLeaf != 0 the private
//     prevNonce and prevFields open it (Poseidon leaf equal to prevLeaf), so a project's rule can read the
//     previous message across the task boundary; when prevLeaf == 0 they are 0 and `hasPrev` is 0, so the
//     boundary earns nothing. lastTime and lastLeaf are public and pinned to the last used slot: the chain
//     stores them as the device's next anchor once the proof verifies.
// project and device are public inputs the Router sets from chain state; they enter the leaves, so they need
// no range check of their own.
//
// The helpers below it (RangeCheck, AbsDiff, MinOf, InRange) are the comparisons project circuits need most;
// each documents the ranges its inputs must already be in (comparisons are only sound on range-checked values).
// Every value computed with `<--` is pinned by a constraint right below it.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// `in` is an integer in [0, 2^n): Num2Bits constrains n boolean bits that sum to `in`.
template RangeCheck(n) {
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in;
}

// The framework's constraints over one task (see the header). DEPTH: Merkle depth (capacity 2^DEPTH);
// NFIELDS: payload fields (1..11, circomlib's Poseidon takes at most 16 inputs); FIELD_BITS: each field's
// declared width in bits, in schema order (uint32 -> 32, address -> 160).
//
// Outputs for the project's logic: `count`, the number of used slots; `hasPrev`, 1 when the previous message
// (the anchor) is opened in `prevFields`; `dt[i]`, the seconds since the previous message for a used slot i
// (>= 1, < 2^64), 0 for padding, and for slot 0 the seconds since the anchor message when hasPrev, else 0.
template ProofstreamBatch(DEPTH, NFIELDS, FIELD_BITS) {
    var CAPACITY = 1 << DEPTH;
    var LEAF_TAG = 0x70732e6c656166;  // "ps.leaf"
    var NODE_TAG = 0x70732e6e6f6465;  // "ps.node"
    assert(NFIELDS >= 1 && NFIELDS <= 11);

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
    signal input prevNonce;
    signal input prevFields[NFIELDS];
    signal input valid[CAPACITY];
    signal input nonce[CAPACITY];
    signal input timestamp[CAPACITY];
    signal input fields[NFIELDS][CAPACITY];

    signal output count;
    signal output hasPrev;
    signal output dt[CAPACITY];

    // taskId and prover enter no other constraint: bind them so the proof commits to them.
    signal taskIdSquare <== taskId * taskId;
    signal proverSquare <== prover * prover;

    // --- valid flags: boolean, slot 0 used, a prefix of used slots.
    valid[0] === 1;
    var used = 1;
    for (var i = 1; i < CAPACITY; i++) {
        valid[i] * (valid[i] - 1) === 0;
        valid[i] * (1 - valid[i - 1]) === 0;
        used += valid[i];
    }
    count <== used;

    // --- padding slots carry zeros, so nothing a project computes from them can depend on free values.
    for (var i = 1; i < CAPACITY; i++) {
        (1 - valid[i]) * nonce[i] === 0;
        (1 - valid[i]) * timestamp[i] === 0;
        for (var f = 0; f < NFIELDS; f++) {
            (1 - valid[i]) * fields[f][i] === 0;
        }
    }

    // --- ranges: the first nonce and timestamp are uint64, payload fields fit their declared widths (every
    // slot). Later nonces and timestamps need no check of their own: each is the previous one plus a uint64 gap
    // plus one (below), so all stay under 2^67 and nothing wraps around the field; every used nonce lies between
    // firstNonce and lastNonce, which the Router takes from the task's uint64 record. This saves 128
    // constraints a slot, which keeps a capacity-8 circuit under 2^13 and halves its proving time.
    component nonceRange = RangeCheck(64);
    nonceRange.in <== nonce[0];
    component timeRange = RangeCheck(64);
    timeRange.in <== timestamp[0];
    component fieldRange[NFIELDS][CAPACITY];
    for (var i = 0; i < CAPACITY; i++) {
        for (var f = 0; f < NFIELDS; f++) {
            fieldRange[f][i] = RangeCheck(FIELD_BITS[f]);
            fieldRange[f][i].in <== fields[f][i];
        }
    }

    // --- strictly increasing nonces and timestamps among used slots. Both sides are uint64, so the gap minus
    // one is in [0, 2^64) exactly when the later value is bigger: rejects reordered and duplicated messages.
    signal nonceGap[CAPACITY];
    signal timeGap[CAPACITY];
    component nonceGapRange[CAPACITY];
    component timeGapRange[CAPACITY];
    // --- the anchor: the first message comes strictly after the chain's prevTime (a uint64 from the chain;
    // timestamp[0] is uint64 above, so the gap check is exact). hasPrev = (prevLeaf != 0), IsZero-style: inv is
    // a hint pinned by the two constraints below it.
    component anchorGap = RangeCheck(64);
    anchorGap.in <== timestamp[0] - prevTime - 1;
    signal prevInv;
    prevInv <-- prevLeaf != 0 ? 1 / prevLeaf : 0;
    hasPrev <== prevLeaf * prevInv;
    prevLeaf * (1 - hasPrev) === 0;
    // Without an anchor leaf the opening is all zeros, so nothing a project computes from it is free.
    (1 - hasPrev) * prevNonce === 0;
    component prevRange[NFIELDS];
    for (var f = 0; f < NFIELDS; f++) {
        (1 - hasPrev) * prevFields[f] === 0;
        prevRange[f] = RangeCheck(FIELD_BITS[f]);
        prevRange[f].in <== prevFields[f];
    }
    component prevHash = Poseidon(5 + NFIELDS);
    prevHash.inputs[0] <== LEAF_TAG;
    prevHash.inputs[1] <== project;
    prevHash.inputs[2] <== device;
    prevHash.inputs[3] <== prevNonce;
    prevHash.inputs[4] <== prevTime;
    for (var f = 0; f < NFIELDS; f++) {
        prevHash.inputs[5 + f] <== prevFields[f];
    }
    hasPrev * (prevHash.out - prevLeaf) === 0;
    dt[0] <== hasPrev * (timestamp[0] - prevTime);
    for (var i = 1; i < CAPACITY; i++) {
        nonceGap[i] <== valid[i] * (nonce[i] - nonce[i - 1] - 1);
        nonceGapRange[i] = RangeCheck(64);
        nonceGapRange[i].in <== nonceGap[i];
        timeGap[i] <== valid[i] * (timestamp[i] - timestamp[i - 1] - 1);
        timeGapRange[i] = RangeCheck(64);
        timeGapRange[i].in <== timeGap[i];
        dt[i] <== timeGap[i] + valid[i];
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
        leafHash[i] = Poseidon(5 + NFIELDS);
        leafHash[i].inputs[0] <== LEAF_TAG;
        leafHash[i].inputs[1] <== project;
        leafHash[i].inputs[2] <== device;
        leafHash[i].inputs[3] <== nonce[i];
        leafHash[i].inputs[4] <== timestamp[i];
        for (var f = 0; f < NFIELDS; f++) {
            leafHash[i].inputs[5 + f] <== fields[f][i];
        }
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

    // --- the next anchor: timestamp and leaf of the last used slot (valid drops from 1 to 0 after it).
    signal lastTimeTerm[CAPACITY];
    signal lastLeafTerm[CAPACITY];
    var lastTimeSum = 0;
    var lastLeafSum = 0;
    for (var i = 0; i < CAPACITY; i++) {
        var nextValid = i + 1 < CAPACITY ? valid[i + 1] : 0;
        lastTimeTerm[i] <== (valid[i] - nextValid) * timestamp[i];
        lastLeafTerm[i] <== (valid[i] - nextValid) * node[CAPACITY - 1 + i];
        lastTimeSum += lastTimeTerm[i];
        lastLeafSum += lastLeafTerm[i];
    }
    lastTime === lastTimeSum;
    lastLeaf === lastLeafSum;
}

// out = |a - b|, for a and b already known to be in [0, 2^n). The sign is a hint; a wrong one makes `out`
// the field's negative of the distance, which the n-bit range check rejects.
template AbsDiff(n) {
    signal input a;
    signal input b;
    signal output out;
    signal negative;
    negative <-- a < b ? 1 : 0;
    negative * (negative - 1) === 0;
    out <== (a - b) * (1 - 2 * negative);
    component outRange = RangeCheck(n);
    outRange.in <== out;
}

// out = min(a, b), for a and b already known to be in [0, 2^n) (n <= 252).
template MinOf(n) {
    signal input a;
    signal input b;
    signal output out;
    component less = LessThan(n);
    less.in[0] <== a;
    less.in[1] <== b;
    out <== b + less.out * (a - b);
}

// out = 1 when LO <= in <= HI, else 0; `in` already known to be in [0, 2^n), 0 <= LO <= HI < 2^n - 1.
template InRange(n, LO, HI) {
    signal input in;
    signal output out;
    component low = GreaterEqThan(n);
    low.in[0] <== in;
    low.in[1] <== LO;
    component high = LessEqThan(n);
    high.in[0] <== in;
    high.in[1] <== HI;
    out <== low.out * high.out;
}
