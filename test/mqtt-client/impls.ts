/**
 * The two MQTT client implementations the client suites run against:
 * `MqttClient` (MQTT 3.1.1 and 5.0, used by the gateway and the full device
 * bundles) and the lean `createMqttLite` (MQTT 3.1.1 only, the 3.1.1 device
 * bundle). Both satisfy the {@link MqttLite} interface the suites drive.
 */
import { MqttClient, type MqttClientOptions } from '../../src/mqtt/client';
import { createMqttLite, type MqttLite } from '../../src/mqtt/lite';

export type { MqttLite };

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
