#!/usr/bin/env bash
# Instructions per decode + dispatch of a 64-byte QoS 1 PUBLISH (the `cargo bench` row
# "decode + dispatch"), counted by callgrind: unlike the time, the count does not move with the
# load of the machine, so it is the figure to compare two versions of the codec or session by.
# Needs valgrind (apt). Prints one line per protocol version.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "instructions: valgrind not found (apt install valgrind)" >&2; exit 1; }
bin=$(cargo bench --bench throughput --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$bin" ] || { echo "instructions: no benchmark binary" >&2; exit 1; }
count() { # version frames -> instructions of the whole run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --dispatch-only "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for v in 3.1.1 5.0; do
  # The difference of two runs cancels the set-up.
  small=$(count "$v" 1000)
  large=$(count "$v" 201000)
  echo "decode + dispatch, MQTT $v: $(((large - small) / 200000)) instructions per packet"
done
