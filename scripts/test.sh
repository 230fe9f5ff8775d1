#!/usr/bin/env bash
# The whole test suite, as CI runs it (after scripts/install-deps.sh):
#   fmt, clippy (native, wasm32), cargo test (native), fuzz (if available), build pkg/,
#   test servers up, browser tests in Rust (wasm-bindgen-test in headless Chromium),
#   browser tests in Node (playwright-core + node:test against pkg/), servers down.
# Every stage runs even when an earlier one failed (except those that need its output);
# the exit status is non-zero if any stage failed. A summary with timings ends the output.
#
# Env: WASMQTT_FUZZ_SECONDS (60; 0 skips fuzzing), WASMQTT_SKIP="fmt clippy-native ..." skips
#      stages by name.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Everything the stages need (idempotent and quick when already installed).
if [ -z "${WASMQTT_SKIP_INSTALL:-}" ]; then
  bash scripts/install-deps.sh || { echo "test.sh: installing the tools failed" >&2; exit 1; }
fi

tmp=$root/.ci/tmp
mkdir -p "$tmp"
logs=$tmp/logs
rm -rf "$logs" "$tmp/servers"
mkdir -p "$logs"

export CARGO_TERM_PROGRESS_WHEN=never
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASMQTT_CHROMIUM=${WASMQTT_CHROMIUM:-/usr/bin/chromium}

names=()
results=()
times=()
failed=0
total_start=$(date +%s)

