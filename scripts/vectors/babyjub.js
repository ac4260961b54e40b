// Golden vectors for BabyJubJub device keys and EdDSA-Poseidon signatures, from npm circomlibjs (the reference the
// circuits' EdDSAPoseidonVerifier matches) and npm blake-hash / js-sha3 / ethers for BLAKE-512, keccak and checksums.
//
//   node scripts/vectors/babyjub.js            (from the repository root, after `npm ci`): rewrite the files
//   node scripts/vectors/babyjub.js --check    fail if a file is not what this script makes
//
// Writes tests/vectors/babyjub.json and the same bytes to docs/vectors/babyjub.json (for firmware authors, see
// docs/signing.md). The Python tests read the file and never need node. circomlibjs is GPL-3.0 and is only *run*
// here from node_modules; nothing of it is copied. The protocol hashes below (leaf, m, m_bind, device id, wire
// encodings) are written here from docs/protocol.md, independently of proofstream's Python code.
//
// The private keys are derived from public labels: test keys only, never for real funds.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { buildEddsa, buildPoseidon } = require("circomlibjs");
const createBlakeHash = require("blake-hash");
const { keccak256 } = require("js-sha3");
const { utils: ethersUtils } = require("ethers");
const { writeOrCheck } = require("./outputs");

const OUTPUTS = ["tests/vectors/babyjub.json", "docs/vectors/babyjub.json"];

const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const LEAF_TAG = 0x70732e6c656166n; // "ps.leaf"
const SIG_TAG = BigInt("0x" + Buffer.from("ps.sig").toString("hex"));
const BIND_TAG = BigInt("0x" + Buffer.from("ps.bind").toString("hex"));
const DEVICE_ID_PREFIX = Buffer.from("ps.bjj");

const CHAIN_ID = 31337n;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"; // anvil's first deployment
const OWNER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"; // anvil account 3
const TRACKER_SCHEMA = [
  ["lat", "uint32"],
  ["lon", "uint32"],
];
const WEATHER_SCHEMA = [
  ["temperature", "uint16"],
  ["humidity", "uint8"],
];

const be32 = (x) => Buffer.from(x.toString(16).padStart(64, "0"), "hex");
const hex = (buf) => "0x" + Buffer.from(buf).toString("hex");
const labelBytes = (label) => crypto.createHash("sha256").update(label).digest();

