// The one way a vector generator writes its JSON, or checks it: each output file gets `text`, or with `--check`
// the script fails when a file is not exactly `text`. Used by babyjub.js and p256.js.
"use strict";

const fs = require("fs");
const path = require("path");

const REPO = path.resolve(__dirname, "..", "..");

/** Write `text` to each of `outputs` (paths from the repository root), or compare; returns the exit code. */
function writeOrCheck(outputs, text, script) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const relative of outputs) {
    const file = path.join(REPO, relative);
    if (check) {
      if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) {
        console.error(`${relative} is stale: rerun node ${script}`);
        stale = 1;
      }
    } else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      console.error(`wrote ${relative}`);
    }
  }
  return stale;
}

module.exports = { writeOrCheck };
