// SPDX-License-Identifier: Apache-2.0
// Test helper: BabyJubJub and EdDSA-Poseidon values computed by circomlibjs, an implementation independent of
// proofstream's, for the contract tests to check the Solidity library against. Reads one JSON request on stdin:
//   {"sign": [[private key hex, message], ...], "mul": [[x, y, k], ...], "add": [[x1, y1, x2, y2], ...]}
// and prints one JSON line: {"sign": [{ax, ay, r8x, r8y, s}], "mul": [[x, y]], "add": [[x, y]],
// "generator": [x, y], "subOrder": l}. Numbers are decimal strings. Usage: node bjj_tool.cjs <node_modules>
"use strict";
const fs = require("fs");
const path = require("path");

const circomlibjs = require(path.join(process.argv[2], "circomlibjs"));

async function main() {
    const request = JSON.parse(fs.readFileSync(0, "utf8"));
    const eddsa = await circomlibjs.buildEddsa();
    const jub = eddsa.babyJub;
    const F = jub.F;
    const str = (v) => F.toObject(v).toString();
    const point = (x, y) => [F.e(x), F.e(y)];
    const answer = {
        generator: [str(jub.Generator[0]), str(jub.Generator[1])],
        subOrder: jub.subOrder.toString(),
        sign: (request.sign || []).map(([key, message]) => {
            const prv = Buffer.from(key, "hex");
            const A = eddsa.prv2pub(prv);
            const sig = eddsa.signPoseidon(prv, F.e(message));
            if (!eddsa.verifyPoseidon(F.e(message), sig, A)) throw new Error("circomlibjs refused its own signature");
            return { ax: str(A[0]), ay: str(A[1]), r8x: str(sig.R8[0]), r8y: str(sig.R8[1]), s: sig.S.toString() };
        }),
        mul: (request.mul || []).map(([x, y, k]) => {
            const r = jub.mulPointEscalar(point(x, y), BigInt(k));
            return [str(r[0]), str(r[1])];
        }),
        add: (request.add || []).map(([x1, y1, x2, y2]) => {
            const r = jub.addPoint(point(x1, y1), point(x2, y2));
            return [str(r[0]), str(r[1])];
        }),
    };
    process.stdout.write(JSON.stringify(answer) + "\n");
}

main().then(
    () => process.exit(0),
    (error) => {
        process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
        process.exit(1);
    },
);