async function build() {
  const eddsa = await buildEddsa();
  const poseidonWasm = await buildPoseidon();
  const babyJub = eddsa.babyJub;
  const F = babyJub.F;
  const subOrder = babyJub.subOrder;
  const circomlibjsDir = path.dirname(path.dirname(require.resolve("circomlibjs")));
  const version = JSON.parse(fs.readFileSync(path.join(circomlibjsDir, "package.json"), "utf8")).version;

  const toObj = (p) => [F.toObject(p[0]), F.toObject(p[1])];
  const fromObj = (p) => [F.e(p[0]), F.e(p[1])];
  const strPoint = (p) => p.map(String);
  const hash = (inputs) => {
    for (const x of inputs) if (x < 0n || x >= P) throw new Error(`input ${x} is not a field element`);
    return F.toObject(poseidonWasm(inputs));
  };
  const blake = (buf) => createBlakeHash("blake512").update(Buffer.from(buf)).digest();

  const deviceIdHash = (A) => "0x" + keccak256(Buffer.concat([DEVICE_ID_PREFIX, be32(A[0]), be32(A[1])]));
  const deviceId = (A) => ethersUtils.getAddress("0x" + deviceIdHash(A).slice(-40));
  const wire = (R8, S) => hex(Buffer.concat([be32(R8[0]), be32(R8[1]), be32(S)]));
  const verify = (m, R8, S, A) => eddsa.verifyPoseidon(F.e(m), { R8: fromObj(R8), S }, fromObj(A));
  const sign = (prv, m) => {
    const sig = eddsa.signPoseidon(prv, F.e(m));
    return { R8: toObj(sig.R8), S: sig.S };
  };
  const sigJson = (sig) => ({ r8: strPoint(sig.R8), s: String(sig.S), wire: wire(sig.R8, sig.S) });

  // --- BLAKE-512 (npm blake-hash, the SHA-3 finalist BLAKE, not BLAKE2) ---
  const blakeVectors = [];
  for (const n of [0, 1, 32, 64, 111, 112, 127, 128, 129, 200]) {
    const input = Buffer.alloc(n);
    for (let i = 0; i < n; i++) input[i] = (i * 7 + 3) & 0xff;
    blakeVectors.push({ input: hex(input), digest: hex(blake(input)) });
  }
  blakeVectors.push({ input: hex(Buffer.from("abc")), digest: hex(blake(Buffer.from("abc"))) });

  // --- keys ---
  const privateKeys = [
    ["zeros", Buffer.alloc(32, 0)],
    ["ones", Buffer.alloc(32, 1)],
    ["counting", Buffer.from(Array.from({ length: 32 }, (_, i) => i))],
    ["label_tracker", labelBytes("proofstream/bjj/key/tracker")],
    ["label_station", labelBytes("proofstream/bjj/key/station")],
    ["all_ff", Buffer.alloc(32, 0xff)],
  ];
  const keys = {};
  const keyVectors = privateKeys.map(([name, prv]) => {
    const h = blake(prv);
    const pruned = Buffer.from(eddsa.pruneBuffer(Buffer.from(h.subarray(0, 32))));
    const scalar = BigInt("0x" + Buffer.from(pruned).reverse().toString("hex"));
    const A = toObj(eddsa.prv2pub(prv));
    if (!babyJub.inSubgroup(fromObj(A))) throw new Error("prv2pub left the subgroup");
    keys[name] = { prv, A };
    return {
      name,
      private_key: hex(prv),
      blake512: hex(h),
      scalar: String(scalar),
      public_key: strPoint(A),
      public_key_hex: hex(Buffer.concat([be32(A[0]), be32(A[1])])),
      packed: hex(babyJub.packPoint(fromObj(A))),
      device_id_hash: deviceIdHash(A),
      device_id: deviceId(A),
    };
  });

  // --- curve arithmetic ---
  const B8 = toObj(babyJub.Base8);
  const G = toObj(babyJub.Generator);
  const scalars = [0n, 1n, 2n, 3n, 8n, subOrder - 1n, subOrder, subOrder + 5n, (1n << 253n) + 12345n];
  scalars.push(BigInt("0x" + labelBytes("proofstream/bjj/scalar").toString("hex")));
  const mulVectors = scalars.map((k) => ({
    scalar: String(k),
    base8: strPoint(toObj(babyJub.mulPointEscalar(babyJub.Base8, k))),
    generator: strPoint(toObj(babyJub.mulPointEscalar(babyJub.Generator, k))),
  }));
  const order2 = [0n, P - 1n]; // (0, -1): the point of order 2
  const addVectors = [
    [G, B8],
    [B8, B8],
    [B8, [0n, 1n]],
    [B8, order2],
    [toObj(babyJub.mulPointEscalar(babyJub.Base8, 12345n)), toObj(babyJub.mulPointEscalar(babyJub.Generator, 999n))],
  ].map(([a, b]) => ({ a: strPoint(a), b: strPoint(b), sum: strPoint(toObj(babyJub.addPoint(fromObj(a), fromObj(b)))) }));
  const pointChecks = [
    { name: "base8", point: B8 },
    { name: "generator", point: G },
    { name: "identity", point: [0n, 1n] },
    { name: "order_2", point: order2 },
    { name: "base8_plus_order_2", point: toObj(babyJub.addPoint(babyJub.Base8, fromObj(order2))) },
    { name: "off_curve", point: [B8[0], (B8[1] + 1n) % P] },
  ].map(({ name, point }) => {
    const onCurve = babyJub.inCurve(fromObj(point));
    let smallOrder = false;
    if (onCurve) {
      const p8 = toObj(babyJub.mulPointEscalar(fromObj(point), 8n));
      smallOrder = p8[0] === 0n && p8[1] === 1n;
    }
    return {
      name,
      point: strPoint(point),
      on_curve: onCurve,
      in_subgroup: onCurve && babyJub.inSubgroup(fromObj(point)),
      small_order: smallOrder,
      packed: onCurve ? hex(babyJub.packPoint(fromObj(point))) : null,
    };
  });

  // --- messages (docs/protocol.md: leaf, then m = Poseidon(SIG_TAG, chainId, registry, config, leaf)) ---
  const messageCases = [
    { name: "tracker_first", key: "label_tracker", chain: CHAIN_ID, registry: REGISTRY, project: 1n, config: 1n,
      nonce: 0n, timestamp: 1764300000n, schema: TRACKER_SCHEMA, payload: [142345678n, 193456789n] },
    { name: "tracker_second", key: "label_tracker", chain: CHAIN_ID, registry: REGISTRY, project: 1n, config: 1n,
      nonce: 1n, timestamp: 1764300060n, schema: TRACKER_SCHEMA, payload: [142346912n, 193455802n] },
    { name: "weather_other_chain", key: "label_station", chain: 8453n,
      registry: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", project: 7n, config: 3n, nonce: 41n,
      timestamp: 1764400000n, schema: WEATHER_SCHEMA, payload: [2315n, 64n] },
    { name: "extremes", key: "all_ff", chain: CHAIN_ID, registry: REGISTRY, project: (1n << 64n) - 1n,
      config: (1n << 32n) - 1n, nonce: (1n << 64n) - 1n, timestamp: (1n << 64n) - 1n, schema: TRACKER_SCHEMA,
      payload: [(1n << 32n) - 1n, 0n] },
  ];
  const messages = {};
  const messageVectors = messageCases.map((c) => {
    const { prv, A } = keys[c.key];
    const device = deviceId(A);
    const leaf = hash([LEAF_TAG, c.project, BigInt(device), c.nonce, c.timestamp, ...c.payload]);
    const m = hash([SIG_TAG, c.chain, BigInt(c.registry), c.config, leaf]);
    const sig = sign(prv, m);
    if (!verify(m, sig.R8, sig.S, A)) throw new Error(`${c.name} does not verify`);
    const hm = hash([sig.R8[0], sig.R8[1], A[0], A[1], m]);
    messages[c.name] = { m, sig, A };
    const payload = Object.fromEntries(c.schema.map(([field], i) => [field, Number(c.payload[i])]));
    // uint64 values above 2^53 cannot be JSON numbers from a double: print them as integers by hand.
    const body =
      `{"version":1,"project":${c.project},"config":${c.config},"device":"${device}","nonce":${c.nonce},` +
      `"timestamp":${c.timestamp},"payload":${JSON.stringify(payload)},"signature":"${wire(sig.R8, sig.S)}"}`;
    return {
      name: c.name,
      key: c.key,
      chain_id: String(c.chain),
      device_registry: c.registry,
      project: String(c.project),
      config: String(c.config),
      device: device,
      nonce: String(c.nonce),
      timestamp: String(c.timestamp),
      schema: c.schema,
      payload: c.payload.map(String),
      leaf: String(leaf),
      m: String(m),
      m_hex: hex(be32(m)),
      message_id: "0x" + keccak256(be32(m)),
      nonce_r: String(
        BigInt("0x" + Buffer.from(blake(Buffer.concat([blake(prv).subarray(32), Buffer.from(be32(m)).reverse()]))).reverse().toString("hex")) % subOrder,
      ),
      hm: String(hm),
      signature: sigJson(sig),
      body,
    };
  });

  // --- bindings: m_bind = Poseidon(BIND_TAG, chainId, registry, project, owner) ---
  const bindingCases = [
    { name: "tracker_binding", key: "label_tracker", chain: CHAIN_ID, registry: REGISTRY, project: 1n, owner: OWNER },
    { name: "station_binding", key: "label_station", chain: 8453n,
      registry: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", project: 7n,
      owner: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65" },
  ];
  const bindingVectors = bindingCases.map((c) => {
    const { prv, A } = keys[c.key];
    const m = hash([BIND_TAG, c.chain, BigInt(c.registry), c.project, BigInt(c.owner)]);
    const sig = sign(prv, m);
    if (!verify(m, sig.R8, sig.S, A)) throw new Error(`${c.name} does not verify`);
    const device = deviceId(A);
    const publicKey = hex(Buffer.concat([be32(A[0]), be32(A[1])]));
    return {
      name: c.name,
      key: c.key,
      chain_id: String(c.chain),
      device_registry: c.registry,
      project: String(c.project),
      owner: c.owner,
      device,
      m_bind: String(m),
      signature: sigJson(sig),
      body: JSON.stringify({ device, owner: c.owner, public_key: publicKey, signature: wire(sig.R8, sig.S) }),
    };
  });

  // --- bad signatures: what circomlibjs's verifyPoseidon says, and whether the protocol accepts the key ---
  const good = messages.tracker_first;
  const other = keys.label_station;
  const bad = [];
  const addBad = (name, what, m, sig, A, keyValid) => {
    bad.push({
      name,
      what,
      m: String(m),
      public_key: strPoint(A),
      signature: { r8: strPoint(sig.R8), s: String(sig.S), wire: wire(sig.R8, sig.S) },
      circomlibjs_verify: verify(m, sig.R8, sig.S, A),
      key_valid: keyValid,
    });
  };
  addBad("tampered_s", "S + 1", good.m, { R8: good.sig.R8, S: (good.sig.S + 1n) % subOrder }, good.A, true);
  addBad(
    "tampered_r8", "R8 + Base8 (still on the curve)", good.m,
    { R8: toObj(babyJub.addPoint(fromObj(good.sig.R8), babyJub.Base8)), S: good.sig.S }, good.A, true,
  );
  addBad("r8_off_curve", "R8.y + 1", good.m, { R8: [good.sig.R8[0], (good.sig.R8[1] + 1n) % P], S: good.sig.S }, good.A, true);
  addBad("wrong_key", "verified under another device's key", good.m, good.sig, other.A, true);
  addBad("wrong_message", "m + 1", good.m + 1n, good.sig, good.A, true);
  addBad("s_not_below_suborder", "S + subOrder (same point S*B8, refused by the range check)", good.m,
    { R8: good.sig.R8, S: good.sig.S + subOrder }, good.A, true);
  addBad("off_curve_key", "A.y + 1", good.m, good.sig, [good.A[0], (good.A[1] + 1n) % P], false);
  // A small-order key makes 8*hm*A vanish: R8 = r*B8, S = r "verifies" every message in circomlibjs. The circuit
  // (EdDSAPoseidonVerifier) and proofstream refuse such keys.
  const r = 123456789n;
  const forged = { R8: toObj(babyJub.mulPointEscalar(babyJub.Base8, r)), S: r };
  addBad("small_order_key_identity", "A = (0, 1): circomlibjs accepts any message", good.m, forged, [0n, 1n], false);
  addBad("small_order_key_order_2", "A = (0, -1): circomlibjs accepts any message", good.m, forged, order2, false);
  // A + (0,-1) is on the curve but outside the subgroup: circomlibjs accepts a signature made for it with A's
  // scalar; proofstream refuses the key (registration would let one secret stand for two device ids).
  const mixed = toObj(babyJub.addPoint(fromObj(good.A), fromObj(order2)));
  {
    const h = blake(keys.label_tracker.prv);
    const s = BigInt("0x" + Buffer.from(eddsa.pruneBuffer(Buffer.from(h.subarray(0, 32)))).reverse().toString("hex"));
    const rr = 987654321n;
    const R8 = toObj(babyJub.mulPointEscalar(babyJub.Base8, rr));
    const hm = hash([R8[0], R8[1], mixed[0], mixed[1], good.m]);
    addBad("mixed_order_key", "A + (0, -1), signed with A's scalar: circomlibjs accepts", good.m,
      { R8, S: (rr + hm * s) % subOrder }, mixed, false);
  }

  return {
    description:
      "BabyJubJub device keys and EdDSA-Poseidon signatures per docs/protocol.md: circomlibjs prv2pub / " +
      "signPoseidon / verifyPoseidon, device id = uint160(keccak256('ps.bjj' || Ax || Ay)), " +
      "m = Poseidon(SIG_TAG, chainId, registry, config, leaf), m_bind = Poseidon(BIND_TAG, chainId, registry, " +
      "project, owner), wire signature R8x || R8y || S (32 bytes big-endian each). Decimal strings for field " +
      "elements. Test keys only.",
    generator: "scripts/vectors/babyjub.js",
    reference: `circomlibjs ${version} buildEddsa / buildBabyjub / buildPoseidon; blake-hash blake512; js-sha3 keccak256`,
    constants: {
      field_modulus: String(P),
      a: String(F.toObject(babyJub.A)),
      d: String(F.toObject(babyJub.D)),
      order: String(babyJub.order),
      sub_order: String(subOrder),
      generator: strPoint(G),
      base8: strPoint(B8),
      leaf_tag: String(LEAF_TAG),
      sig_tag: String(SIG_TAG),
      sig_tag_hex: "0x" + SIG_TAG.toString(16),
      bind_tag: String(BIND_TAG),
      bind_tag_hex: "0x" + BIND_TAG.toString(16),
      device_id_prefix: hex(DEVICE_ID_PREFIX),
    },
    blake512: blakeVectors,
    keys: keyVectors,
    scalar_mul: mulVectors,
    add: addVectors,
    points: pointChecks,
    messages: messageVectors,
    bindings: bindingVectors,
    bad,
  };
}

async function main() {
  return writeOrCheck(OUTPUTS, JSON.stringify(await build(), null, 2) + "\n", "scripts/vectors/babyjub.js");
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
