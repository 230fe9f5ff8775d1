// Dedicated module worker: loads pkg/ the same way a page does and reports back.
import init from "/pkg/wasmqtt.js";

try {
  const exports = await init();
  postMessage({ ok: exports.memory instanceof WebAssembly.Memory, exports: Object.keys(exports).length });
} catch (e) {
  postMessage({ ok: false, error: String((e && e.stack) || e) });
}
