// Publishes simulated sensor readings for the demo dashboard, over TCP with MQTT.js.
//   node scripts/demo-feed.mjs mqtt://127.0.0.1:PORT
// Stops on SIGINT/SIGTERM. Loopback only.
import mqtt from "mqtt";

const url = process.argv[2] || "mqtt://127.0.0.1:1883";
const client = mqtt.connect(url, { clientId: `demo-feed-${process.pid}`, reconnectPeriod: 1000 });
const sensors = [
  { topic: "demo/plant/boiler/temperature", base: 72, amp: 6, period: 40 },
  { topic: "demo/plant/boiler/pressure", base: 2.1, amp: 0.3, period: 25 },
  { topic: "demo/plant/line1/throughput", base: 140, amp: 25, period: 60 },
  { topic: "demo/office/co2", base: 650, amp: 120, period: 90 },
];
let tick = 0;
client.on("connect", () => console.log(`demo-feed: publishing to ${url}`));
const timer = setInterval(() => {
  tick++;
  for (const s of sensors) {
    const v = s.base + s.amp * Math.sin((2 * Math.PI * tick) / s.period) + (Math.random() - 0.5) * s.amp * 0.2;
    client.publish(s.topic, v.toFixed(2), { qos: 1 });
  }
  if (tick % 10 === 0) client.publish("demo/plant/status", tick % 20 === 0 ? "running" : "ok", { qos: 1, retain: true });
}, 500);
const stop = () => { clearInterval(timer); client.end(true, () => process.exit(0)); };
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
