// A fault-injecting TCP proxy on loopback, for putting in front of a broker's WebSocket port.
//
//   import { startProxy } from "./proxy.mjs";
//   const p = await startProxy({ targetPort: broker.wsPort });
//   p.url           // "ws://127.0.0.1:PORT": connect the client here instead of the broker
//   p.setMode("blackhole"); p.drop(); p.stats(); await p.close();
//   p.controlUrl    // "http://127.0.0.1:PORT": the same from a page, with fetch (CORS open)
//
// Modes (persistent until changed; they apply to current and new connections):
//   pass       forward both ways
//   blackhole  accept and keep sockets open, but forward nothing either way (bytes are read
//              and discarded). A connection that lost bytes this way cannot carry a valid
//              stream any more: it is destroyed when the mode leaves blackhole.
//   refuse     close new connections at once (current ones are untouched)
//   stall      stop reading from the clients (nothing is lost): their bytes back up into their
//              socket buffers, and a browser's WebSocket `bufferedAmount` grows. Leaving it,
//              reading resumes.
//   hold       keep what the broker sends to the clients (nothing is lost); leaving the mode,
//              each connection gets all of it in one write, so it arrives as one burst.
// Actions:
//   drop       destroy every current connection (both sides, no close handshake). As a mode
//              name (`setMode("drop")`, `/mode/drop`) it drops and then sets `pass`.
//   end        write what hold kept, then end every client side (a TCP FIN right behind the
//              bytes, no WebSocket close handshake): the client reads all, then sees the close.
//
// Control endpoint (GET or POST, JSON answers, Access-Control-Allow-Origin: *):
//   /mode/pass  /mode/blackhole  /mode/refuse  /mode/stall  /mode/hold  /mode/drop   -> stats
//   /drop                                                   -> stats (mode unchanged)
//   /end                                                    -> stats (mode pass)
//   /stats                                                  -> { mode, accepted, active, refused, dropped, held }
//                                                              (held: bytes kept by hold, all connections)
//   /reset      counters to zero, mode pass, drops all      -> stats
// `extraRoutes` ({ "/path": async (url) => json }) adds routes (servers.mjs adds broker control).
//
// Bounded: at most `maxConnections` (256) at once; more are closed at once and counted as refused.
import http from "node:http";
import net from "node:net";

const MODES = new Set(["pass", "blackhole", "refuse", "stall", "hold"]);

