// A static file server on loopback for the repository root (pkg/, www/, tests/browser/pages/).
//
//   import { startStaticServer } from "./static-server.mjs";
//   const s = await startStaticServer({ root, port: 0 });  s.url -> "http://127.0.0.1:PORT"
//
// CLI: node tests/browser/static-server.mjs [--port 8080] [--root DIR]
// Serves files only (no directory listings), never outside root, with no caching, and
// `application/wasm` for .wasm so that WebAssembly.instantiateStreaming works.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".ts": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export async function startStaticServer({ root = repoRoot, port = 0, quiet = true } = {}) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, "http://x").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.resolve(base, "." + rel);
    if (file !== base && !file.startsWith(base + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile() || (req.method !== "GET" && req.method !== "HEAD")) {
        if (!quiet) console.log(`static: 404 ${req.method} ${rel}`);
        res.writeHead(err || !st.isFile() ? 404 : 405, { "content-type": "text/plain" }).end("not found\n");
        return;
      }
      res.writeHead(200, {
        "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "content-length": st.size,
        "cache-control": "no-store",
      });
      if (req.method === "HEAD") res.end();
      else fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    server,
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const get = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const s = await startStaticServer({ root: get("--root", repoRoot), port: Number(get("--port", 0)), quiet: false });
  console.log(`static: serving ${get("--root", repoRoot)} at ${s.url}`);
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => s.close().then(() => process.exit(0)));
}
