#!/usr/bin/env bash
# Starts the node on 127.0.0.1:5000 and the wallet client on 127.0.0.1:8080 (release
# builds, embedded storage under ./data/). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p blockchain_node -p blockchain_client
target="${CARGO_TARGET_DIR:-target}/release"

"$target/blockchain_node" --port 5000 "$@" &
node_pid=$!
trap 'kill "$node_pid" 2>/dev/null || true' EXIT INT TERM

# Wait until the node answers before starting the client that talks to it.
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; then break; fi
  if ! kill -0 "$node_pid" 2>/dev/null; then echo "the node exited; see its log above" >&2; exit 1; fi
  sleep 0.1
done

cat <<'EOF'

  node:   http://127.0.0.1:5000  Mine dashboard (live), Configure
  wallet: http://127.0.0.1:8080  Wallet Generator, Make Transaction, View Transactions, Wallet Balance

  First steps:
    1. Open http://127.0.0.1:8080 and press Generate Wallet. Keep the private key.
    2. Press "Mine a block to this wallet": the node mines a block, and its reward is yours.
    3. Generate a second wallet, then pay it on Make Transaction and press Confirm.
    4. Open http://127.0.0.1:5000: the payment waits there; press Mine.

  Ctrl-C stops both.

EOF
"$target/blockchain_client" --port 8080 --node http://127.0.0.1:5000
