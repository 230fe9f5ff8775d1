// Dedicated module worker: runs pages/worker-scenario.mjs for each message it gets.
import { reply } from "./worker-scenario.mjs";

self.onmessage = async (ev) => self.postMessage(await reply(ev.data));