# stage NAME TIMEOUT_SECONDS CMD... : runs CMD with a timeout, output shown and kept in a log.
# Exit 77 from CMD means skipped.
stage() {
  local name=$1 limit=$2
  shift 2
  local n=$((${#names[@]} + 1))
  names+=("$name")
  if [[ " ${WASMQTT_SKIP:-} " == *" $name "* ]]; then
    echo "=== [$n] $name: SKIPPED (WASMQTT_SKIP)"
    results+=("SKIP")
    times+=(0)
    return 0
  fi
  echo
  echo "=== [$n] $name: $*"
  local start status
  start=$(date +%s)
  timeout -k 20 "$limit" "$@" 2>&1 | tee "$logs/$n-$name.log"
  status=${PIPESTATUS[0]}
  times+=($(($(date +%s) - start)))
  if [ "$status" = 0 ]; then
    results+=("PASS")
  elif [ "$status" = 77 ]; then
    results+=("SKIP")
  else
    [ "$status" = 124 ] && echo "=== $name: TIMED OUT after ${limit}s"
    results+=("FAIL")
    failed=1
  fi
  echo "=== [$n] $name: ${results[-1]} in ${times[-1]}s"
  [ "$status" = 0 ]
}

skip_stage() {
  local name=$1 why=$2
  names+=("$name")
  results+=("SKIP")
  times+=(0)
  echo
  echo "=== [${#names[@]}] $name: SKIPPED ($why)"
}

# ------------------------------------------------------------------ servers
servers_pid=""
stop_servers() {
  if [ -n "$servers_pid" ]; then
    kill -TERM "$servers_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$servers_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$servers_pid" 2>/dev/null || true
    servers_pid=""
  fi
  # Brokers whose owner died: kill by recorded PID, only if it still is a mosquitto.
  if [ -f "$tmp/server-pids" ]; then
    while read -r pid; do
      if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = mosquitto ]; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$tmp/server-pids"
    rm -f "$tmp/server-pids"
  fi
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

start_servers() {
  rm -f "$tmp/servers.env" "$tmp/server-pids"
  node tests/browser/servers.mjs --write-env "$tmp/servers.env" --pid-file "$tmp/server-pids" \
    --state-dir "$tmp/servers" --static >"$logs/servers.log" 2>&1 &
  servers_pid=$!
  for _ in $(seq 300); do
    [ -f "$tmp/servers.env" ] && break
    kill -0 "$servers_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -f "$tmp/servers.env" ]; then
    echo "test servers did not start:"
    cat "$logs/servers.log"
    return 1
  fi
  cat "$logs/servers.log"
  # shellcheck disable=SC1091
  source "$tmp/servers.env"
}

# Browser tests in Rust: the tests/*.rs files that configure wasm-bindgen-test for a browser.
wasm_browser_tests() {
  local args=()
  for f in tests/*.rs; do
    grep -q 'wasm_bindgen_test_configure!' "$f" && args+=(--test "$(basename "$f" .rs)")
  done
  if [ ${#args[@]} = 0 ]; then
    echo "no wasm browser tests in tests/"
    return 77
  fi
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$root/webdriver.json" \
    WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120} \
    cargo test --target wasm32-unknown-unknown "${args[@]}"
}

# ------------------------------------------------------------------ stages
stage fmt 300 cargo fmt --all --check
stage clippy-native 1200 cargo clippy --quiet --all-targets -- -D warnings
stage clippy-wasm 1200 cargo clippy --quiet --lib --target wasm32-unknown-unknown -- -D warnings
stage test-native 1800 cargo test
stage fuzz $((${WASMQTT_FUZZ_SECONDS:-60} + 1200)) bash -c '
  [ "${WASMQTT_FUZZ_SECONDS:-60}" = 0 ] && { echo "fuzz: SKIPPED (WASMQTT_FUZZ_SECONDS=0)"; exit 77; }
  exec scripts/fuzz.sh decode "${WASMQTT_FUZZ_SECONDS:-60}"'
pkg_ok=0
stage build-pkg 1200 scripts/build-pkg.sh && pkg_ok=1

echo
echo "=== starting test servers (brokers, proxy, static files)"
if start_servers; then
  export -f wasm_browser_tests
  export root
  stage browser-wasm 1500 bash -c wasm_browser_tests
  if [ "$pkg_ok" = 1 ]; then
    stage browser-node 1200 node tests/browser/run.mjs
  else
    skip_stage browser-node "pkg/ did not build"
  fi
  if [[ " ${results[*]: -2} " == *" FAIL "* ]]; then
    for f in "$tmp"/servers/*/mosquitto.log; do
      [ -f "$f" ] || continue
      echo "--- last lines of ${f#"$root"/}"
      tail -n 20 "$f"
    done
  fi
else
  failed=1
  skip_stage browser-wasm "servers did not start"
  skip_stage browser-node "servers did not start"
fi
stop_servers

# The benchmark's harness with all three clients, briefly (it starts its own broker): a lost or
# duplicated message or a failed job fails the stage; no speed target is judged here.
if [ "$pkg_ok" = 1 ]; then
  stage bench-smoke 600 bash -c 'node bench/run.mjs --quick --n 1000 --warm 200 \
    --only pub-q0,pub-q1,pub-q2,lat-q0,lat-q0-mix,recv-q1 --check --out "$1" && node bench/pool.mjs "$1"' \
    _ "$tmp/bench-smoke.json"
else
  skip_stage bench-smoke "pkg/ did not build"
fi

# ------------------------------------------------------------------ summary
# Test counts from the runners' own closing lines: cargo/wasm-bindgen-test "test result: ...",
# node:test "ℹ pass N" / "ℹ fail N" / "ℹ skipped N".
count() {
  local pattern=$1
  cat "$logs"/*.log 2>/dev/null | grep -oE "$pattern" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}'
}
passed=$(($(count 'test result: [a-zA-Z]+\. [0-9]+ passed') + $(count '^ℹ pass [0-9]+')))
failed_tests=$(($(count '; [0-9]+ failed;') + $(count '^ℹ fail [0-9]+')))
skipped=$(($(count '; [0-9]+ ignored;') + $(count '^ℹ skipped [0-9]+')))

echo
echo "================ summary ================"
for i in "${!names[@]}"; do
  printf '  %-15s %-5s %5ss\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
done
echo "  total time: $(($(date +%s) - total_start))s; logs in .ci/tmp/logs/"
if [ "$failed" != 0 ]; then
  echo "  FAILED stages: $(for i in "${!names[@]}"; do [ "${results[$i]}" = FAIL ] && printf '%s ' "${names[$i]}"; done)"
fi
echo "tests: $passed passed, $failed_tests failed, $skipped skipped"
exit "$failed"
