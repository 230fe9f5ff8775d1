// Runs a publish/subscribe round trip with wasmqtt inside a dedicated worker.
import init, { connect } from "/pkg/wasmqtt.js";

self.onmessage = async (ev) => {
  const { url, topic } = ev.data;
  try {
    await init();
    const client = await connect(url, { protocolVersion: 5 });
    const got = new Promise((resolve) => client.on("message", (t, p) => resolve({ topic: t, text: new TextDecoder().decode(p) })));
    await client.subscribe(topic, { qos: 1 });
    await client.publish(topic, "from a worker", { qos: 1 });
    const message = await got;
    await client.end();
    self.postMessage({ ok: true, message });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e), code: e?.code });
  }
};
