pragma circom 2.1.6;

// Device signatures inside the proof (protocol v2, docs/protocol.md "In-circuit signatures"), included by the
// circuit of a project built with `--signatures circuit`.
//
// A BabyJubJub device signs each message with EdDSA-Poseidon (circomlib's EdDSAPoseidonVerifier, circomlibjs'
// signPoseidon) over
//     m = Poseidon(SIG_TAG, chainId, registry, config, leaf)
// where leaf is the message's batch leaf Poseidon(LEAF_TAG, project, device, nonce, timestamp, fields...), so a
// signature binds the chain, the deployment (the DeviceRegistry), the config version, the project, the device and
// the message; it cannot be moved to another message, project, version, deployment or chain.
// chainId, registry, config and the key (keyAx, keyAy) are public inputs the Router takes from chain state: the
// chain id, the DeviceRegistry's address, the task's config version and the key the registry holds for the task's
// device. So a message the gateway made up, or signed by any key but the registered one, has no witness.
//
// Every used slot's check is enabled (enabled <== valid[i]); unused slots carry the identity point R8 = (0, 1)
// and S = 0, pinned below, so nothing in them is free. R8 is checked to lie on the curve in every slot (the
// identity does). The key is checked on the curve here too; the registry refused small-order keys when it
// registered the device, and EdDSAPoseidonVerifier refuses one whose 8*A is the identity.

include "circomlib/circuits/eddsaposeidon.circom";
include "circomlib/circuits/babyjub.circom";
include "circomlib/circuits/poseidon.circom";

template ProofstreamSignatures(DEPTH, NFIELDS) {
    var CAPACITY = 1 << DEPTH;
    var LEAF_TAG = 0x70732e6c656166;  // "ps.leaf"
    var SIG_TAG = 0x70732e736967;     // "ps.sig"

    signal input chainId;
    signal input registry;
    signal input config;
    signal input keyAx;
    signal input keyAy;
    signal input project;
    signal input device;
    signal input valid[CAPACITY];
    signal input nonce[CAPACITY];
    signal input timestamp[CAPACITY];
    signal input fields[NFIELDS][CAPACITY];
    signal input sigR8x[CAPACITY];
    signal input sigR8y[CAPACITY];
    signal input sigS[CAPACITY];

    component keyOnCurve = BabyCheck();
    keyOnCurve.x <== keyAx;
    keyOnCurve.y <== keyAy;

    component leafHash[CAPACITY];
    component sigHash[CAPACITY];
    component r8OnCurve[CAPACITY];
    component verifier[CAPACITY];
    for (var i = 0; i < CAPACITY; i++) {
        // Padding: the identity point and S = 0 (valid[i] is boolean, checked by ProofstreamBatch).
        (1 - valid[i]) * sigR8x[i] === 0;
        (1 - valid[i]) * (sigR8y[i] - 1) === 0;
        (1 - valid[i]) * sigS[i] === 0;

        r8OnCurve[i] = BabyCheck();
        r8OnCurve[i].x <== sigR8x[i];
        r8OnCurve[i].y <== sigR8y[i];

        leafHash[i] = Poseidon(5 + NFIELDS);
        leafHash[i].inputs[0] <== LEAF_TAG;
        leafHash[i].inputs[1] <== project;
        leafHash[i].inputs[2] <== device;
        leafHash[i].inputs[3] <== nonce[i];
        leafHash[i].inputs[4] <== timestamp[i];
        for (var f = 0; f < NFIELDS; f++) {
            leafHash[i].inputs[5 + f] <== fields[f][i];
        }

        sigHash[i] = Poseidon(5);
        sigHash[i].inputs[0] <== SIG_TAG;
        sigHash[i].inputs[1] <== chainId;
        sigHash[i].inputs[2] <== registry;
        sigHash[i].inputs[3] <== config;
        sigHash[i].inputs[4] <== leafHash[i].out;

        verifier[i] = EdDSAPoseidonVerifier();
        verifier[i].enabled <== valid[i];
        verifier[i].Ax <== keyAx;
        verifier[i].Ay <== keyAy;
        verifier[i].S <== sigS[i];
        verifier[i].R8x <== sigR8x[i];
        verifier[i].R8y <== sigR8y[i];
        verifier[i].M <== sigHash[i].out;
    }
}
