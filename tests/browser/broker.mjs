// Test brokers: mosquitto on loopback, one temp dir each (config, log, persistence).
//
//   import { startBroker } from "./broker.mjs";
//   const b = await startBroker({ name: "main", denySubscribe: ["forbidden/#"] });
//   b.wsUrl   // "ws://127.0.0.1:PORT"  (WebSocket listener, subprotocol mqtt)
//   b.tcpUrl  // "mqtt://127.0.0.1:PORT" (for MQTT.js / mosquitto_sub as an observer)
//   await b.restart();            // kill -9, then start again on the same ports and persistence
//   await b.restart({ signal: "SIGTERM" }); // graceful: mosquitto saves its database first
//
// Measured here: mosquitto 2.0.11 sends PUBACK before its autosave writes the message (even with
// autosave on every change), so a kill -9 loses the last message(s) it had acknowledged
// (1 of 1500 in each of two runs; SIGTERM: 0). "Nothing lost" assertions need SIGTERM;
// a kill -9 test can only assert about messages the broker had not acknowledged.
//   await b.stop();               // (b.dispose() also removes the temp dir)
//
// Options (all optional):
//   name            label used in the temp dir and logs ("broker")
//   dir             use this dir (config/persistence) instead of a new temp dir
//   baseDir         where the temp dir is made (os.tmpdir()); dispose() removes a temp dir
//   wsPort, tcpPort fixed ports; default: free ports picked on 127.0.0.1
//   auth            { username, password }: password file, anonymous clients refused
//   denySubscribe   topic patterns: a SUBSCRIBE matching one gets SUBACK 0x80 (3.1.1) / 0x87 (5.0),
//                   through the dynamic-security plugin (acl_file never fails a SUBSCRIBE)
//   maxInflight     max_inflight_messages (100); mosquitto applies it to incoming QoS 2 as well
//   maxQueued       max_queued_messages (100000)
//   persistence     true (default): persistence_location in the dir; autosave after every change
//                   so that a kill -9 loses as little as possible
//   autosaveInterval autosave_interval with autosave_on_changes (1 = save on every change)
//   extraConfig     string appended to mosquitto.conf
//   verbose         log_type all (also when WASMQTT_BROKER_VERBOSE is set)
//   startTimeoutMs  10000
//
// CLI (used by shell scripts; the broker runs detached and is stopped by PID):
//   node tests/browser/broker.mjs start NAME [--ws-port N] [--tcp-port N] [--auth USER:PASS]
//        [--deny-subscribe PATTERN]... [--state-dir DIR]  -> prints NAME_WS_URL=..., NAME_TCP_URL=...,
//        NAME_PID=... (shell assignments, NAME upper-cased) and writes DIR/NAME/state.json
//   node tests/browser/broker.mjs stop|restart|status NAME [--state-dir DIR]
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const DYNSEC_PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so";
const live = new Set();

// Kill every broker this process started (not the detached CLI ones) when it exits.
process.on("exit", () => {
  for (const b of live) {
    try {
      process.kill(b.pid, "SIGKILL");
    } catch {}
  }
});

