#!/usr/bin/env bash
# Runs every test: the workspace's unit and integration tests (real node processes on
# ephemeral loopback ports), then the browser journey, the interop journey (the original
# tutorial's apps with ours), the keys test (keys stay in the browser), the journey in
# Simplified Chinese and the Network page's (a fork between two nodes, drawn) in headless
# Debian Chromium, then the API fuzz (scripts/fuzz.sh:
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
node e2e/journey.mjs "$target/debug/blockchain_node" "$target/debug/blockchain_client" 2>&1 | tee "$log"
browser_passed=$(tail -1 "$log" | grep -Eo '^[0-9]+ passed' | grep -Eo '[0-9]+')
node e2e/interop.mjs "$target/debug/blockchain_node" "$target/debug/blockchain_client" "$ORIGINAL_PYTHON" 2>&1 | tee "$log"
interop_passed=$(tail -1 "$log" | grep -Eo '^[0-9]+ passed' | grep -Eo '[0-9]+')
node e2e/keys.mjs "$target/debug/blockchain_node" "$target/debug/blockchain_client" 2>&1 | tee "$log"
keys_passed=$(tail -1 "$log" | grep -Eo '^[0-9]+ passed' | grep -Eo '[0-9]+')
node e2e/zh.mjs "$target/debug/blockchain_node" "$target/debug/blockchain_client" 2>&1 | tee "$log"
zh_passed=$(tail -1 "$log" | grep -Eo '^[0-9]+ passed' | grep -Eo '[0-9]+')
node e2e/faucet.mjs "$target/debug/blockchain_node" "$target/debug/blockchain_client" 2>&1 | tee "$log"
faucet_passed=$(tail -1 "$log" | grep -Eo '^[0-9]+ passed' | grep -Eo '[0-9]+')
node e2e/proofs.mjs "$target/debug/blockchain_node" "$target/debug/blockchain_client" 2>&1 | tee "$log"
proofs_passed=$(tail -1 "$log" | grep -Eo '^[0-9]+ passed' | grep -Eo '[0-9]+')
node e2e/network.mjs "$target/debug/blockchain_node" 2>&1 | tee "$log"
network_passed=$(tail -1 "$log" | grep -Eo '^[0-9]+ passed' | grep -Eo '[0-9]+')
# The API fuzzed by schemathesis in a loopback-only network namespace (root; else skipped).
bash scripts/fuzz.sh "$target/debug/blockchain_node" 2>&1 | tee "$log"
fuzz_passed=$(tail -1 "$log" | grep -Eo '^[0-9]+ passed' | grep -Eo '[0-9]+')

echo "tests: $((rust_passed + browser_passed + interop_passed + keys_passed + zh_passed + faucet_passed + proofs_passed + network_passed + fuzz_passed)) passed, 0 failed"
