#!/usr/bin/env bash
# The demo: installs what is needed, builds pkg/, starts a mosquitto with a WebSocket listener
# on loopback (port 9001 when free) and serves the repository root on loopback (port 8080 when
# free), then prints the page's URL and keeps running until Ctrl-C (which stops the broker).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build-pkg.sh

mkdir -p .ci/tmp
envfile=$(mktemp .ci/tmp/demo-env.XXXXXX)
rm -f "$envfile"
node tests/browser/servers.mjs --ws-port "${WASMQTT_DEMO_WS_PORT:-9001}" --static-port "${WASMQTT_DEMO_HTTP_PORT:-8080}" \
  --no-auth --no-proxy --write-env "$envfile" &
servers=$!
feed=""
cleanup() {
  [ -n "$feed" ] && kill -TERM "$feed" 2>/dev/null || true
  kill -TERM "$servers" 2>/dev/null || true
  wait "$servers" 2>/dev/null || true
  rm -f "$envfile"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

for _ in $(seq 300); do
  [ -f "$envfile" ] && break
  kill -0 "$servers" 2>/dev/null || { echo "demo: the servers did not start" >&2; exit 1; }
  sleep 0.1
done
# shellcheck disable=SC1090
source "$envfile"
# Simulated sensors, so the dashboard has something live to show.
node scripts/demo-feed.mjs "$WASMQTT_TEST_TCP_URL" &
feed=$!
echo
echo "demo: broker (WebSocket) $WASMQTT_TEST_WS_URL   (TCP $WASMQTT_TEST_TCP_URL, e.g. mosquitto_pub -h 127.0.0.1 -p ${WASMQTT_TEST_TCP_URL##*:} -t demo/t -m hi)"
echo "demo: open $WASMQTT_TEST_STATIC_URL/www/index.html?broker=$WASMQTT_TEST_WS_URL"
echo "demo: Ctrl-C stops the broker and the server"
wait "$servers"
