#!/usr/bin/env bash
# Installs every tool the build, the demo and the tests need, idempotently.
# Safe to run on a fresh Debian machine as root (CI) or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v mosquitto >/dev/null 2>&1 || need_apt+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need_apt+=(mosquitto-clients)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# The Debian package enables a system-wide broker on 1883; tests start their own.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop mosquitto >/dev/null 2>&1 || true; fi

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
wb_version=${wb_version:-0.2.130}
if ! { wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wb_version" &&
  wasm-bindgen-test-runner --version 2>/dev/null | grep -qx "wasm-bindgen-test-runner $wb_version"; }; then
  # Not --locked: the CLI's lockfile pins webpki-roots 1.0.11, which the registry mirror here
  # lacks; cargo's resolution picks a semver-compatible one that exists. The slowest install
  # step (several minutes on 2 cores).
  echo "install-deps: cargo install wasm-bindgen-cli $wb_version (slow: several minutes)"
  started=$(date +%s)
  cargo install wasm-bindgen-cli --version "$wb_version" --quiet
  echo "install-deps: wasm-bindgen-cli built in $(($(date +%s) - started)) s"
fi

# cargo-fuzz for the fuzz stage (scripts/fuzz.sh). It needs a nightly toolchain, which cannot be
# fetched here: installed only where one is already on the machine (about 1 minute). A failed
# install is not fatal: the fuzz stage then says it skipped, and `cargo test` still replays the
# committed corpus.
if rustup toolchain list 2>/dev/null | grep -q '^nightly' && ! cargo fuzz --version >/dev/null 2>&1; then
  echo "install-deps: cargo install cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet || echo "install-deps: cargo-fuzz did not install; the fuzz stage will skip" >&2
fi

command -v node >/dev/null 2>&1 || {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
}

if [ -f package.json ]; then
  # npm writes node_modules/.package-lock.json on every install: it is the stamp.
  stamp=node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
    echo "install-deps: npm install"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  fi
fi
