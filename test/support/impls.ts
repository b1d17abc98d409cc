/**
 * The client implementations the suites run against, one list per protocol:
 * the full clients (`MqttClient`, `SnClient`: used by the gateway and the
 * full device bundles) and the lean ones (`createMqttLite`, `createSnLite`:
 * the 3.1.1 and MQTT-SN device bundles). Each lean client satisfies its
 * interface ({@link MqttLite}, {@link SnLite}) and so does the full one.
 */
import { MqttClient, type MqttClientOptions } from '../../src/mqtt/client';
import { createMqttLite, type MqttLite } from '../../src/mqtt/lite';
import { SnClient, type SnClientOptions } from '../../src/mqttsn/client';
import { createSnLite, type SnLite } from '../../src/mqttsn/lite';

export type { MqttLite, SnLite };

/** An MQTT client implementation. */
export interface ClientImpl {
  /** Shown in the test names. */
  name: string;
  /** Builds a client. */
  make(o: MqttClientOptions): MqttLite;
  /** Speaks MQTT 5.0 too. */
  mqtt5: boolean;
}

export const IMPLS: readonly ClientImpl[] = [
  { name: 'MqttClient', make: (o) => new MqttClient(o), mqtt5: true },
  { name: 'MqttLite', make: (o) => createMqttLite(o), mqtt5: false },
];

/** An MQTT-SN client implementation. */
export interface SnImpl {
  /** Shown in the test names. */
  name: string;
  make(o: SnClientOptions): SnLite;
  /** Has QoS 2, discovery and the Will (`SnClient`); the lean client has the "standard" profile plus sleep. */
  full: boolean;
}

/** `SnClient`, and the lean `createSnLite` (the MQTT-SN device bundle). */
export const SN_IMPLS: readonly SnImpl[] = [
  { name: 'SnClient', make: (o) => new SnClient(o), full: true },
  { name: 'SnLite', make: (o) => createSnLite(o), full: false },
];
