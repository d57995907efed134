#!/usr/bin/env bash
# Fuzzes the node's API with schemathesis (PyPI), a property-based fuzzer for OpenAPI that
# no one here wrote: it reads the live node's GET /openapi.json and sends every operation
# generated valid and invalid requests, checking that the node never answers 5xx and that
# every status, content type and body is one the document declares.
#
# The node and the fuzzer run in a network namespace of their own with only a loopback
# interface, so no peer URL the fuzzer invents (POST /nodes/register, /nodes/resolve) can
# be contacted. That needs root and `ip` (iproute2): without them the script says so and
# skips. Two runs, each against a fresh node on a fresh data dir:
#   1. every operation but GET /events (a never-ending stream) and POST /settings;
#   2. POST /settings alone: it may raise the mining difficulty to one that makes every
#      later POST /mine take hours, so it never shares a node with /mine.
# The last line is "N passed" (schemathesis' tests: one per operation, one per stateful
# phase), "0 passed" when skipped.
# Exits non-zero when schemathesis finds a failure. Usage: scripts/fuzz.sh [NODE_BINARY]
#
# schemathesis lives in a Python environment made (or reused) under the target dir:
# $FUZZ_VENV, else $CARGO_TARGET_DIR/fuzz-venv, else target/fuzz-venv. FUZZ_EXAMPLES
# (default 50) sets the test cases per operation and phase.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
node_binary="${1:-$target/debug/blockchain_node}"
venv="${FUZZ_VENV:-$target/fuzz-venv}"
examples="${FUZZ_EXAMPLES:-50}"
schemathesis_version=4.32.5

skip() {
  echo "fuzz: SKIPPED, $1: the API was not fuzzed" >&2
  echo "0 passed"
  exit 0
}
[ "$(id -u)" = 0 ] || skip "not root (a network namespace needs root)"
command -v ip >/dev/null 2>&1 || skip "'ip' is missing (apt-get install iproute2)"
[ -x "$node_binary" ] || { echo "fuzz: no node binary at $node_binary (cargo build -p blockchain_node)" >&2; exit 1; }

# The Python environment, made once (scripts/python-venv.sh, as for the original apps).
fuzz_python="$(bash "$root/scripts/python-venv.sh" "$venv" \
  "import importlib.metadata as m; assert m.version('schemathesis') == '$schemathesis_version'" \
  "schemathesis==$schemathesis_version")"
schemathesis="$(dirname "$fuzz_python")/schemathesis"

# A namespace with loopback only, a temp dir, and a node; all removed on exit.
ns="fuzz-$$-$RANDOM"
work="$(mktemp -d)"
node_pid=
cleanup() {
  if [ -n "$node_pid" ]; then
    kill "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
echo "fuzz: network namespace $ns: $(ip -n "$ns" -brief link | awk '{ print $1 }' | paste -sd' ')" >&2

# Starts a node on a fresh data dir and an ephemeral port in the namespace; sets $url.
start_node() {
  local run="$work/$1"
  mkdir -p "$run"
  ip netns exec "$ns" "$node_binary" --port 0 --data-dir "$run/data" \
    >"$run/stdout" 2>"$run/node.log" &
  node_pid=$!
  url=
  for _ in $(seq 100); do
    url="$(grep -Eo 'http://[0-9.]+:[0-9]+' "$run/stdout" 2>/dev/null | head -1 || true)"
    [ -n "$url" ] && return 0
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "fuzz: the node did not start; its log:" >&2
  cat "$run/node.log" >&2
  exit 1
}

stop_node() {
  kill "$node_pid" 2>/dev/null || true
  wait "$node_pid" 2>/dev/null || true
  node_pid=
}

# A number attribute of an XML tag's text, 0 when absent.
attribute() {
  local value
  value="$(grep -Eo " $1=\"[0-9]+\"" <<<"$2" | grep -Eo '[0-9]+' || true)"
  echo "${value:-0}"
}

passed=0
failed=0
# Runs schemathesis in the namespace against the node at $url; adds its operations'
# outcomes to $passed and $failed.
fuzz() {
  local name="$1"
  shift
  local status=0
  # From the temp dir: schemathesis keeps its caches (.hypothesis, .schemathesis) there.
  # One worker: with two, CPython 3.11's ast.parse, which hypothesis calls to describe its
  # strategies, raced between threads ("AST constructor recursion depth mismatch").
  (cd "$work" && ip netns exec "$ns" "$schemathesis" run "$url/openapi.json" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
    --max-examples "$examples" \
    --workers 1 \
    --request-timeout 30 \
    --no-color \
    --report junit --report-junit-path "$work/$name.xml" \
    "$@") >&2 || status=$?
  # JUnit: one test per operation, and one for the stateful phase.
  local totals tests bad
  totals="$(grep -o '<testsuites [^>]*' "$work/$name.xml" 2>/dev/null || true)"
  tests=$(attribute tests "$totals")
  bad=$(($(attribute failures "$totals") + $(attribute errors "$totals")))
  echo "fuzz: $name: schemathesis exited $status; $tests tests, $bad failed" >&2
  if ! kill -0 "$node_pid" 2>/dev/null; then
    echo "fuzz: $name: the node died during the run" >&2
    status=1
  fi
  if [ "$status" != 0 ]; then
    failed=$((failed + 1))
    echo "fuzz: the node's log ($name):" >&2
    grep -v ' INFO ' "$work/$name/node.log" | tail -50 >&2 || true
  fi
  passed=$((passed + tests - bad))
}

start=$SECONDS
start_node api
fuzz api --exclude-path /events --exclude-operation-id update
stop_node
start_node settings
fuzz settings --include-operation-id update
stop_node
echo "fuzz: $((SECONDS - start)) s" >&2
echo "$passed passed"
[ "$failed" = 0 ]
