/**
 * The gateway's sensor links, built from configuration: {@link createTransports} makes one
 * {@link SensorTransport} per enabled link (`udp`, `udp6`, `serial`, `xbee`), several at once.
 * Nothing is opened here: the gateway calls `start()` on each.
 */
import type { GatewayConfig } from '../config/schema';
import type { SensorTransport } from './transport';
import { UdpSensorTransport } from './udp';
import { SerialSensorTransport, type ReopenPolicy } from './serial';
import { XBeeSensorTransport } from './xbee';

export type { SensorTransport } from './transport';
export { normalizeAddress } from './transport';
export { UdpSensorTransport, UDP_DEFAULT_MTU, type UdpTransportOptions, type UdpMulticastOptions } from './udp';
export { SerialSensorTransport, SerialLine, defaultWriteQueueBytes, type SerialTransportOptions, type ReopenPolicy } from './serial';
export { XBeeSensorTransport, XBEE_DEFAULT_MTU, type XBeeTransportOptions } from './xbee';

/** Settings of {@link createTransports} that are not in the config file. */
export interface CreateTransportsOptions {
  /** Bind address of the udp link; default `0.0.0.0`. */
  udpHost?: string;
  /** Bind address of the udp6 link; default `::`. */
  udp6Host?: string;
  /** Multicast interface of the udp link (a local IPv4 address or an interface name); default the system's. */
  udpInterface?: string;
  /**
   * How a user changes the UDP ports, quoted in "port in use" errors; default the config keys
   * (`"udp.port" in the config file`). The CLI passes its flag here.
   */
  udpPortHint?: string;
  /** As `udpPortHint`, for udp6. */
  udp6PortHint?: string;
  /** MTU of the XBee link (the radios' `ATNP`); default `XBEE_DEFAULT_MTU` (66). */
  xbeeMtu?: number;
  /** MTU of the raw serial link; default 256. */
  serialMtu?: number;
  /** Reopen back-off of serial and XBee devices that disappear. */
  reopen?: ReopenPolicy;
}

/**
 * Builds every enabled sensor link of `config`, in the order udp, udp6, serial, xbee; none
 * started. Returns an empty array when none is enabled.
 *
 * @throws Error when `serial` and `xbee` name the same device (one device cannot carry both).
 *
 * @example
 * ```ts
 * const transports = createTransports(config);
 * for (const t of transports) {
 *   t.onError = (kind, detail) => log.warn(detail, { transport: t.name, kind });
 * }
 * ```
 */
export function createTransports(config: GatewayConfig, opts: CreateTransportsOptions = {}): SensorTransport[] {
  const out: SensorTransport[] = [];
  const udp = config.udp;
  if (udp) {
    out.push(
      new UdpSensorTransport({
        type: 'udp4',
        port: udp.port,
        host: opts.udpHost,
        multicast: { group: udp.multicastIp, port: udp.multicastPort, ttl: udp.multicastTtl, interface: opts.udpInterface },
        portHint: opts.udpPortHint,
      }),
    );
  }
  const udp6 = config.udp6;
  if (udp6) {
    out.push(
      new UdpSensorTransport({
        type: 'udp6',
        port: udp6.port,
        host: opts.udp6Host,
        multicast: { group: udp6.multicastIp, port: udp6.multicastPort, ttl: udp6.multicastHops, interface: udp6.interface ?? undefined },
        portHint: opts.udp6PortHint,
      }),
    );
  }
  if (config.serial && config.xbee && config.serial.path === config.xbee.path) {
    throw new Error(`"serial.path" and "xbee.path" are both ${config.serial.path}: one device cannot carry raw MQTT-SN and XBee API frames; turn one off`);
  }
  if (config.serial) {
    out.push(new SerialSensorTransport({ path: config.serial.path, baud: config.serial.baud, mtu: opts.serialMtu, reopen: opts.reopen }));
  }
  if (config.xbee) {
    out.push(
      new XBeeSensorTransport({
        path: config.xbee.path,
        baud: config.xbee.baud,
        apiMode: config.xbee.apiMode,
        mtu: opts.xbeeMtu,
        reopen: opts.reopen,
      }),
    );
  }
  return out;
}
