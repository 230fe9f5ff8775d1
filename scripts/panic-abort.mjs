// Replaces the body of every panic entry point in the wasm with `unreachable`: the wasm gets what
// nightly Rust calls `panic_immediate_abort`, which stable Rust cannot build.
//
//   node scripts/panic-abort.mjs IN.wasm OUT.wasm
//
// Why it changes nothing a user can see: the release build has `panic = "abort"`, and on
// wasm32-unknown-unknown the standard library's panic hook writes to a stderr that does not
// exist, so a panic already ends in `unreachable` (a `RuntimeError` in JS) with its message
// formatted for no one. Formatting that message is what keeps `core::fmt` (padding, integer
// Display, the payload types) in the module; without the bodies wasm-opt drops about 1.2 KB of
// gzip. (No input is meant to make the crate panic: a panic is a bug, with or without a message.)
//
// Runs on wasm-bindgen's output, which still has the name section (Cargo.toml keeps symbols,
// wasm-opt strips them later). Fails when it finds none of the entry points, so a toolchain
// that renames them cannot silently undo the saving.

import { readFileSync, writeFileSync } from "node:fs";
import binaryen from "binaryen";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/panic-abort.mjs IN.wasm OUT.wasm");
  process.exit(2);
}

// Symbol paths (the crate hash in brackets removed) of functions that exist only to panic or
// to format a panic message.
const FMT_PATHS = [
  /^core::fmt::/,
  /^<core::fmt::/,
  / as core::fmt::(Display|Debug|Write)>::/,
  /^core::str::count::do_count_chars$/,
];
const PANIC_PATHS = [
  /rust_begin_unwind$/, // std's #[panic_handler]
  /^(core|std)::panicking::/,
  /^<std::panicking::/,
  /^core::ptr::drop_in_place::<std::panicking::/,
  /^std::sys::backtrace::__rust_end_short_backtrace::<std::panicking::/,
  /^core::cell::(lazy::)?panic_/,
  /^std::thread::local::panic_access_error$/,
  /^core::slice::index::slice_[a-z_]*fail$/,
  /^core::option::(expect|unwrap)_failed$/,
  /^core::result::unwrap_failed$/,
  // core::fmt: the crate formats no text with it (codec::text builds every message), so what is
  // left of it serves only panic messages and the Display/Debug impls that std's panic and
  // RefCell/thread-local errors put in vtables. Those vtables keep it alive through the function
  // table, which wasm-opt cannot prune: about 1.9 KB of gzip.
  ...FMT_PATHS,
];

// The source file names of panic locations (`core::panic::Location`) are read only by the panic
// handler, stubbed below: zeroed here, wasm-opt's memory packing drops them (about 0.3 KB of
// gzip). Only within the data section, and only whole `<path>.rs` strings.
const bytes = readFileSync(input);
const PATHS = /(?:\/rustc\/[0-9a-f]{40}|\/[\w.\/-]*\/registry\/src\/[\w.-]+|src)\/[\w\/.-]*?\.rs/g;
for (let p = 8; p < bytes.length; ) {
  const id = bytes[p++];
  let size = 0;
  for (let shift = 0, b = 128; b & 128; shift += 7) size += ((b = bytes[p++]) & 127) * 2 ** shift;
  if (id === 11) {
    const text = bytes.subarray(p, p + size).toString("latin1");
    for (const m of text.matchAll(PATHS)) bytes.fill(0, p + m.index, p + m.index + m[0].length);
  }
  p += size;
}
const module = binaryen.readBinary(bytes);
const F = binaryen.Features;
module.setFeatures(
  F.BulkMemory | F.BulkMemoryOpt | F.ReferenceTypes | F.SignExt | F.NontrappingFPToInt | F.MutableGlobals | F.Multivalue,
);

const stubs = [];
for (let i = 0; i < module.getNumFunctions(); i++) {
  const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
  if (info.module) continue; // an import
  const path = info.name.replace(/\[[0-9a-f]+\]/g, "");
  if (PANIC_PATHS.some((re) => re.test(path))) stubs.push(info);
}
if (!stubs.some((f) => /rust_begin_unwind$/.test(f.name))) {
  console.error("panic-abort: no rust_begin_unwind in the name section (names stripped?)");
  process.exit(1);
}
// The fmt stubs are safe only while nothing but the other stubs calls them directly (the
// table's indirect calls come from panic formatting): a `format!` or `to_string()` in the crate
// would call core::fmt and then trap. Checked on the text form, where each call names its callee.
const stubbed = new Set(stubs.map((f) => f.name));
const isFmt = (name) => FMT_PATHS.some((re) => re.test(name.replace(/\[[0-9a-f]+\]/g, "")));
const unquote = (name) => name.replace(/^\$"?|"$/g, "");
let caller = null;
const direct = new Set();
for (const line of module.emitText().split("\n")) {
  const func = line.match(/^ \(func (\$"[^"]*"|\$\S+)/);
  if (func) caller = unquote(func[1]);
  const call = line.match(/\(call (\$"[^"]*"|\$\S+)/);
  if (call && caller && !stubbed.has(caller) && isFmt(unquote(call[1]))) direct.add(`${caller} -> ${unquote(call[1])}`);
}
if (direct.size > 0) {
  console.error("panic-abort: the crate calls core::fmt (format!, write!, to_string?); build text with codec::text:");
  for (const d of direct) console.error(`  ${d}`);
  process.exit(1);
}
for (const f of stubs) {
  // Same name and signature, body `unreachable`: every call site stays valid.
  module.removeFunction(f.name);
  module.addFunction(f.name, f.params, f.results, [], module.unreachable());
}
if (!module.validate()) {
  console.error("panic-abort: the rewritten module does not validate");
  process.exit(1);
}
writeFileSync(output, module.emitBinary());
console.log(`panic-abort: ${stubs.length} panic functions now trap at once`);
