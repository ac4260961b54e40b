// Golden vectors for P-256 (secp256r1) device keys, from npm elliptic (ECDSA, RFC 6979) and ethers 5 (EIP-712,
// keccak, checksums, base58): an implementation independent of proofstream's Python code and of OpenSSL, which
// proofstream signs and verifies with (through the `cryptography` package).
//
//   node scripts/vectors/p256.js            (from the repository root, after `npm ci`): rewrite the files
//   node scripts/vectors/p256.js --check    fail if a file is not what this script makes
//
// Writes tests/vectors/p256.json and the same bytes to docs/vectors/p256.json (for firmware authors, see
// docs/signing.md). The Python tests read the file and never need node. The protocol rules below (device id,
// did:key, low s, wire encodings) are written here from docs/protocol.md.
//
// The private keys are derived from public labels: test keys only, never for real funds.
"use strict";

const crypto = require("crypto");
const EC = require("elliptic").ec;
const { utils } = require("ethers");
const { writeOrCheck } = require("./outputs");

const OUTPUTS = ["tests/vectors/p256.json", "docs/vectors/p256.json"];

const curve = new EC("p256");
const N = BigInt("0x" + curve.n.toString(16));
const HALF_N = N / 2n;
const DEVICE_ID_PREFIX = Buffer.from("ps.p256");
const P256_PUB_MULTICODEC = Buffer.from([0x80, 0x24]); // varint of 0x1200 (p256-pub)

const CHAIN_ID = 31337;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"; // anvil's first deployment
const OWNER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"; // anvil account 3
const DOMAIN = { name: "proofstream", version: "1", chainId: CHAIN_ID, verifyingContract: REGISTRY };
const HEADER = [
  ["version", "uint8"],
  ["project", "uint64"],
  ["config", "uint32"],
  ["device", "address"],
  ["nonce", "uint64"],
  ["timestamp", "uint64"],
];
const TRACKER = [
  ["lat", "uint32"],
  ["lon", "uint32"],
];
const WEATHER = [
  ["temperature", "uint16"],
  ["humidity", "uint8"],
];

const hex32 = (n) => "0x" + n.toString(16).padStart(64, "0");
const big = (bn) => BigInt("0x" + bn.toString(16));

function keyFor(label) {
  const seed = BigInt("0x" + crypto.createHash("sha256").update(`proofstream p256 test key ${label}`).digest("hex"));
  const d = (seed % (N - 1n)) + 1n;
  const pair = curve.keyFromPrivate(d.toString(16).padStart(64, "0"), "hex");
  const pub = pair.getPublic();
  const x = big(pub.getX());
  const y = big(pub.getY());
  const xy = Buffer.from(hex32(x).slice(2) + hex32(y).slice(2), "hex");
  const compressed = Buffer.from(pub.encodeCompressed());
  const device = utils.getAddress(utils.hexDataSlice(utils.keccak256(Buffer.concat([DEVICE_ID_PREFIX, xy])), 12));
  const did = "did:key:z" + utils.base58.encode(Buffer.concat([P256_PUB_MULTICODEC, compressed]));
  return {
    label,
    pair,
    vector: {
      label,
      private_key: hex32(d),
      x: hex32(x),
      y: hex32(y),
      public_key: "0x" + xy.toString("hex"),
      compressed: "0x" + compressed.toString("hex"),
      device_id_preimage: "0x" + Buffer.concat([DEVICE_ID_PREFIX, xy]).toString("hex"),
      device,
      did_key: did,
      did_key_multibase: did.slice("did:key:".length),
    },
  };
}

function sign(pair, digest) {
  // elliptic's RFC 6979 nonce uses the curve's hash (SHA-256) as its HMAC; canonical: low s.
  const sig = pair.sign(Buffer.from(digest.slice(2), "hex"), { canonical: true });
  const r = big(sig.r);
  const s = big(sig.s);
  if (s > HALF_N) throw new Error("elliptic returned a high s");
  return { r, s, wire: "0x" + hex32(r).slice(2) + hex32(s).slice(2) };
}

function verify(pubHex, digest, r, s) {
  try {
    const key = curve.keyFromPublic("04" + pubHex.slice(2), "hex");
    return curve.verify(Buffer.from(digest.slice(2), "hex"), { r: r.toString(16), s: s.toString(16) }, key);
  } catch (err) {
    return false;
  }
}

