#!/usr/bin/env bash
# Runs every test: the workspace's unit and integration tests (real node processes on
# ephemeral loopback ports), then the browser journey, the interop journey (the original
# tutorial's apps with ours), the keys test (keys stay in the browser), the journey in
# Simplified Chinese, the Merkle proofs and search, the Network page (a fork between two
# nodes, drawn) and the tamper lab in headless Debian Chromium, then the API fuzz
# (scripts/fuzz.sh:
# schemathesis against a live node).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# The browser test needs Debian's chromium and playwright-core (no browser download).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  else
    echo "chromium is missing: apt-get install chromium" >&2
    exit 1
  fi
fi
# The Chinese journey's screenshots need a CJK font (without one Chromium draws boxes).
if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-noto-cjk
  else
    echo "fonts-noto-cjk is missing: the Chinese screenshots will show boxes" >&2
  fi
fi
if [ ! -d e2e/node_modules/playwright-core ]; then
  (cd e2e && npm ci --no-audit --no-fund)
fi

# Interop: the original tutorial's apps, unmodified from ../shared/reference, in a Python
# environment made (or reused) under the target dir; the interop tests fail without it.
ORIGINAL_PYTHON="$(bash scripts/original-venv.sh)"
export ORIGINAL_PYTHON

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$log"
  rust_passed=$(grep -Eo '[0-9]+ tests? run: [0-9]+ passed' "$log" | tail -1 | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+')
else
  cargo test --workspace --no-fail-fast 2>&1 | tee "$log"
  rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$log" | grep -Eo '[0-9]+' | awk '{ s += $1 } END { print s + 0 }')
fi

cargo build -p blockchain_node -p blockchain_client
node_bin="$target/debug/blockchain_node"
client_bin="$target/debug/blockchain_client"
passed=$rust_passed
# Runs one suite (its arguments are the command) and adds the passes its last line counts
# ("N passed, 0 failed"); a failing suite stops the script (pipefail).
suite() {
  "$@" 2>&1 | tee "$log"
  passed=$((passed + $(tail -1 "$log" | grep -Eo '^[0-9]+ passed' | grep -Eo '[0-9]+')))
}
suite node e2e/journey.mjs "$node_bin" "$client_bin"
suite node e2e/interop.mjs "$node_bin" "$client_bin" "$ORIGINAL_PYTHON"
suite node e2e/keys.mjs "$node_bin" "$client_bin"
suite node e2e/zh.mjs "$node_bin" "$client_bin"
suite node e2e/proofs.mjs "$node_bin" "$client_bin"
suite node e2e/network.mjs "$node_bin"
suite node e2e/tamper.mjs "$node_bin" "$client_bin"
suite node e2e/faucet.mjs "$node_bin" "$client_bin"
# The API fuzzed by schemathesis in a loopback-only network namespace (root; else skipped).
suite bash scripts/fuzz.sh "$node_bin"

echo "tests: $passed passed, 0 failed"
