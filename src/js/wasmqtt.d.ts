/* tslint:disable */
/* eslint-disable */
// Hand-written types of the wasmqtt JavaScript API (shared/api.md).

export type QoS = 0 | 1 | 2;

export type ErrorCode =
  | "InvalidUrl"
  | "InvalidOptions"
  | "ConnectionRefused"
  | "ConnectionLost"
  | "Timeout"
  | "InvalidTopic"
  | "InvalidQos"
  | "QueueFull"
  | "PacketTooLarge"
  | "Closed"
  | "PublishFailed"
  | "ProtocolError"
  | "StoreError";

/** Every rejection and `error` event of wasmqtt. */
export class MqttError extends Error {
  constructor(code: ErrorCode, message: string, reasonCode?: number);
  readonly name: "MqttError";
  readonly code: ErrorCode;
  /** The MQTT reason / return code, where the broker gave one. */
  readonly reasonCode?: number;
}

export type UserProperties = Record<string, string | string[]>;

export interface ConnectProperties {
  sessionExpiryInterval?: number;
  receiveMaximum?: number;
  maximumPacketSize?: number;
  topicAliasMaximum?: number;
  requestResponseInformation?: boolean;
  requestProblemInformation?: boolean;
  userProperties?: UserProperties;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
}

export interface PublishProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array | string;
  subscriptionIdentifier?: number;
  userProperties?: UserProperties;
}

export interface WillProperties extends Omit<PublishProperties, "subscriptionIdentifier"> {
  willDelayInterval?: number;
}

export interface Will {
  topic: string;
  payload: string | Uint8Array;
  qos?: QoS;
  retain?: boolean;
  properties?: WillProperties;
}

export interface ReconnectOptions {
  /** ms before the first retry (default 1000) */
  initialDelay?: number;
  /** largest delay in ms (default 30000) */
  maxDelay?: number;
  /** fraction of each delay randomised away, 0..1 (default 0.5) */
  jitter?: number;
}

export interface ConnectOptions {
  clientId?: string;
  protocolVersion?: 4 | 5;
  clean?: boolean;
  sessionExpiryInterval?: number;
  keepalive?: number;
  username?: string;
  password?: string | Uint8Array;
  will?: Will;
  connectTimeout?: number;
  reconnect?: ReconnectOptions | boolean;
  resubscribe?: boolean;
  persistence?: "indexeddb" | "memory";
  maxInflight?: number;
  maxQueued?: number;
  /**
   * Largest packet sent or accepted, in bytes (16 to 268435455; default 268435455). A publish
   * that would exceed it, or the broker's smaller limit from CONNACK, rejects `PacketTooLarge`;
   * a payload that cannot fit at all is refused before it is copied.
   */
  maxPacketSize?: number;
  properties?: ConnectProperties;
}

/** Properties the broker may send on CONNACK, DISCONNECT or PUBLISH. */
export interface ReceivedProperties extends ConnectProperties, Omit<PublishProperties, "subscriptionIdentifier"> {
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: boolean;
  wildcardSubscriptionAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionAvailable?: boolean;
  subscriptionIdentifier?: number | number[];
}

export interface Connack {
  sessionPresent: boolean;
  reasonCode: number;
  properties?: ReceivedProperties;
}

export interface PacketInfo {
  qos: QoS;
  retain: boolean;
  dup: boolean;
  properties?: ReceivedProperties;
}

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  properties?: PublishProperties;
}

export interface SubscribeOptions {
  qos?: QoS;
  /** MQTT 5 No Local */
  nl?: boolean;
  /** MQTT 5 Retain As Published */
  rap?: boolean;
  /** MQTT 5 Retain Handling */
  rh?: 0 | 1 | 2;
  properties?: { subscriptionIdentifier?: number; userProperties?: UserProperties };
}

export interface ClientEvents {
  /** `payload`: the message's own bytes; from 65 B to 1 KB a view into a shared buffer (its `buffer` is larger). */
  message: (topic: string, payload: Uint8Array, packet: PacketInfo) => void;
  connect: (connack: Connack) => void;
  reconnect: () => void;
  offline: () => void;
  close: () => void;
  error: (err: MqttError) => void;
  end: () => void;
}

export class Client {
  private constructor();
  free(): void;
  publish(topic: string, payload: string | Uint8Array, options?: PublishOptions): Promise<void>;
  subscribe(filter: string | string[], options?: SubscribeOptions): Promise<number[]>;
  unsubscribe(filter: string | string[], options?: { properties?: { userProperties?: UserProperties } }): Promise<void>;
  end(force?: boolean): Promise<void>;
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): Client;
  off<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): Client;
  readonly connected: boolean;
  readonly connack: Connack | null;
  readonly ended: boolean;
}

export function connect(url: string, options?: ConnectOptions): Promise<Client>;
export function createClient(url: string, options?: ConnectOptions): Client;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
  readonly memory: WebAssembly.Memory;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/** Loads the WebAssembly module; await it once before anything else. */
export default function __wbg_init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;