/** Ports that were free on 127.0.0.1 a moment ago (all held open together, so distinct). */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, "127.0.0.1", resolve);
      });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export async function isPortFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
    sock.setTimeout(500, () => done(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    // A child of ours that exited stays a zombie until reaped: treat that as exited.
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.split(") ")[1]?.startsWith("Z")) return true;
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

function dynsecJson(patterns) {
  // Anonymous clients are put in the "anonymous" group; its role denies SUBSCRIBE on the
  // patterns. Everything else falls through to defaultACLAccess (all allowed).
  return JSON.stringify(
    {
      defaultACLAccess: {
        publishClientSend: true,
        publishClientReceive: true,
        subscribe: true,
        unsubscribe: true,
      },
      clients: [],
      groups: [{ groupname: "anonymous", roles: [{ rolename: "deny-subscribe", priority: 1 }], clients: [] }],
      roles: [
        {
          rolename: "deny-subscribe",
          acls: patterns.map((topic) => ({ acltype: "subscribePattern", topic, priority: 0, allow: false })),
        },
      ],
      anonymousGroup: "anonymous",
    },
    null,
    2,
  );
}

function writeConfig(o) {
  const lines = [
    `# written by tests/browser/broker.mjs (${o.name})`,
    "per_listener_settings false",
  ];
  if (process.getuid?.() === 0) lines.push("user root"); // else it drops to user mosquitto
  lines.push(
    `max_inflight_messages ${o.maxInflight}`,
    `max_queued_messages ${o.maxQueued}`,
    "max_queued_bytes 0",
    // Not stdout: redirected, it is block-buffered and a kill -9 loses the tail.
    `log_dest file ${path.join(o.dir, "mosquitto.log")}`,
    "log_timestamp_format %H:%M:%S",
    ...(o.verbose ? ["log_type all"] : ["log_type error", "log_type warning", "log_type notice", "log_type information"]),
  );
  if (o.persistence) {
    fs.mkdirSync(path.join(o.dir, "persistence"), { recursive: true });
    lines.push(
      "persistence true",
      `persistence_location ${path.join(o.dir, "persistence")}/`,
      "autosave_on_changes true",
      `autosave_interval ${o.autosaveInterval}`,
    );
  } else {
    lines.push("persistence false");
  }
  if (o.auth) {
    const pwFile = path.join(o.dir, "passwd");
    fs.writeFileSync(pwFile, "");
    execFileSync("mosquitto_passwd", ["-b", pwFile, o.auth.username, o.auth.password], { stdio: "pipe" });
    lines.push("allow_anonymous false", `password_file ${pwFile}`);
  } else {
    lines.push("allow_anonymous true");
  }
  if (o.denySubscribe?.length) {
    if (o.auth) throw new Error("broker: auth and denySubscribe together are not supported (use two brokers)");
    const f = path.join(o.dir, "dynsec.json");
    fs.writeFileSync(f, dynsecJson(o.denySubscribe));
    lines.push(`plugin ${DYNSEC_PLUGIN}`, `plugin_opt_config_file ${f}`);
  }
  // TCP: an address binds that address. WebSockets: an address would bind every interface in
  // mosquitto 2.0.11 (libwebsockets); an interface name binds just that interface.
  lines.push(`listener ${o.tcpPort} 127.0.0.1`, "protocol mqtt");
  lines.push(`listener ${o.wsPort} lo`, "protocol websockets");
  if (o.extraConfig) lines.push(o.extraConfig);
  const conf = path.join(o.dir, "mosquitto.conf");
  fs.writeFileSync(conf, lines.join("\n") + "\n");
  return conf;
}

export class Broker {
  constructor(opts) {
    this.opts = opts;
    this.name = opts.name;
    this.dir = opts.dir;
    this.wsPort = opts.wsPort;
    this.tcpPort = opts.tcpPort;
    this.pid = null;
    this.child = null;
  }
  get wsUrl() {
    return `ws://127.0.0.1:${this.wsPort}`;
  }
  get tcpUrl() {
    return `mqtt://127.0.0.1:${this.tcpPort}`;
  }
  get logFile() {
    return path.join(this.dir, "mosquitto.log");
  }
  get configFile() {
    return path.join(this.dir, "mosquitto.conf");
  }
  log() {
    try {
      return fs.readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** Starts mosquitto with the written config and waits until both ports accept connections. */
  async start({ detached = false } = {}) {
    if (this.pid && alive(this.pid)) throw new Error(`broker ${this.name}: already running (pid ${this.pid})`);
    const logFd = fs.openSync(this.logFile, "a");
    const child = spawn("mosquitto", ["-c", this.configFile], {
      stdio: ["ignore", logFd, logFd],
      detached,
    });
    fs.closeSync(logFd);
    let exited = null;
    child.once("exit", (code, signal) => {
      exited = { code, signal };
    });
    child.once("error", (err) => {
      exited = { error: err };
    });
    this.child = child;
    this.pid = child.pid;
    if (detached) child.unref();
    else live.add(this);
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 10000);
    for (;;) {
      if (exited) {
        live.delete(this);
        throw new Error(
          `broker ${this.name}: mosquitto exited during start (${JSON.stringify(exited)}); log:\n${this.log().slice(-2000)}`,
        );
      }
      if ((await canConnect(this.tcpPort)) && (await canConnect(this.wsPort))) return this;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`broker ${this.name}: ports not accepting connections in time; log:\n${this.log().slice(-2000)}`);
      }
      await sleep(25);
    }
  }

  /** Sends `signal` and waits for the process to exit (SIGKILL after 5 s). */
  async stop(signal = "SIGTERM") {
    const pid = this.pid;
    if (!pid) return;
    try {
      process.kill(pid, signal);
    } catch {}
    if (!(await waitExit(pid, 5000))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
      await waitExit(pid, 5000);
    }
    live.delete(this);
    this.pid = null;
  }

  /** kill -9: no chance to save the persistence database beyond its last autosave. */
  kill() {
    return this.stop("SIGKILL");
  }

  /** Stops (kill -9 by default) and starts again on the same ports, config and persistence. */
  async restart({ signal = "SIGKILL", downMs = 0, detached = false } = {}) {
    await this.stop(signal);
    if (downMs) await sleep(downMs);
    return this.start({ detached });
  }

  /** Stops the broker and removes its temp dir (when startBroker made it). */
  async dispose() {
    await this.stop();
    if (this.opts.ownsDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  toJSON() {
    return {
      name: this.name,
      dir: this.dir,
      pid: this.pid,
      wsPort: this.wsPort,
      tcpPort: this.tcpPort,
      wsUrl: this.wsUrl,
      tcpUrl: this.tcpUrl,
      opts: this.opts,
    };
  }
}

function normalize(opts) {
  const o = {
    name: "broker",
    maxInflight: 100,
    maxQueued: 100000,
    persistence: true,
    autosaveInterval: 1,
    verbose: !!process.env.WASMQTT_BROKER_VERBOSE,
    ...opts,
  };
  if (!/^[A-Za-z0-9_-]+$/.test(o.name)) throw new Error(`broker: bad name ${o.name}`);
  return o;
}

/** Writes a config for `opts` into a (new temp) dir and starts mosquitto. */
export async function startBroker(opts = {}) {
  const o = normalize(opts);
  const fixed = o.wsPort && o.tcpPort;
  for (let attempt = 0; ; attempt++) {
    const [a, b] = await freePorts(2);
    const wsPort = o.wsPort || a;
    const tcpPort = o.tcpPort || (o.wsPort === b ? a : b);
    const ownsDir = !o.dir;
    const baseDir = o.baseDir ?? os.tmpdir();
    fs.mkdirSync(baseDir, { recursive: true });
    const dir = o.dir ?? fs.mkdtempSync(path.join(baseDir, `wasmqtt-${o.name}-`));
    fs.mkdirSync(dir, { recursive: true });
    const cfg = { ...o, dir, wsPort, tcpPort, ownsDir };
    delete cfg.detached;
    writeConfig(cfg);
    const broker = new Broker(cfg);
    try {
      return await broker.start({ detached: !!opts.detached });
    } catch (err) {
      if (ownsDir) fs.rmSync(dir, { recursive: true, force: true });
      // A free port taken between the check and mosquitto's bind: pick others.
      if (fixed || attempt >= 2 || !/exited during start/.test(err.message)) throw err;
    }
  }
}

// ---------------------------------------------------------------- CLI

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function parseArgs(argv) {
  const args = { _: [], denySubscribe: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--ws-port") args.wsPort = Number(val());
    else if (a === "--tcp-port") args.tcpPort = Number(val());
    else if (a === "--auth") {
      const [username, ...rest] = val().split(":");
      args.auth = { username, password: rest.join(":") };
    } else if (a === "--deny-subscribe") args.denySubscribe.push(val());
    else if (a === "--state-dir") args.stateDir = val();
    else if (a === "--graceful") args.graceful = true;
    else if (a === "--verbose") args.verbose = true;
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else args._.push(a);
  }
  return args;
}

function shellVars(b) {
  const p = b.name.toUpperCase().replace(/-/g, "_");
  return [
    `${p}_WS_URL=${b.wsUrl}`,
    `${p}_TCP_URL=${b.tcpUrl}`,
    `${p}_PID=${b.pid}`,
    `${p}_DIR=${b.dir}`,
  ].join("\n");
}

async function cli(argv) {
  const args = parseArgs(argv);
  const [cmd, name] = args._;
  if (!cmd || !name) {
    console.error("usage: broker.mjs start|stop|restart|status NAME [options]");
    process.exit(2);
  }
  const stateDir = path.resolve(args.stateDir ?? process.env.WASMQTT_STATE_DIR ?? path.join(repoRoot, ".ci/tmp/servers"));
  const dir = path.join(stateDir, name);
  const stateFile = path.join(dir, "state.json");
  const load = () => {
    const s = JSON.parse(fs.readFileSync(stateFile, "utf8"));
    const b = new Broker(s.opts);
    b.pid = s.pid;
    return b;
  };
  const save = (b) => fs.writeFileSync(stateFile, JSON.stringify(b.toJSON(), null, 2) + "\n");
  if (cmd === "start") {
    if (fs.existsSync(stateFile)) {
      const old = load();
      if (old.pid && alive(old.pid)) throw new Error(`broker ${name} already running (pid ${old.pid})`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const b = await startBroker({
      name,
      dir,
      wsPort: args.wsPort,
      tcpPort: args.tcpPort,
      auth: args.auth,
      denySubscribe: args.denySubscribe,
      verbose: args.verbose,
      detached: true,
    });
    save(b);
    console.log(shellVars(b));
  } else if (cmd === "stop") {
    if (!fs.existsSync(stateFile)) return;
    const b = load();
    await b.stop();
    save(b);
  } else if (cmd === "restart") {
    const b = load();
    await b.restart({ signal: args.graceful ? "SIGTERM" : "SIGKILL", detached: true });
    save(b);
    console.log(shellVars(b));
  } else if (cmd === "status") {
    const b = load();
    console.log(shellVars(b));
    process.exit(b.pid && alive(b.pid) ? 0 : 1);
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((err) => {
    console.error(`broker.mjs: ${err.message}`);
    process.exit(1);
  });
}
