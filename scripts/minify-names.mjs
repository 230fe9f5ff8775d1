// Shortens the names that link the wasm module to its JS glue (used by build-pkg.sh).
//
// wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` under the module
// "./<name>_bg.js", and closure exports `wasm_bindgen__convert__closures_____invoke__h<hash>`.
// Each name is written twice (wasm import section, glue import object) and the hashes do
// not compress: about 2 KB of gzip for the package. This renames them consistently in both
// files to one or two letters. `memory` keeps its name (InitOutput in the .d.ts declares it).
//
// A name is renamed only when the glue uses it exactly where expected (an import as one
// object key, an export only as `wasm.<name>`, never in a string or another property access); anything else leaves it alone, so a
// wasm-bindgen upgrade that changes the glue makes this do less, never break the package.
//
// Usage: node scripts/minify-names.mjs <module>_bg.wasm <module>.js
import { readFileSync, writeFileSync } from "node:fs";

const [wasmPath, jsPath] = process.argv.slice(2);
if (!wasmPath || !jsPath) {
  console.error("usage: minify-names.mjs <wasm> <js>");
  process.exit(2);
}
const bytes = readFileSync(wasmPath);
let js = readFileSync(jsPath, "utf8");

// --- wasm reading/writing (only what the import and export sections need)
function uleb(buf, pos) {
  let result = 0, shift = 0, b;
  do {
    b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [result, pos];
}
function ulebBytes(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const enc = new TextEncoder(), dec = new TextDecoder();
function name(buf, pos) {
  const [len, p] = uleb(buf, pos);
  return [dec.decode(buf.subarray(p, p + len)), p + len];
}
const nameBytes = (s) => { const b = enc.encode(s); return [...ulebBytes(b.length), ...b]; };

// Skips an import descriptor (function, table, memory, global, tag).
function skipDesc(buf, p) {
  const kind = buf[p++];
  const limits = (q) => { const flags = buf[q++]; [, q] = uleb(buf, q); if (flags & 1) [, q] = uleb(buf, q); return q; };
  switch (kind) {
    case 0: return uleb(buf, p)[1];
    case 1: return limits(p + 1);
    case 2: return limits(p);
    case 3: return p + 2;
    case 4: return uleb(buf, p + 1)[1];
    default: throw new Error(`minify-names: unknown import kind ${kind}`);
  }
}

const sections = [];
for (let p = 8; p < bytes.length;) {
  const id = bytes[p];
  const [size, body] = uleb(bytes, p + 1);
  sections.push({ id, body: bytes.subarray(body, body + size) });
  p = body + size;
}

// --- short names: a..z, A..Z, then two letters
const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
function* shortNames(taken) {
  for (const a of letters) if (!taken.has(a)) yield a;
  for (const a of letters) for (const b of letters) if (!taken.has(a + b)) yield a + b;
}
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const count = (re) => (js.match(re) || []).length;
// A name as a whole identifier (not a prefix of a longer one).
const whole = (s) => `(?<![\\w$])${escape(s)}(?![\\w$])`;

let saved = 0;

// --- imports: module names and field names
const imp = sections.find((s) => s.id === 2);
if (imp) {
  const buf = imp.body;
  let [n, p] = uleb(buf, 0);
  const entries = [];
  for (let i = 0; i < n; i++) {
    let module, field;
    [module, p] = name(buf, p);
    [field, p] = name(buf, p);
    const start = p;
    p = skipDesc(buf, p);
    entries.push({ module, field, desc: buf.subarray(start, p) });
  }
  // Modules: only a single module object key `"<module>": importN` is rewritten.
  const moduleMap = new Map();
  const modNames = shortNames(new Set());
  for (const m of new Set(entries.map((e) => e.module))) {
    const re = new RegExp(`"${escape(m)}":`, "g");
    if (count(re) === 1 && count(new RegExp(escape(m), "g")) === 1) {
      const short = modNames.next().value;
      js = js.replace(re, `"${short}":`);
      moduleMap.set(m, short);
    }
  }
  const fieldNames = shortNames(new Set(entries.map((e) => e.field)));
  const fieldMap = new Map();
  for (const e of entries) {
    if (fieldMap.has(e.field)) continue;
    const key = new RegExp(`${whole(e.field)}(?=\\s*:)`, "g");
    if (count(key) === 1 && count(new RegExp(whole(e.field), "g")) === 1) {
      const short = fieldNames.next().value;
      js = js.replace(key, short);
      fieldMap.set(e.field, short);
    }
  }
  const out = [...ulebBytes(n)];
  for (const e of entries) {
    out.push(...nameBytes(moduleMap.get(e.module) ?? e.module));
    out.push(...nameBytes(fieldMap.get(e.field) ?? e.field), ...e.desc);
  }
  saved += buf.length - out.length;
  imp.body = Uint8Array.from(out);
}

// --- exports (all but `memory`, which the .d.ts names)
const exp = sections.find((s) => s.id === 7);
if (exp) {
  const buf = exp.body;
  let [n, p] = uleb(buf, 0);
  const entries = [];
  for (let i = 0; i < n; i++) {
    let field;
    [field, p] = name(buf, p);
    const start = p;
    p = uleb(buf, p + 1)[1];
    entries.push({ field, desc: buf.subarray(start, p) });
  }
  const names = shortNames(new Set(entries.map((e) => e.field)));
  const out = [...ulebBytes(n)];
  for (const e of entries) {
    let field = e.field;
    const uses = new RegExp(`wasm\\.${escape(field)}(?![\\w$])`, "g");
    // Any other property access or string naming the export keeps it (a same-named
    // plain identifier, such as the glue's wrapper function, is unrelated).
    const named = new RegExp(`(?<=[.'"\`])${escape(field)}(?![\\w$])`, "g");
    if (field !== "memory" && count(uses) > 0 && count(uses) === count(named)) {
      const short = names.next().value;
      js = js.replace(uses, `wasm.${short}`);
      field = short;
    }
    out.push(...nameBytes(field), ...e.desc);
  }
  saved += buf.length - out.length;
  exp.body = Uint8Array.from(out);
}

const parts = [bytes.subarray(0, 8)];
for (const s of sections) parts.push(Uint8Array.from([s.id, ...ulebBytes(s.body.length)]), s.body);
const result = Buffer.concat(parts);
// The result must still be a valid module with the same number of imports and exports.
const before = new WebAssembly.Module(bytes), after = new WebAssembly.Module(result);
if (WebAssembly.Module.imports(before).length !== WebAssembly.Module.imports(after).length
  || WebAssembly.Module.exports(before).length !== WebAssembly.Module.exports(after).length) {
  throw new Error("minify-names: import/export count changed");
}
writeFileSync(wasmPath, result);
writeFileSync(jsPath, js);
console.log(`minify-names: ${saved} B of names removed from the wasm (the glue loses as many)`);
