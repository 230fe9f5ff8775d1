// Runs the Node-driven browser tests: tests/browser/*.test.mjs (node:test + playwright-core).
//
//   node tests/browser/run.mjs [FILE.test.mjs ...] [-- NODE_TEST_ARGS...]
//
// Builds nothing: expects pkg/ (scripts/build-pkg.sh). Uses the servers named by the
// WASMQTT_TEST_* variables when they are set (scripts/test.sh starts them), else starts its
// own (brokers, proxy); always serves the repository root on loopback unless
// WASMQTT_TEST_STATIC_URL is set. Test files run one at a time (2 cores, one browser each).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { startServers, stopServers } from "./servers.mjs";
import { startStaticServer, repoRoot } from "./static-server.mjs";

const here = path.join(repoRoot, "tests/browser");
const argv = process.argv.slice(2);
const dd = argv.indexOf("--");
const files = (dd >= 0 ? argv.slice(0, dd) : argv).map((f) => path.resolve(f));
const nodeTestArgs = dd >= 0 ? argv.slice(dd + 1) : [];

if (!fs.existsSync(path.join(repoRoot, "pkg/wasmqtt.js"))) {
  console.error("run.mjs: pkg/wasmqtt.js is missing: run scripts/build-pkg.sh first");
  process.exit(1);
}
if (files.length === 0) {
  for (const f of fs.readdirSync(here).sort()) if (f.endsWith(".test.mjs")) files.push(path.join(here, f));
}
if (files.length === 0) {
  console.error("run.mjs: no tests/browser/*.test.mjs files");
  process.exit(1);
}

const owned = {};
const env = { ...process.env };
try {
  if (!env.WASMQTT_TEST_WS_URL) {
    owned.servers = await startServers();
    Object.assign(env, owned.servers.env);
    console.log(`run.mjs: started brokers ${env.WASMQTT_TEST_WS_URL} (auth ${env.WASMQTT_TEST_AUTH_WS_URL}), proxy ${env.WASMQTT_TEST_PROXY_WS_URL}`);
  }
  if (!env.WASMQTT_TEST_STATIC_URL) {
    owned.static = await startStaticServer({ quiet: !process.env.WASMQTT_TEST_VERBOSE });
    env.WASMQTT_TEST_STATIC_URL = owned.static.url;
  }
} catch (err) {
  console.error(`run.mjs: could not start the test servers: ${err.message}`);
  if (owned.servers) await stopServers(owned.servers);
  process.exit(1);
}

// Guard against a hang: node 20 applies --test-timeout to each test AND to each test file as a
// whole, so this is a per-file bound (default 10 min); give slow tests their own { timeout }.
const testTimeout = Number(process.env.WASMQTT_TEST_TIMEOUT_MS || 600000);
const args = [
  "--test",
  "--test-concurrency=1",
  "--test-reporter=spec",
  `--test-timeout=${testTimeout}`,
  ...nodeTestArgs,
  ...files,
];
console.log(`run.mjs: node ${args.map((a) => path.relative(repoRoot, a) || a).join(" ")}`);
const child = spawn(process.execPath, args, { stdio: "inherit", env, cwd: repoRoot });
const stop = async () => {
  await owned.static?.close();
  if (owned.servers) await stopServers(owned.servers);
};
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    child.kill(sig);
  });
}
child.on("exit", async (code, signal) => {
  await stop();
  process.exit(code ?? (signal ? 1 : 0));
});
