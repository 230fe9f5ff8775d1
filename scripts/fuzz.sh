#!/usr/bin/env bash
# Runs one cargo-fuzz target for a while: scripts/fuzz.sh [TARGET] [SECONDS]  (decode, 60)
# Exits 77 (skipped) when fuzz/, the target, cargo-fuzz or a nightly toolchain is missing:
# nothing is installed here (CI does not fetch a nightly toolchain).
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-decode}
seconds=${2:-60}

skip() {
  echo "fuzz: SKIPPED: $*"
  exit 77
}

[ -d fuzz ] || skip "no fuzz/ directory"
[ -f fuzz/Cargo.toml ] || skip "no fuzz/Cargo.toml"
cargo fuzz --version >/dev/null 2>&1 || skip "cargo-fuzz is not installed (cargo install cargo-fuzz)"
rustup toolchain list 2>/dev/null | grep -q '^nightly' || skip "no nightly toolchain (cargo-fuzz needs one)"
cargo +nightly fuzz list 2>/dev/null | grep -qx "$target" || skip "no fuzz target '$target' (cargo fuzz list: $(cargo +nightly fuzz list 2>/dev/null | tr '\n' ' '))"

dict=()
for d in "fuzz/$target.dict" fuzz/mqtt.dict; do
  if [ -f "$d" ]; then dict=("-dict=$d"); break; fi
done

echo "fuzz: cargo +nightly fuzz run $target for ${seconds}s ${dict[*]}"
# Runs on fuzz/corpus/TARGET (cargo-fuzz's default). -max_total_time stops libFuzzer;
# `timeout` guards against a hung build or run. Progress lines and libFuzzer's recommended
# dictionary are filtered out.
set +e
timeout -k 30 $((seconds + 900)) \
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -print_final_stats=1 "${dict[@]}" 2>&1 |
  grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED|RELOAD)|^[[:space:]]+NEW_FUNC|^".*" # Uses: [0-9]+$'
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ]; then
  echo "fuzz: FAILED (exit $status); a crash input is under fuzz/artifacts/$target/"
  exit 1
fi
echo "fuzz: $target ran ${seconds}s without a crash"
