pragma circom 2.1.6;

// Weather quality (proofstream template): how many of a station's readings in one task are good.
//
// Inputs follow the project format: the 11 public task-record inputs, the anchor's opening (prevNonce and
// prevFields, the previous reading's fields), then valid/nonce/timestamp and one array per [schema] field with
// CAPACITY slots, zero padding after the last reading:
//   temperature  uint16  deci-degrees Celsius + 1000 (21.5 °C -> 1215)
//   humidity     uint8   relative humidity, percent
//   pressure     uint16  deci-hectopascal (1013.2 hPa -> 10132)
// ProofstreamBatch (the shared library) checks the slots, order, field widths, the batch's Merkle root and the
// anchor.
//
// Every reading is compared with the reading before it: the task's previous one, or for the first reading the
// previous task's last (the anchor's reading, opened when hasPrev). A reading is good when
//   - it has a reading before it at least MIN_INTERVAL seconds earlier: dt[i] >= MIN_INTERVAL (dt[0] is 0
//     without an opened anchor, so a device's first reading never counts, and a station cannot be paid more
//     often than once per MIN_INTERVAL of wall-clock time);
//   - every field lies in its range (LOW..HIGH, inclusive);
//   - every field changed plausibly since the reading before it:
//       60 * |x[i] - x[before]| <= 60 * STEP + RATE * dt[i]      (STEP: noise, RATE: change per minute)
// `good` counts them; logic.py computes the same number. A bad reading does not make the proof fail: it just
// does not count.

include "proofstream/batch.circom";

template WeatherQuality(DEPTH) {
    var CAPACITY = 1 << DEPTH;
    var NFIELDS = 3;
    // Per field, in [schema] order: temperature, humidity, pressure.
    var WIDTH[3] = [16, 8, 16];        // the [schema] types' bits
    var LOW[3] = [600, 0, 8700];       // -40.0 °C, 0 %, 870.0 hPa
    var HIGH[3] = [1600, 100, 10850];  // +60.0 °C, 100 %, 1085.0 hPa
    var STEP[3] = [5, 5, 5];           // 0.5 °C, 5 %, 0.5 hPa of noise
    var RATE[3] = [10, 10, 2];         // 1.0 °C, 10 %, 0.2 hPa per minute
    var MIN_INTERVAL = 30;             // seconds since the reading before, for a reading to count
    var CHANGE_BITS = 70;              // 60 * STEP + RATE * dt < 2^70 for RATE < 64 and dt < 2^64

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

    signal input prevNonce;            // the anchor's opening: the previous task's last reading
    signal input prevFields[NFIELDS];  // its temperature, humidity, pressure (zeros without one)
    signal input valid[CAPACITY];
    signal input nonce[CAPACITY];
    signal input timestamp[CAPACITY];
    signal input temperature[CAPACITY];
    signal input humidity[CAPACITY];
    signal input pressure[CAPACITY];

    signal output good;

    // The fields as one array, so the checks below loop over them.
    signal reading[NFIELDS][CAPACITY];
    reading[0] <== temperature;
    reading[1] <== humidity;
    reading[2] <== pressure;

    // --- the framework's checks and the batch commitment (field widths in [schema] order).
    component batch = ProofstreamBatch(DEPTH, NFIELDS, WIDTH);
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
    for (var f = 0; f < NFIELDS; f++) {
        batch.fields[f] <== reading[f];
    }

    // --- in range: every field of slot i within LOW..HIGH (the batch checked each fits its width).
    component inRange[NFIELDS][CAPACITY];
    signal rangeAll[NFIELDS][CAPACITY];
    for (var i = 0; i < CAPACITY; i++) {
        for (var f = 0; f < NFIELDS; f++) {
            inRange[f][i] = InRange(WIDTH[f], LOW[f], HIGH[f]);
            inRange[f][i].in <== reading[f][i];
            rangeAll[f][i] <== (f == 0 ? 1 : rangeAll[f - 1][i]) * inRange[f][i].out;
        }
    }

    // --- the reading before each slot: slot i - 1, for slot 0 the anchor's (range-checked to the field widths
    // by the batch; zeros when not opened).
    signal before[NFIELDS][CAPACITY];
    for (var f = 0; f < NFIELDS; f++) {
        before[f][0] <== prevFields[f];
        for (var i = 1; i < CAPACITY; i++) {
            before[f][i] <== reading[f][i - 1];
        }
    }

    // --- at least MIN_INTERVAL seconds after the reading before, and a plausible change since it. dt[i] is 0 in
    // padding slots and in slot 0 without an opened anchor (so the interval fails there) and < 2^64 otherwise,
    // so every comparison stays in range.
    component interval[CAPACITY];
    component change[NFIELDS][CAPACITY];
    component withinRate[NFIELDS][CAPACITY];
    signal plausibleAll[NFIELDS][CAPACITY];
    signal timelyAndRanged[CAPACITY];
    signal rangedAndPlausible[CAPACITY];
    signal isGood[CAPACITY];
    var total = 0;
    for (var i = 0; i < CAPACITY; i++) {
        interval[i] = GreaterEqThan(64);
        interval[i].in[0] <== batch.dt[i];
        interval[i].in[1] <== MIN_INTERVAL;
        for (var f = 0; f < NFIELDS; f++) {
            change[f][i] = AbsDiff(WIDTH[f]);
            change[f][i].a <== reading[f][i];
            change[f][i].b <== before[f][i];
            withinRate[f][i] = LessEqThan(CHANGE_BITS);
            withinRate[f][i].in[0] <== 60 * change[f][i].out;
            withinRate[f][i].in[1] <== 60 * STEP[f] + RATE[f] * batch.dt[i];
            plausibleAll[f][i] <== (f == 0 ? 1 : plausibleAll[f - 1][i]) * withinRate[f][i].out;
        }
        rangedAndPlausible[i] <== rangeAll[NFIELDS - 1][i] * plausibleAll[NFIELDS - 1][i];
        // valid[i] for padding; slot 0 also needs the anchor opened (dt[0] = 0 already fails MIN_INTERVAL >= 1,
        // this keeps it so for any MIN_INTERVAL).
        timelyAndRanged[i] <== (i == 0 ? batch.hasPrev : valid[i]) * interval[i].out;
        isGood[i] <== timelyAndRanged[i] * rangedAndPlausible[i];
        total += isGood[i];
    }
    good <== total;
}

component main {public [project, taskId, root, device, prover, firstNonce, lastNonce, prevTime, prevLeaf, lastTime,
    lastLeaf]} = WeatherQuality(3);
