#!/usr/bin/env bash
# A local network in one command: N nodes on 127.0.0.1:5000, 5001, … (each registers with
# every earlier one, and registration goes both ways, so they are all linked) and one wallet
# client on 127.0.0.1:8080 talking to the first node. Release builds; each chain under
# ./data/node-<port>/. Arguments after N go to every node (for example --mine). Ctrl-C stops
# everything.
#
#   scripts/devnet.sh 3
set -euo pipefail
cd "$(dirname "$0")/.."

count="${1:-3}"
if ! [[ "$count" =~ ^[0-9]+$ ]] || (( count < 1 || count > 50 )); then
  echo "usage: scripts/devnet.sh N [node flags…]   (N nodes, 1 to 50)" >&2
  exit 2
fi
shift || true

cargo build --release -p blockchain_node -p blockchain_client
target="${CARGO_TARGET_DIR:-target}/release"

pids=()
stop_all() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all EXIT INT TERM

# Each app's output, every line labelled with which app wrote it ("node 5001", "wallet").
# The labeller ignores Ctrl-C, so it outlives its app and passes on the app's last lines;
# it ends when the app closes its output.
labelled() {
  trap '' INT
  sed -u "s/^/$(printf '%-9s' "$1")| /"
}

# Waits until something listens on 127.0.0.1:$1, or fails if process $2 exits first.
wait_for_port() {
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then echo "the process for port $1 exited; see its log above" >&2; exit 1; fi
    sleep 0.1
  done
  echo "nothing listens on port $1 after 20 s" >&2
  exit 1
}

nodes=()
for ((i = 0; i < count; i++)); do
  port=$((5000 + i))
  peers=()
  for url in "${nodes[@]}"; do peers+=(--peer "$url"); done
  "$target/blockchain_node" --port "$port" "${peers[@]}" "$@" > >(labelled "node $port") 2>&1 &
  pids+=($!)
  wait_for_port "$port" "$!"
  nodes+=("http://127.0.0.1:$port")
done

"$target/blockchain_client" --port 8080 --node "${nodes[0]}" > >(labelled "wallet") 2>&1 &
pids+=($!)
wait_for_port 8080 "$!"

echo
for ((i = 0; i < count; i++)); do
  printf '  node:   %s  Mine dashboard (live), Configure\n' "${nodes[$i]}"
done
cat <<'TEXT'
  wallet: http://127.0.0.1:8080  Wallet Generator, Make Transaction, View Transactions, Wallet Balance

  First steps:
    1. Open http://127.0.0.1:8080 and press Generate Wallet. Keep the private key.
    2. Press "Mine a block to this wallet": the node mines a block, and its reward is yours.
    3. Generate a second wallet, then pay it on Make Transaction and press Confirm.
    4. Open http://127.0.0.1:5000: the payment waits there; press Mine.

  Ctrl-C stops everything.

TEXT
# Runs until Ctrl-C, or until one of the apps stops.
wait -n "${pids[@]}"
