// SharedWorker module: runs pages/worker-scenario.mjs for each message on each connected port.
import { reply } from "./worker-scenario.mjs";

self.onconnect = (ev) => {
  const port = ev.ports[0];
  port.onmessage = async (m) => port.postMessage(await reply(m.data));
};
