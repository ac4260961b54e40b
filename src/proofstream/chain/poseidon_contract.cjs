// SPDX-License-Identifier: Apache-2.0
// Prints, as one JSON line, the EVM creation code and the ABI of the Poseidon contract that circomlibjs
// generates for N inputs. circomlibjs (GPL-3.0) is only run here, as a build tool: its output is deployed, never
// committed. Usage: node poseidon_contract.cjs <node_modules> <N>
"use strict";
const path = require("path");

const [modules, count] = process.argv.slice(2);
const nInputs = Number(count);
const { poseidonContract } = require(path.join(modules, "circomlibjs"));
const document = {
    bytecode: poseidonContract.createCode(nInputs),
    abi: poseidonContract.generateABI(nInputs),
};
process.stdout.write(JSON.stringify(document) + "\n");