function messageVector(name, key, schema, fields) {
  const types = { Message: [...HEADER, ...schema].map(([n, t]) => ({ name: n, type: t })) };
  const message = { version: 1, project: 1, config: 1, device: key.vector.device, ...fields };
  const typeString = "Message(" + [...HEADER, ...schema].map(([n, t]) => `${t} ${n}`).join(",") + ")";
  const digest = utils._TypedDataEncoder.hash(DOMAIN, types, message);
  const sig = sign(key.pair, digest);
  const payload = Object.fromEntries(schema.map(([n]) => [n, fields[n]]));
  const body =
    `{"version":1,"project":1,"config":1,"device":"${key.vector.device}","nonce":${fields.nonce},` +
    `"timestamp":${fields.timestamp},"payload":${JSON.stringify(payload)},"signature":"${sig.wire}"}`;
  return {
    name,
    key: key.label,
    schema,
    type_string: typeString,
    type_hash: utils.keccak256(utils.toUtf8Bytes(typeString)),
    struct_hash: utils._TypedDataEncoder.from(types).hash(message),
    digest,
    id: utils.keccak256(digest),
    signature: sig.wire,
    r: hex32(sig.r),
    s: hex32(sig.s),
    http_body: body,
  };
}

function bindingVector(name, key, project, owner) {
  const types = {
    DeviceBinding: [
      { name: "project", type: "uint64" },
      { name: "device", type: "address" },
      { name: "owner", type: "address" },
    ],
  };
  const digest = utils._TypedDataEncoder.hash(DOMAIN, types, { project, device: key.vector.device, owner });
  const sig = sign(key.pair, digest);
  const body = {
    device: key.vector.device,
    owner,
    public_key: key.vector.public_key,
    signature: sig.wire,
  };
  return { name, key: key.label, project, owner, digest, signature: sig.wire, http_body: JSON.stringify(body) };
}

function build() {
  const keys = ["tracker", "weather", "other"].map(keyFor);
  const [tracker, weather, other] = keys;
  const messages = [
    messageVector("tracker_first", tracker, TRACKER, {
      nonce: 0,
      timestamp: 1764300000,
      lat: 142345678,
      lon: 193456789,
    }),
    messageVector("tracker_second", tracker, TRACKER, {
      nonce: 1,
      timestamp: 1764300010,
      lat: 142345999,
      lon: 193456001,
    }),
    messageVector("weather_reading", weather, WEATHER, {
      nonce: 7,
      timestamp: 1764300100,
      temperature: 2931,
      humidity: 55,
    }),
  ];
  const bindings = [bindingVector("tracker_binding", tracker, 1, OWNER)];

  const good = messages[0];
  const r = BigInt(good.r);
  const s = BigInt(good.s);
  const bad = [];
  const addBad = (name, why, digest, pub, rr, ss) => {
    bad.push({
      name,
      why,
      digest,
      public_key: pub,
      signature: "0x" + hex32(rr).slice(2) + hex32(ss).slice(2),
      elliptic_verify: verify(pub, digest, rr, ss),
      expect: false,
    });
  };
  const pub = tracker.vector.public_key;
  addBad("high_s", "n - s: the same signature's twin, refused so each message has one signature", good.digest, pub, r,
    N - s);
  addBad("wrong_key", "signed by the tracker key, checked under another", good.digest, other.vector.public_key, r, s);
  addBad("wrong_message", "the signature of tracker_first over tracker_second's digest", messages[1].digest, pub, r, s);
  addBad("r_zero", "r = 0", good.digest, pub, 0n, s);
  addBad("s_zero", "s = 0", good.digest, pub, r, 0n);
  addBad("r_is_n", "r = n (the range is 0 < r < n)", good.digest, pub, N, s);
  addBad("s_is_n", "s = n (the range is 0 < s <= n / 2)", good.digest, pub, r, N);
  {
    const y = BigInt(tracker.vector.y);
    const off = tracker.vector.x + hex32((y + 1n) % (2n ** 256n)).slice(2);
    addBad("off_curve_key", "Y + 1", good.digest, off, r, s);
  }

  return {
    description:
      "P-256 (secp256r1) device keys and signatures per docs/protocol.md: ECDSA over the EIP-712 digest itself " +
      "(not hashed again), RFC 6979 nonces, low s, wire signature r || s (32 bytes big-endian each); device id = " +
      "uint160(keccak256('ps.p256' || X || Y)); did:key = 'did:key:z' + base58btc(0x8024 || compressed point). " +
      "Test keys only.",
    generator: "scripts/vectors/p256.js",
    reference: `elliptic ${require("elliptic/package.json").version} (ec('p256'), canonical); ethers ${utils.version || require("ethers/package.json").version} _TypedDataEncoder, keccak256, getAddress, base58`,
    constants: {
      n: hex32(N),
      half_n: hex32(HALF_N),
      p: hex32(big(curve.curve.p)),
      device_id_prefix: "0x" + DEVICE_ID_PREFIX.toString("hex"),
      multicodec_p256_pub: "0x" + P256_PUB_MULTICODEC.toString("hex"),
    },
    domain: DOMAIN,
    keys: keys.map((k) => k.vector),
    messages,
    bindings,
    bad,
  };
}

function main() {
  return writeOrCheck(OUTPUTS, JSON.stringify(build(), null, 2) + "\n", "scripts/vectors/p256.js");
}

process.exit(main());
