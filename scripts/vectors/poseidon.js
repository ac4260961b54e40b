// Regenerates the Poseidon and batch-Merkle golden vectors from npm circomlibjs (the reference the circuits use).
//
//   node scripts/vectors/poseidon.js        (from the repository root, after `npm ci`)
//
// Writes tests/vectors/poseidon.json and tests/vectors/merkle.json. The Python tests read those files and never
// need node. circomlibjs is GPL-3.0 and is only *run* here from node_modules; nothing of it is copied.
// The Merkle tree below is an independent implementation of docs/protocol.md ("Batch commitment") on top of
// circomlibjs's Poseidon, so a Python bug in tree layout or tags cannot hide in both.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { buildPoseidon, buildPoseidonReference } = require("circomlibjs");

const REPO = path.resolve(__dirname, "..", "..");
const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const LEAF_TAG = 0x70732e6c656166n; // "ps.leaf"
const NODE_TAG = 0x70732e6e6f6465n; // "ps.node"
const PADDING_LEAF = 0n;

// Deterministic "random" field elements: sha256 of a label, reduced mod p (no RNG state, reproducible anywhere).
function fieldFromLabel(label) {
  const digest = crypto.createHash("sha256").update(label).digest("hex");
  return BigInt("0x" + digest) % P;
}

function inputSets(n) {
  const sets = [];
  sets.push(Array.from({ length: n }, (_, i) => BigInt(i + 1)));
  sets.push(Array.from({ length: n }, () => 0n));
  sets.push(Array.from({ length: n }, () => P - 1n));
  // Mixed edge values: 0, p-1, 2^253, 2^64-1, 2^160-1 (an address), p-2 ..., cycled.
  const edges = [0n, P - 1n, 1n << 253n, (1n << 64n) - 1n, (1n << 160n) - 1n, P - 2n, 1n, (1n << 248n) - 1n];
  sets.push(Array.from({ length: n }, (_, i) => edges[(i + n) % edges.length]));
  for (let k = 0; k < 2; k++) {
    sets.push(Array.from({ length: n }, (_, i) => fieldFromLabel(`proofstream/poseidon/${n}/${k}/${i}`)));
  }
  return sets;
}

function writeJson(relative, value) {
  const file = path.join(REPO, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
  console.log(`wrote ${relative}`);
}

async function main() {
  const poseidonWasm = await buildPoseidon();
  const poseidonRef = await buildPoseidonReference();
  const F = poseidonWasm.F;
  // circomlibjs's "exports" hides package.json, so read it from the resolved package directory.
  const circomlibjsDir = path.dirname(path.dirname(require.resolve("circomlibjs")));
  const circomlibjsVersion = JSON.parse(fs.readFileSync(path.join(circomlibjsDir, "package.json"), "utf8")).version;

  // Both circomlibjs implementations (optimised wasm and the plain reference) must agree on every vector.
  const hash = (inputs) => {
    // circomlibjs reduces out-of-range inputs mod p silently; proofstream rejects them, so vectors never use them.
    for (const x of inputs) if (x < 0n || x >= P) throw new Error(`input ${x} is not a field element`);
    const a = F.toObject(poseidonWasm(inputs));
    const b = poseidonRef.F.toObject(poseidonRef(inputs));
    if (a !== b) throw new Error(`circomlibjs implementations disagree on [${inputs}]`);
    return a;
  };

  const poseidonVectors = [];
  for (let n = 1; n <= 16; n++) {
    for (const inputs of inputSets(n)) {
      poseidonVectors.push({ inputs: inputs.map(String), output: String(hash(inputs)) });
    }
  }
  writeJson("tests/vectors/poseidon.json", {
    description: "circomlib Poseidon(n) over the BN254 scalar field, n = 1..16; decimal strings.",
    generator: "scripts/vectors/poseidon.js",
    reference: `circomlibjs ${circomlibjsVersion} buildPoseidon (checked against buildPoseidonReference)`,
    field_modulus: String(P),
    vectors: poseidonVectors,
  });

  const nodeHash = (left, right) => hash([NODE_TAG, left, right]);
  const leafHash = (m) => hash([LEAF_TAG, m.project, m.device, m.nonce, m.timestamp, ...m.payload]);

  function buildLevels(leaves, depth) {
    const levels = [leaves.concat(Array(2 ** depth - leaves.length).fill(PADDING_LEAF))];
    for (let h = 0; h < depth; h++) {
      const below = levels[h];
      const above = [];
      for (let i = 0; i < below.length; i += 2) above.push(nodeHash(below[i], below[i + 1]));
      levels.push(above);
    }
    return levels;
  }

  // A tracker-distance task: one device's messages in nonce order (docs/protocol.md, offset-encoded lat/lon).
  const DEVICE_A = BigInt("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  const DEVICE_B = BigInt("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
  function track(project, device, firstNonce, count, nonceStep, t0, lat0, lon0) {
    return Array.from({ length: count }, (_, i) => ({
      project: BigInt(project),
      device,
      nonce: BigInt(firstNonce + i * nonceStep),
      timestamp: BigInt(t0 + 60 * i),
      payload: [BigInt(lat0 + 1234 * i), BigInt(lon0 - 987 * i)],
    }));
  }
  const cases = [
    { name: "depth3-five-messages", depth: 3, messages: track(1, DEVICE_A, 1, 5, 1, 1764300000, 142345678, 193456789) },
    { name: "depth3-full", depth: 3, messages: track(1, DEVICE_A, 7, 8, 3, 1764300600, 142345678, 193456789) },
    { name: "depth3-one-message", depth: 3, messages: track(2, DEVICE_B, 42, 1, 1, 1764301000, 0, 360000000) },
    { name: "depth3-empty", depth: 3, messages: [] },
    { name: "depth4-three-messages", depth: 4, messages: track(7, DEVICE_B, 100, 3, 5, 1764302000, 179990000, 5000) },
    { name: "depth4-eleven-messages", depth: 4, messages: track(1, DEVICE_A, 1000, 11, 2, 1764303000, 90000000, 180000000) },
  ];

  const merkleCases = cases.map(({ name, depth, messages }) => {
    const leaves = messages.map(leafHash);
    const levels = buildLevels(leaves, depth);
    const proofs = [];
    for (let index = 0; index < 2 ** depth; index++) {
      const siblings = [];
      for (let h = 0; h < depth; h++) siblings.push(String(levels[h][(index >> h) ^ 1]));
      proofs.push({ index, siblings });
    }
    return {
      name,
      depth,
      messages: messages.map((m) => ({
        project: String(m.project),
        device: "0x" + m.device.toString(16).padStart(40, "0"),
        device_int: String(m.device),
        nonce: String(m.nonce),
        timestamp: String(m.timestamp),
        payload: m.payload.map(String),
      })),
      leaves: leaves.map(String),
      root: String(levels[depth][0]),
      proofs,
    };
  });
  writeJson("tests/vectors/merkle.json", {
    description:
      "Batch Merkle trees per docs/protocol.md: leaf = Poseidon(LEAF_TAG, project, device, nonce, timestamp, " +
      "payload...), node = Poseidon(NODE_TAG, left, right), padding leaf 0; siblings bottom-up; decimal strings.",
    generator: "scripts/vectors/poseidon.js",
    reference: `circomlibjs ${circomlibjsVersion} buildPoseidon`,
    leaf_tag: String(LEAF_TAG),
    node_tag: String(NODE_TAG),
    padding_leaf: String(PADDING_LEAF),
    cases: merkleCases,
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
