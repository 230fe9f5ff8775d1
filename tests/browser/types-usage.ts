// Typed usage of the public API (shared/api.md), checked with `tsc --noEmit` against
// pkg/wasmqtt.d.ts by tests/browser/types.test.mjs. It is compiled, never run.
import init, { connect, createClient, MqttError } from "../../pkg/wasmqtt.js";

await init();

const client = await connect("ws://127.0.0.1:9001", {
  clientId: "dash-1",
  clean: false,
  protocolVersion: 5,
  sessionExpiryInterval: 3600,
  keepalive: 30,
  username: "user",
  password: new Uint8Array([1, 2, 3]),
  will: { topic: "status/dash-1", payload: "offline", qos: 1, retain: true },
  connectTimeout: 10000,
  reconnect: { initialDelay: 500, maxDelay: 10000, jitter: 0.5 },
  resubscribe: true,
  persistence: "indexeddb",
  maxInflight: 20,
  maxQueued: 1000,
  maxPacketSize: 65536,
});

client.on("message", (topic: string, payload: Uint8Array, packet) => {
  const qos: number = packet.qos;
  const retain: boolean = packet.retain;
  const dup: boolean = packet.dup;
  void [topic, payload.byteLength, qos, retain, dup];
});
client.on("connect", (connack) => {
  const sessionPresent: boolean = connack.sessionPresent;
  const reasonCode: number = connack.reasonCode;
  void [sessionPresent, reasonCode];
});
const onError = (err: MqttError) => void err.code;
client.on("error", onError);
client.off("error", onError);
client.on("offline", () => {});
client.on("reconnect", () => {});
client.on("close", () => {});
client.on("end", () => {});

const granted: number[] = await client.subscribe("sensors/#", { qos: 1 });
const grantedMany: number[] = await client.subscribe(["a/+", "b/#"]);
await client.publish("sensors/t1", "21.5", { qos: 1 });
await client.publish("sensors/raw", new Uint8Array([0x01, 0x02]), { qos: 2, retain: true });
await client.publish("sensors/t2", "x");
await client.unsubscribe("sensors/#");
await client.unsubscribe(["a/+", "b/#"]);
const connected: boolean = client.connected;
const present: boolean | undefined = client.connack?.sessionPresent;
void [granted, grantedMany, connected, present];

// @ts-expect-error a payload is a string or a Uint8Array
await client.publish("sensors/t1", 42);

await client.end();
await client.end(true);

const offline = createClient("ws://127.0.0.1:9001", { clientId: "offline-1", clean: false, reconnect: false });
await offline.publish("queued/1", "while offline", { qos: 1 });

try {
  await connect("not a url");
} catch (err) {
  if (err instanceof MqttError) {
    const code: string = err.code;
    const reasonCode: number | undefined = err.reasonCode;
    const message: string = err.message;
    const asError: Error = err;
    void [code, reasonCode, message, asError];
  }
}
