#!/usr/bin/env bash
# proofstream's one entry point for a fresh machine: installs what is pinned in the repo, then runs something.
#   ./dev.sh demo [--devices N] [--json]   install everything, run the demo on the embedded defaults
#   ./dev.sh test [pytest args]            install everything, run lint, type checks and the whole test suite
#                                          (one pytest worker per core, a test file per worker; `-n 0` for one)
#   ./dev.sh test --fast [pytest args]     the same without the tests that need anvil, proofs or the Node
#                                          toolchain (tests/plugins/lanes.py): a minute or two
#   ./dev.sh setup                         install only
# Needs: python3 (>= 3.11) with venv, and Node.js (>= 20) with npm. Everything else comes from the lock files.
set -euo pipefail
cd "$(dirname "$0")"

UV_VERSION=0.13.8

need() { command -v "$1" >/dev/null 2>&1 || { echo "proofstream: '$1' is required ($2)" >&2; exit 1; }; }

setup() {
  need python3 "Python 3.11 or newer"
  need node "Node.js 20 or newer runs circom, snarkjs, solc and anvil"
  need npm "npm installs the pinned Node tools from package-lock.json"
  if [ ! -x .tools/bin/uv ] || [ "$(.tools/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    python3 -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  .tools/bin/uv sync --frozen --all-extras --quiet
  # npm ci wipes node_modules: only when the lock changed since the last install.
  local stamp=node_modules/.proofstream-lock.sha256
  local want; want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
}

cmd=${1:-demo}
shift || true
case "$cmd" in
  setup) setup ;;
  demo) setup; exec .venv/bin/proofstream demo "$@" ;;
  node) setup; exec .venv/bin/proofstream node "$@" ;;
  test)
    setup
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/mypy
    if [ "${1:-}" = "--fast" ]; then
      # The fast lane: everything that needs no anvil, no proving and no Node toolchain (tests/plugins/lanes.py).
      shift
      exec .venv/bin/pytest -n auto --dist loadfile -m "not chain and not slow and not toolchain" "$@"
    fi
    # Tests wait on anvil, nodes and snarkjs as much as they compute: one worker per core keeps both busy. A file's
    # tests stay on one worker (--dist loadfile), so its module fixtures (a node, a chain) are made once; the longest
    # files start first (tests/plugins/lanes.py), so no worker is left with a long one at the end.
    exec .venv/bin/pytest -n auto --dist loadfile --no-loadscope-reorder "$@"
    ;;
  *) echo "usage: ./dev.sh demo|test|setup|node [args]" >&2; exit 2 ;;
esac
