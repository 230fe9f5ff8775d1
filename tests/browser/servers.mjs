// Starts the test servers in one long-running process and keeps them until SIGINT/SIGTERM:
//   main  broker: anonymous, SUBSCRIBE to forbidden/# fails (0x80 / 0x87), persistence on
//   auth  broker: user/password required (bad-credentials tests); max_packet_size 2000, which its
//         MQTT 5 CONNACK announces (the broker's-limit test)
//   proxy in front of main's WebSocket port, with an HTTP control endpoint (proxy.mjs), which
//         also answers /broker/main/restart[?signal=TERM] (default kill -9), /broker/main/stop,
//         /broker/main/start, so in-browser tests can restart the broker
//   static server for the repository root (--static)
//
//   node tests/browser/servers.mjs [--write-env FILE] [--pid-file FILE] [--static] [--static-port N]
//        [--ws-port N] [--no-auth] [--no-proxy] [--state-dir DIR]
// Broker dirs (config, log, persistence) go in DIR and are kept, else in a temp dir removed on exit.
//
// When everything accepts connections it writes FILE (shell `export` lines, see envVars) and
// prints the same. Stopping this process (SIGTERM/SIGINT) stops the brokers; --pid-file
// records every mosquitto PID it started, so a caller can kill them even if this process dies.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker, isPortFree } from "./broker.mjs";
import { startProxy } from "./proxy.mjs";
import { startStaticServer } from "./static-server.mjs";

export const AUTH_USER = "wasmqtt";
export const AUTH_PASSWORD = "wasmqtt-secret";
export const DENIED_FILTER = "forbidden/#";

/** Starts the standard set; returns handles and the env vars tests read. */
export async function startServers({
  auth = true,
  proxy = true,
  staticServer = false,
  staticPort = 0,
  wsPort = 0,
  baseDir,
  onBrokerStart = () => {},
} = {}) {
  const s = { brokers: {} };
  const started = (b) => {
    onBrokerStart(b);
    return b;
  };
  try {
    s.brokers.main = started(await startBroker({ name: "main", baseDir, wsPort, denySubscribe: [DENIED_FILTER] }));
    if (auth) {
      s.brokers.auth = started(
        await startBroker({
          name: "auth",
          baseDir,
          auth: { username: AUTH_USER, password: AUTH_PASSWORD },
          extraConfig: "max_packet_size 2000",
        }),
      );
    }
    if (proxy) {
      const main = s.brokers.main;
      s.proxy = await startProxy({
        targetPort: main.wsPort,
        extraRoutes: {
          "/broker/main/restart": async (url) => {
            const signal = `SIG${(url.searchParams.get("signal") ?? "KILL").toUpperCase()}`;
            const downMs = Number(url.searchParams.get("downMs") ?? 0);
            await main.restart({ signal, downMs });
            started(main);
            return { restarted: true, pid: main.pid };
          },
          "/broker/main/stop": async (url) => {
            await main.stop(`SIG${(url.searchParams.get("signal") ?? "TERM").toUpperCase()}`);
            return { stopped: true };
          },
          "/broker/main/start": async () => {
            await main.start();
            started(main);
            return { started: true, pid: main.pid };
          },
        },
      });
    }
    if (staticServer) s.static = await startStaticServer({ port: staticPort });
  } catch (err) {
    await stopServers(s);
    throw err;
  }
  s.env = envVars(s);
  return s;
}

export function envVars(s) {
  const env = {
    WASMQTT_TEST_WS_URL: s.brokers.main.wsUrl,
    WASMQTT_TEST_TCP_URL: s.brokers.main.tcpUrl,
    WASMQTT_TEST_DENIED_FILTER: DENIED_FILTER,
  };
  if (s.brokers.auth) {
    Object.assign(env, {
      WASMQTT_TEST_AUTH_WS_URL: s.brokers.auth.wsUrl,
      WASMQTT_TEST_AUTH_TCP_URL: s.brokers.auth.tcpUrl,
      WASMQTT_TEST_AUTH_USER: AUTH_USER,
      WASMQTT_TEST_AUTH_PASSWORD: AUTH_PASSWORD,
    });
  }
  if (s.proxy) {
    env.WASMQTT_TEST_PROXY_WS_URL = s.proxy.url;
    env.WASMQTT_TEST_PROXY_URL = s.proxy.controlUrl;
  }
  if (s.static) env.WASMQTT_TEST_STATIC_URL = s.static.url;
  return env;
}

export async function stopServers(s) {
  await s.proxy?.close().catch(() => {});
  await s.static?.close().catch(() => {});
  await Promise.all(Object.values(s.brokers ?? {}).map((b) => (s.keepDirs ? b.stop() : b.dispose()).catch(() => {})));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const has = (n) => args.includes(n);
  const get = (n) => {
    const i = args.indexOf(n);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const pidFile = get("--pid-file");
  const envFile = get("--write-env");
  let wsPort = Number(get("--ws-port") ?? 0);
  if (wsPort && !(await isPortFree(wsPort))) {
    console.log(`servers: port ${wsPort} is busy, using a free one`);
    wsPort = 0;
  }
  let staticPort = Number(get("--static-port") ?? 0);
  if (staticPort && !(await isPortFree(staticPort))) {
    console.log(`servers: port ${staticPort} is busy, using a free one`);
    staticPort = 0;
  }
  const s = await startServers({
    auth: !has("--no-auth"),
    proxy: !has("--no-proxy"),
    staticServer: has("--static") || !!get("--static-port"),
    staticPort,
    wsPort,
    baseDir: get("--state-dir"),
    onBrokerStart: (b) => {
      if (pidFile) fs.appendFileSync(pidFile, `${b.pid}\n`);
    },
  }).catch((err) => {
    console.error(`servers: ${err.message}`);
    process.exit(1);
  });
  // Logs under an explicit --state-dir are kept for a look after the run.
  s.keepDirs = !!get("--state-dir");
  const lines = Object.entries(s.env).map(([k, v]) => `export ${k}=${v}`);
  lines.push(`export WASMQTT_SERVERS_PID=${process.pid}`);
  if (envFile) {
    fs.writeFileSync(envFile + ".tmp", lines.join("\n") + "\n");
    fs.renameSync(envFile + ".tmp", envFile); // appears complete or not at all
  }
  console.log(lines.map((l) => "servers: " + l.replace(/^export /, "")).join("\n"));
  for (const [name, b] of Object.entries(s.brokers)) console.log(`servers: broker ${name} pid ${b.pid}, log ${b.logFile}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stopServers(s);
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
}
