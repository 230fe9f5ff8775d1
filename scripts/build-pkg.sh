#!/usr/bin/env bash
# Builds the npm package into pkg/:
#   cargo build (release, wasm32) -> wasm-bindgen --target web -> panics trap at once
#   (scripts/panic-abort.mjs) -> wasm-opt -Oz (npm binaryen)
#   -> the JS snippet into the glue (scripts/inline-snippets.mjs) -> short import/export names
#   (scripts/minify-names.mjs) -> terser -> pkg/package.json, then prints the sizes.
# Idempotent: when the compiled wasm, the tools and the hand-written .d.ts are unchanged and
# pkg/ is complete, the wasm-bindgen and wasm-opt steps are skipped.
#
# Env: WASMQTT_NO_WASM_OPT=1 skips wasm-opt (debugging only: a release is always optimized).
#      WASMQTT_FORCE=1 redoes every step.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

out=pkg
name=wasmqtt
wasm_in=target/wasm32-unknown-unknown/release/$name.wasm
stamp=target/wasmqtt-pkg.stamp
wasm_opt=$root/node_modules/.bin/wasm-opt
# Debian's binaryen 108 corrupts wasm-bindgen's table exports; only the npm package is used.
wasm_opt_flags=(--enable-bulk-memory --enable-reference-types --enable-sign-ext
  --enable-nontrapping-float-to-int --enable-mutable-globals --enable-multivalue)

log() { echo "build-pkg: $*"; }

command -v wasm-bindgen >/dev/null 2>&1 || {
  echo "build-pkg: wasm-bindgen not found: run scripts/install-deps.sh" >&2
  exit 1
}

log "cargo build --release --target wasm32-unknown-unknown --lib"
cargo build --release --target wasm32-unknown-unknown --lib --quiet

