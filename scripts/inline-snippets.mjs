// Puts the JS snippet (src/js/support.js) into the package's glue module (used by build-pkg.sh).
//
// wasm-bindgen ships each `#[wasm_bindgen(module = ...)]` file as its own module under
// snippets/, which the glue imports by name. As a separate file it costs a page one more
// module request, and it is minified and gzipped apart from the glue: its exported names stay
// long and the two files share no gzip dictionary. Inside the glue, in a function scope, terser
// shortens every name and one gzip stream covers both: about 0.8 KB of gzip for the package.
//
// The glue must import the snippet only in the two forms wasm-bindgen 0.2 writes:
//   import { a, b } from './snippets/<crate>-<hash>/src/js/support.js';   (functions the glue calls)
//   import * as importN from "./snippets/<crate>-<hash>/src/js/support.js"   (the wasm's own imports)
// Anything else (another snippet, another form) stops the build rather than ship a glue that
// imports a file no longer there.
//
// Usage: node scripts/inline-snippets.mjs <pkg dir> <module name>
import { readFileSync, writeFileSync, rmSync, readdirSync } from "node:fs";
import { join } from "node:path";

const [dir, name] = process.argv.slice(2);
if (!dir || !name) {
  console.error("usage: inline-snippets.mjs <pkg dir> <module name>");
  process.exit(2);
}
const fail = (why) => {
  console.error(`inline-snippets: ${why}`);
  process.exit(1);
};

const gluePath = join(dir, `${name}.js`);
let glue = readFileSync(gluePath, "utf8");

// Every snippet file wasm-bindgen wrote.
const snippets = [];
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else snippets.push(p);
  }
};
walk(join(dir, "snippets"));
if (snippets.length !== 1 || !snippets[0].endsWith("support.js")) {
  fail(`expected one snippet, support.js; found ${snippets.join(", ") || "none"}`);
}
const snippetPath = snippets[0];
const spec = "./" + snippetPath.slice(dir.length).replace(/^\/+/, "");
const quoted = `['"]${spec.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}['"]`;

// The snippet's exports, as written in support.js: `export function f`, `export class C`.
let support = readFileSync(snippetPath, "utf8");
const exported = [];
support = support.replace(/^export (function|class|const|let) ([A-Za-z_$][\w$]*)/gm, (_, kind, id) => {
  exported.push(id);
  return `${kind} ${id}`;
});
if (/^\s*(export|import)\b/m.test(support)) fail("support.js has an export or import form this script does not know");

// The glue's imports of it.
let named = null;
glue = glue.replace(new RegExp(`^import \\{([^}]*)\\} from ${quoted};?\\n`, "m"), (_, list) => {
  named = list.split(",").map((s) => s.trim()).filter(Boolean);
  return "";
});
const namespaces = [];
glue = glue.replace(new RegExp(`^import \\* as ([A-Za-z_$][\\w$]*) from ${quoted};?\\n`, "gm"), (_, id) => {
  namespaces.push(id);
  return "";
});
// MqttError, the class of every rejection, is part of the package's API; the wasm imports it,
// and wasm-bindgen does not re-export imports.
if (!exported.includes("MqttError")) fail("support.js does not export MqttError");
glue += "\nexport { MqttError };\n";
if (new RegExp(quoted).test(glue.replace(new RegExp(`${quoted}:`, "g"), ""))) {
  fail("the glue refers to the snippet in a form this script does not know");
}
for (const n of named || []) {
  if (!exported.includes(n)) fail(`the glue imports ${n}, which support.js does not export`);
}

// The snippet's code at the glue's top level, where terser shortens its names (inside an
// object they would stay); the wasm's import object for the snippet's module name gets the
// functions the wasm imports from it.
const declared = (code) =>
  new Set([...code.matchAll(/^(?:export )?(?:async )?(?:function\*?|class|const|let|var) ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]));
const glueNames = declared(glue);
const clash = [...declared(support)].filter((n) => glueNames.has(n));
if (clash.length) fail(`support.js and the glue both declare ${clash.join(", ")}`);
const wasmImports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(join(dir, `${name}_bg.wasm`))))
  .filter((i) => i.module === spec)
  .map((i) => i.name);
for (const n of wasmImports) {
  if (!exported.includes(n)) fail(`the wasm imports ${n}, which support.js does not export`);
}
// One object, under one key of the import object (wasm-bindgen writes the key once per
// import namespace, all for the same module): minify-names then shortens the module name.
if (namespaces.length) {
  let first = true;
  glue = glue.replace(new RegExp(`^\\s*${quoted}: (?:${namespaces.join("|")}),?\\n`, "gm"), (line) => {
    const keep = first;
    first = false;
    return keep ? line : "";
  });
}
if (wasmImports.length && !namespaces.length) fail("the wasm imports from the snippet but the glue gives it nothing");
const header =
  `${support}\n` + (namespaces.length ? `const ${namespaces[0]} = { ${[...new Set(wasmImports)].join(", ")} };\n` : "");
// After the glue's remaining imports (there are none today; kept first if they appear).
const lastImport = [...glue.matchAll(/^import .*$/gm)].pop();
const at = lastImport ? lastImport.index + lastImport[0].length + 1 : 0;
glue = glue.slice(0, at) + header + glue.slice(at);

writeFileSync(gluePath, glue);
rmSync(join(dir, "snippets"), { recursive: true });
console.log(`inline-snippets: ${spec} (${exported.length} exports) is now inside ${name}.js`);
