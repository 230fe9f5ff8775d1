// The raw ceiling: a minimal MQTT 3.1.1 client on a bare WebSocket, written for speed only.
//
// - every outgoing PUBLISH is pre-encoded before the clock starts (one contiguous buffer, fixed
//   packet size), and a run of them leaves as ONE WebSocket frame (a subarray, no copy here);
// - incoming frames are parsed in place (no per-packet allocation, no topic decoding); the only
//   per-message work is reading the 4-byte index of the payload, which every client does;
// - acknowledgements (PUBACK / PUBREC / PUBREL / PUBCOMP) produced while parsing one frame are
//   written into one preallocated buffer and sent as one frame after that frame;
// - no promises, no timers, no events on the hot path: the scenario's callbacks run
//   synchronously inside the WebSocket `message` handler, so the next batch is sent at once.
// It keeps no session state, does no keepalive (keepalive 0) and checks nothing a real client
// must check; it is the ceiling, not a client.

const enc = new TextEncoder();

function varint(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
  return out;
}

function packet(first, body) {
  return Uint8Array.from([first, ...varint(body.length), ...body]);
}

function str(s) {
  const b = enc.encode(s);
  return [b.length >> 8, b.length & 255, ...b];
}

export function connectPacket(clientId, keepalive = 0) {
  // "MQTT", level 4, flags: clean session, keepalive in seconds (0: off).
  return packet(0x10, [...str("MQTT"), 4, 0x02, keepalive >> 8, keepalive & 255, ...str(clientId)]);
}

/** The benchmark payload of message i: its index (4 bytes, big-endian), then `size - 4` 'a's. */
export function indexedPayload(i, size = 64) {
  const p = new Uint8Array(size);
  p.fill(0x61);
  p[0] = i >>> 24;
  p[1] = (i >>> 16) & 255;
  p[2] = (i >>> 8) & 255;
  p[3] = i & 255;
  return p;
}

export function subscribePacket(pid, filter, qos) {
  return packet(0x82, [pid >> 8, pid & 255, ...str(filter), qos]);
}

/**
 * n PUBLISH packets of the same size in one buffer: packet i carries payloads(i) (all the same
 * length) and, at QoS 1/2, packet id (i % 65535) + 1.
 */
export function encodePublishes(topic, qos, n, payloadOf) {
  const t = enc.encode(topic);
  const plen = payloadOf(0).length;
  const rl = 2 + t.length + (qos ? 2 : 0) + plen;
  const head = [0x30 | (qos << 1), ...varint(rl)];
  const size = head.length + rl;
  const buf = new Uint8Array(size * n);
  const tpl = new Uint8Array(size);
  tpl.set(head, 0);
  tpl[head.length] = t.length >> 8;
  tpl[head.length + 1] = t.length & 255;
  tpl.set(t, head.length + 2);
  const pidAt = head.length + 2 + t.length;
  const payAt = pidAt + (qos ? 2 : 0);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    buf.set(tpl, o);
    if (qos) {
      const pid = (i % 65535) + 1;
      buf[o + pidAt] = pid >> 8;
      buf[o + pidAt + 1] = pid & 255;
    }
    buf.set(payloadOf(i), o + payAt);
  }
  return { buf, size, n };
}