export class Proxy {
  constructor({ targetHost = "127.0.0.1", targetPort, maxConnections = 256, extraRoutes = {} }) {
    if (!targetPort) throw new Error("proxy: targetPort is required");
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.maxConnections = maxConnections;
    this.extraRoutes = extraRoutes;
    this.mode = "pass";
    this.conns = new Set();
    this.counters = { accepted: 0, refused: 0, dropped: 0 };
    this.server = net.createServer((sock) => this.#onConnection(sock));
    this.control = http.createServer((req, res) => this.#onControl(req, res));
  }

  get port() {
    return this.server.address().port;
  }
  get url() {
    return `ws://127.0.0.1:${this.port}`;
  }
  get controlPort() {
    return this.control.address().port;
  }
  get controlUrl() {
    return `http://127.0.0.1:${this.controlPort}`;
  }

  async listen({ port = 0, controlPort = 0 } = {}) {
    const listen = (srv, p) =>
      new Promise((resolve, reject) => {
        srv.once("error", reject);
        srv.listen(p, "127.0.0.1", () => {
          srv.off("error", reject);
          resolve();
        });
      });
    await listen(this.server, port);
    await listen(this.control, controlPort);
    return this;
  }

  #onConnection(client) {
    if (this.mode === "refuse" || this.conns.size >= this.maxConnections) {
      this.counters.refused++;
      client.destroy();
      return;
    }
    this.counters.accepted++;
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
    const conn = { client, upstream, tainted: false, held: [] };
    this.conns.add(conn);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    if (this.mode === "stall") client.pause();
    const forward = (from, to) => {
      from.on("data", (chunk) => {
        if (this.mode === "blackhole") {
          conn.tainted = true;
          return;
        }
        if (this.mode === "hold" && from === upstream) {
          conn.held.push(chunk);
          return;
        }
        // Backpressure: stop reading until the other side drains.
        if (!to.write(chunk)) {
          from.pause();
          to.once("drain", () => {
            if (this.mode !== "stall" || from !== client) from.resume();
          });
        }
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const close = () => {
      if (!this.conns.delete(conn)) return;
      client.destroy();
      upstream.destroy();
    };
    // A half-close is passed on; an error or a full close ends both sides.
    client.on("end", () => (this.mode === "blackhole" ? close() : upstream.end()));
    upstream.on("end", () => (this.mode === "blackhole" ? close() : client.end()));
    for (const s of [client, upstream]) {
      s.on("error", close);
      s.on("close", close);
    }
  }

  /** Destroys every current connection. */
  drop() {
    return this.#closeAll((client) => client.destroy());
  }

  /** Writes what hold kept to each client, then ends its side (FIN after the bytes). */
  end() {
    this.setMode("pass");
    return this.#closeAll((client) => client.end());
  }

  /** Closes the connections `which` picks (all by default), counted as dropped. */
  #closeAll(closeClient, which = () => true) {
    for (const c of [...this.conns]) {
      if (!which(c)) continue;
      this.conns.delete(c);
      c.upstream.destroy();
      closeClient(c.client);
      this.counters.dropped++;
    }
    return this.stats();
  }

  setMode(mode) {
    if (mode === "drop") {
      this.drop();
      mode = "pass";
    }
    if (!MODES.has(mode)) throw new Error(`proxy: unknown mode ${mode}`);
    const leavingBlackhole = this.mode === "blackhole" && mode !== "blackhole";
    const leavingStall = this.mode === "stall" && mode !== "stall";
    if (mode === "stall") for (const c of this.conns) c.client.pause();
    if (leavingStall) for (const c of this.conns) c.client.resume();
    this.mode = mode;
    if (mode !== "hold") {
      for (const c of this.conns) {
        if (c.held.length) c.client.write(Buffer.concat(c.held.splice(0)));
      }
    }
    if (leavingBlackhole) this.#closeAll((client) => client.destroy(), (c) => c.tainted);
    return this.stats();
  }

  stats() {
    let held = 0;
    for (const c of this.conns) for (const chunk of c.held) held += chunk.length;
    return { mode: this.mode, active: this.conns.size, ...this.counters, held };
  }

  reset() {
    this.drop();
    this.mode = "pass";
    this.counters = { accepted: 0, refused: 0, dropped: 0 };
    return this.stats();
  }

  async #onControl(req, res) {
    const headers = {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": "*",
      "cache-control": "no-store",
    };
    if (req.method === "OPTIONS") {
      res.writeHead(204, headers).end();
      return;
    }
    const url = new URL(req.url, "http://x");
    const p = url.pathname.replace(/\/+$/, "");
    try {
      let body;
      if (p.startsWith("/mode/")) body = this.setMode(p.slice(6));
      else if (p === "/drop") body = this.drop();
      else if (p === "/end") body = this.end();
      else if (p === "/stats" || p === "") body = this.stats();
      else if (p === "/reset") body = this.reset();
      else if (this.extraRoutes[p]) body = await this.extraRoutes[p](url);
      else {
        res.writeHead(404, headers).end(JSON.stringify({ error: `no route ${p}` }));
        return;
      }
      res.writeHead(200, headers).end(JSON.stringify(body));
    } catch (err) {
      res.writeHead(400, headers).end(JSON.stringify({ error: err.message }));
    }
  }

  async close() {
    this.drop();
    await Promise.all([
      new Promise((r) => this.server.close(r)),
      new Promise((r) => {
        this.control.closeAllConnections?.();
        this.control.close(r);
      }),
    ]);
  }
}

export async function startProxy(opts) {
  const p = new Proxy(opts);
  return p.listen(opts);
}
