// The error class of every wasmqtt rejection and `error` event.
export class MqttError extends Error {
  constructor(code, message, reasonCode) {
    super(message);
    this.name = "MqttError";
    this.code = code;
    if (reasonCode !== undefined && reasonCode !== null) this.reasonCode = reasonCode;
  }
}