export class RawClient {
  /** `touchKb`: see touchPerFrame. */
  static connect(url, clientId, touchKb = 0) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, "mqtt");
      ws.binaryType = "arraybuffer";
      const c = new RawClient(ws);
      c.touchPerFrame(touchKb);
      c.onConnack = (rc) => (rc === 0 ? resolve(c) : reject(new Error(`CONNACK ${rc}`)));
      ws.onopen = () => ws.send(connectPacket(clientId));
      ws.onerror = () => reject(new Error("websocket error"));
      ws.onclose = () => reject(new Error("websocket closed"));
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.rest = null;
    this.out = new Uint8Array(1 << 20);
    this.outLen = 0;
    this.frames = 0;
    this.sends = 0;
    // "frame": react (afterFrame + flush) synchronously after every incoming frame.
    // "task": react once per task turn: frames that arrive back to back are all parsed before
    // one reaction, so acks and new publishes of several frames share one outgoing frame; no
    // task when there is nothing to send and no afterFrame (receiving QoS 0).
    this.mode = "frame";
    this.scheduled = false;
    this.channel = new MessageChannel();
    this.channel.port1.onmessage = () => {
      this.scheduled = false;
      this.afterFrame?.();
      this.flush();
    };
    // Scenario hooks, all synchronous.
    this.onPublish = (_data, _payloadStart, _end) => {};
    this.onAck = (_pid) => {}; // PUBACK (QoS 1) or PUBCOMP (QoS 2): the outgoing flow is complete
    this.afterFrame = null; // or a function: called after each frame (or task turn) with frames
    this.onSuback = () => {};
    this.onConnack = () => {};
    ws.onmessage = (ev) => this.frame(new Uint8Array(ev.data));
  }

  /**
   * With kb > 0, every received frame first follows a chain through all the 64-byte lines of a
   * buffer of `kb` KB of its own, in a random order (each load waits for the one before, as code
   * and data of a client's path do, and no prefetcher guesses it): a stand-in working set per
   * frame (bench --raw-touch), to measure what a client's footprint per frame costs in a live
   * run, apart from the work it does.
   */
  touchPerFrame(kb) {
    if (!(kb > 0)) return;
    const lines = (kb * 1024) / 64;
    const chain = new Uint32Array(lines * 16);
    const order = Array.from({ length: lines }, (_, i) => i);
    for (let i = lines - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < lines; i++) chain[order[i] * 16] = order[(i + 1) % lines] * 16;
    let at = 0;
    this.ws.onmessage = (ev) => {
      for (let n = 0; n < lines; n++) at = chain[at];
      this.touched = at;
      this.frame(new Uint8Array(ev.data));
    };
  }

  subscribe(filter, qos) {
    return new Promise((resolve) => {
      this.onSuback = resolve;
      this.ws.send(subscribePacket(1, filter, qos));
    });
  }

  ack(first, pid) {
    if (this.outLen + 4 > this.out.length) this.flush();
    const o = this.out;
    let l = this.outLen;
    o[l] = first;
    o[l + 1] = 2;
    o[l + 2] = pid >> 8;
    o[l + 3] = pid & 255;
    this.outLen = l + 4;
  }

  flush() {
    if (this.outLen) {
      this.sends++;
      this.ws.send(this.out.subarray(0, this.outLen)); // send() copies the bytes
      this.outLen = 0;
    }
  }

  /** Sends packets [from, to) of a pre-encoded batch as one frame. */
  sendBatch(batch, from, to) {
    if (to > from) this.sends++, this.ws.send(batch.buf.subarray(from * batch.size, to * batch.size));
  }

  frame(data) {
    this.frames++;
    if (this.rest) {
      const m = new Uint8Array(this.rest.length + data.length);
      m.set(this.rest, 0);
      m.set(data, this.rest.length);
      data = m;
      this.rest = null;
    }
    const len = data.length;
    let p = 0;
    for (;;) {
      if (p + 2 > len) break;
      const h = data[p];
      let q = p + 1;
      let rl = 0;
      let mul = 1;
      let b;
      let complete = true;
      do {
        if (q >= len) {
          complete = false;
          break;
        }
        b = data[q++];
        rl += (b & 127) * mul;
        mul *= 128;
      } while (b & 128);
      if (!complete || q + rl > len) break;
      const end = q + rl;
      switch (h >> 4) {
        case 3: {
          const qos = (h >> 1) & 3;
          let pos = q + 2 + ((data[q] << 8) | data[q + 1]);
          if (qos) {
            const pid = (data[pos] << 8) | data[pos + 1];
            pos += 2;
            this.ack(qos === 1 ? 0x40 : 0x50, pid);
          }
          this.onPublish(data, pos, end);
          break;
        }
        case 4: // PUBACK
          this.onAck((data[q] << 8) | data[q + 1]);
          break;
        case 5: // PUBREC -> PUBREL
          this.ack(0x62, (data[q] << 8) | data[q + 1]);
          break;
        case 6: // PUBREL -> PUBCOMP
          this.ack(0x70, (data[q] << 8) | data[q + 1]);
          break;
        case 7: // PUBCOMP
          this.onAck((data[q] << 8) | data[q + 1]);
          break;
        case 2:
          this.onConnack(data[q + 1]);
          break;
        case 9:
          this.onSuback(data[q + 2]);
          break;
        default:
          break;
      }
      p = end;
    }
    if (p < len) this.rest = data.slice(p);
    if (this.mode === "frame") {
      this.afterFrame?.();
      this.flush();
    } else if (!this.scheduled && (this.outLen > 0 || this.afterFrame)) {
      // Only with something to do: a task turn per burst costs 15-25 us of the main thread.
      this.scheduled = true;
      this.channel.port2.postMessage(0);
    }
  }

  end() {
    this.ws.onclose = null;
    this.ws.onerror = null;
    try {
      this.ws.send(Uint8Array.from([0xe0, 0]));
    } catch {}
    this.ws.close();
  }
}