version=$(awk '
  /^\[/ { in_pkg = ($0 == "[package]") }
  in_pkg && /^version[ \t]*=/ { gsub(/^version[ \t]*=[ \t]*"|".*$/, ""); print; exit }
' Cargo.toml)
[ -n "$version" ] || { echo "build-pkg: no version in Cargo.toml [package]" >&2; exit 1; }

use_opt=0
if [ -x "$wasm_opt" ] && [ -z "${WASMQTT_NO_WASM_OPT:-}" ]; then use_opt=1; fi
if [ "$use_opt" = 0 ] && [ -z "${WASMQTT_NO_WASM_OPT:-}" ]; then
  log "WARNING: node_modules/binaryen missing (npm ci): pkg/ is NOT size-optimized"
fi

dts_src=src/js/wasmqtt.d.ts
# Everything that determines pkg/'s content.
want_stamp=$(
  {
    sha256sum "$wasm_in"
    wasm-bindgen --version
    echo "opt=$use_opt"
    if [ "$use_opt" = 1 ]; then "$wasm_opt" --version; echo "${wasm_opt_flags[*]}"; fi
    [ -x "$root/node_modules/.bin/terser" ] && "$root/node_modules/.bin/terser" --version
    [ -f "$dts_src" ] && sha256sum "$dts_src"
    echo "version=$version"
    sha256sum "$0" scripts/minify-names.mjs scripts/panic-abort.mjs scripts/inline-snippets.mjs
  } | sha256sum | cut -d' ' -f1
)

complete=1
for f in $name.js ${name}_bg.wasm $name.d.ts package.json; do
  [ -f "$out/$f" ] || complete=0
done

# The stamp also names the pkg/ wasm it made: a pkg/ replaced by hand (say, by another build's
# copy) is rebuilt instead of being called up to date.
pkg_wasm_hash() { [ -f "$out/${name}_bg.wasm" ] && sha256sum "$out/${name}_bg.wasm" | cut -d' ' -f1; }
if [ -z "${WASMQTT_FORCE:-}" ] && [ "$complete" = 1 ] && [ -f "$stamp" ] &&
  [ "$(cat "$stamp")" = "$want_stamp $(pkg_wasm_hash)" ]; then
  log "pkg/ is up to date"
else
  rm -f "$stamp"
  rm -rf "$out"
  log "wasm-bindgen --target web --out-dir $out --out-name $name $wasm_in"
  wasm-bindgen --target web --out-dir "$out" --out-name "$name" "$wasm_in"

  # Size guard: a str index or slice that can panic links core's slice-error
  # formatting (char Debug, unicode tables: about 3 KB of gzip). The release
  # module keeps its names until wasm-opt, so the symbol shows whether one crept in.
  if grep -aq 'slice_error_fail' "$out/${name}_bg.wasm"; then
    echo "build-pkg: the module links core::str::slice_error_fail: a str index (&s[a..b]) can panic;" >&2
    echo "build-pkg: use s.get(a..b), split_at_checked or strip_prefix instead" >&2
    exit 1
  fi

  if [ "$use_opt" = 1 ]; then
    # Panics trap at once instead of formatting a message no one sees (see the script).
    node scripts/panic-abort.mjs "$out/${name}_bg.wasm" "$out/${name}_bg.abort.wasm"
    mv "$out/${name}_bg.abort.wasm" "$out/${name}_bg.wasm"
    log "wasm-opt -Oz ($("$wasm_opt" --version))"
    # No names/debug info, producers or target_features sections in the release module.
    # --flatten --rereloop first (the Relooper rebuilds the control flow from flat IR) and a
    # second -Oz pipeline: about 0.3 KB of gzip each; in an alternated A/B the result was as
    # fast or faster (bench/README.md, fourth round).
    "$wasm_opt" --flatten --rereloop -Oz -Oz "${wasm_opt_flags[@]}" --strip-debug --strip-producers --strip-target-features \
      "$out/${name}_bg.wasm" -o "$out/${name}_bg.opt.wasm"
    mv "$out/${name}_bg.opt.wasm" "$out/${name}_bg.wasm"
  fi

  # The snippet goes into the glue module: one file less to fetch, one gzip stream, its
  # names minified with the glue's; the glue exports its MqttError (see the script).
  node scripts/inline-snippets.mjs "$out" "$name"

  # One- or two-letter import/export names instead of wasm-bindgen's hashed ones (and the
  # snippet's module name), in the wasm and the glue alike (about 3 KB of gzip; see the script).
  log "minify-names"
  node scripts/minify-names.mjs "$out/${name}_bg.wasm" "$out/$name.js"

  # The glue ships minified (terser, npm): readable, with support.js, it is about 55 KB raw.
  terser=$root/node_modules/.bin/terser
  if [ -x "$terser" ]; then
    log "terser (glue JS)"
    while IFS= read -r js; do
      "$terser" "$js" --module --compress passes=2 --mangle -o "$js.min"
      mv "$js.min" "$js"
    done < <(find "$out" -name '*.js')
  else
    log "WARNING: node_modules/terser missing (npm ci): the glue JS is NOT minified"
  fi

  if [ -f "$dts_src" ]; then
    # The hand-written declaration is complete (it declares the default init export too).
    log "using hand-written $dts_src as $out/$name.d.ts"
    cp "$dts_src" "$out/$name.d.ts"
  fi

  files=("$name.js" "${name}_bg.wasm" "$name.d.ts")
  [ -f "$out/${name}_bg.wasm.d.ts" ] && files+=("${name}_bg.wasm.d.ts")
  files_json=$(printf '"%s",' "${files[@]}")
  files_json="[${files_json%,}]"
  cat >"$out/package.json" <<EOF
{
  "name": "$name",
  "version": "$version",
  "description": "MQTT 3.1.1 / 5.0 client for the browser, in Rust compiled to WebAssembly",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "$name.js",
  "module": "$name.js",
  "types": "$name.d.ts",
  "files": $files_json,
  "sideEffects": false
}
EOF
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$out/package.json"
  echo "$want_stamp $(pkg_wasm_hash)" >"$stamp"
fi

size() { stat -c %s "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }
wasm_raw=$(size "$out/${name}_bg.wasm"); wasm_gz=$(gz "$out/${name}_bg.wasm")
js_raw=$(size "$out/$name.js"); js_gz=$(gz "$out/$name.js")
opt_note="wasm-opt -Oz"; [ "$use_opt" = 1 ] || opt_note="NOT optimized"
log "sizes ($opt_note):"
printf '  %-20s %9d B raw %9d B gzip -9\n' "${name}_bg.wasm" "$wasm_raw" "$wasm_gz"
printf '  %-20s %9d B raw %9d B gzip -9\n' "$name.js" "$js_raw" "$js_gz"
printf '  %-20s %9d B raw %9d B gzip -9\n' "total" "$((wasm_raw + js_raw))" "$((wasm_gz + js_gz))"

# Size budget (gzip -9 of everything a page loads: the glue, which holds the JS snippet, and the
# wasm). The target is 60 KB; this line only keeps what was won: raise it on purpose, with the
# reason in the commit, never silently.
budget=${WASMQTT_SIZE_BUDGET:-59620}
total_gz=$((wasm_gz + js_gz))
if [ "$use_opt" = 1 ] && [ "$total_gz" -gt "$budget" ]; then
  echo "build-pkg: pkg/ is $total_gz B gzip, over the budget of $budget B (WASMQTT_SIZE_BUDGET)" >&2
  exit 1
fi
