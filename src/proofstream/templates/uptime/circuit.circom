pragma circom 2.1.6;

// Uptime (proofstream template): the seconds of healthy service a base station proves with its heartbeats.
//
// Inputs follow the project format: the 11 public task-record inputs, the anchor's opening (prevNonce and
// prevFields), then valid/nonce/timestamp and one array per [schema] field with CAPACITY slots, zero padding
// after the last heartbeat:
//   quality  uint8   link quality, percent (healthy: MIN_QUALITY..100)
//   uptime   uint32  seconds since the station booted
// ProofstreamBatch (the shared library) checks the slots, order, field widths, the batch's Merkle root and the
// anchor (the first heartbeat comes after the device's last verified one).
//
// Each heartbeat i of the task credits
//   credit[i] = min(dt[i], MAX_GAP, uptime[i])   when MIN_QUALITY <= quality[i] <= 100, else 0
// with dt[i] the seconds since the heartbeat before it: a silence longer than MAX_GAP is not credited beyond it,
// and a station that rebooted in between (uptime[i] < dt[i]) only from its boot. For the task's first heartbeat
// the one before it is the previous task's last (the anchor): dt[0] is the seconds since it when the batch opens
// the anchor leaf (hasPrev), else 0, so a device's first task (or the first under a new config version) credits
// nothing for it. No heartbeat earns more than the wall-clock time since the one before it. `seconds` =
// sum(credit); logic.py computes the same.

include "proofstream/batch.circom";

template Uptime(DEPTH) {
    var CAPACITY = 1 << DEPTH;
    var MAX_GAP = 300;       // seconds one heartbeat can credit at most
    var MIN_QUALITY = 20;    // percent
    var MAX_QUALITY = 100;

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

    signal input prevNonce;            // the anchor's opening: the previous task's last heartbeat
    signal input prevFields[2];        // its quality, uptime (only its timestamp matters here)
    signal input valid[CAPACITY];
    signal input nonce[CAPACITY];
    signal input timestamp[CAPACITY];
    signal input quality[CAPACITY];    // [schema] quality = "uint8"
    signal input uptime[CAPACITY];     // [schema] uptime = "uint32"

    signal output seconds;

    // --- the framework's checks and the batch commitment; field widths in [schema] order.
    component batch = ProofstreamBatch(DEPTH, 2, [8, 32]);
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
    batch.fields[0] <== quality;
    batch.fields[1] <== uptime;

    // --- credit per heartbeat. batch.dt[i] is 0 for padding and for slot 0 without an opened anchor (so those
    // credit 0) and < 2^64 otherwise; uptime < 2^32 and quality < 2^8 were range-checked by the batch.
    component capGap[CAPACITY];
    component capUptime[CAPACITY];
    component healthy[CAPACITY];
    signal credit[CAPACITY];
    var total = 0;
    for (var i = 0; i < CAPACITY; i++) {
        capGap[i] = MinOf(64);
        capGap[i].a <== batch.dt[i];
        capGap[i].b <== MAX_GAP;
        capUptime[i] = MinOf(32);
        capUptime[i].a <== capGap[i].out;
        capUptime[i].b <== uptime[i];
        healthy[i] = InRange(8, MIN_QUALITY, MAX_QUALITY);
        healthy[i].in <== quality[i];
        credit[i] <== healthy[i].out * capUptime[i].out;
        total += credit[i];
    }
    seconds <== total;
}

component main {public [project, taskId, root, device, prover, firstNonce, lastNonce, prevTime, prevLeaf, lastTime,
    lastLeaf]} = Uptime(3);
