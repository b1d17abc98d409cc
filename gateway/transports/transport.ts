/**
 * The one contract every sensor-network link of the gateway implements (DESIGN.md §2):
 * UDP over IPv4 and IPv6, raw serial and XBee API. The gateway core sees only this; the
 * framing codecs (`xbee-frame.ts`, `serial-frame.ts`) sit behind it, the I/O (`node:dgram`,
 * `serialport`) inside it.
 *
 * Addresses are opaque strings the transport hands out with each packet and takes back in
 * {@link SensorTransport.send}. They are stable for one peer and unique within one transport:
 *
 * | transport | address form | example |
 * | --- | --- | --- |
 * | `udp` | `ip:port` | `192.168.1.20:50123` |
 * | `udp6` | `[ipv6]:port` | `[fe80::1%eth0]:50123` |
 * | `xbee` | 16 upper-case hex digits (64-bit source address, MQTT-SN 1.2 §5.5 "WirelessNodeId" of the radio) | `0013A20040A1B2C3` |
 * | `serial` | the device path (one peer per line) | `/dev/ttyUSB0` |
 *
 * These are the forms a Paho `clients.conf` uses, so a configured client is matched by string
 * equality (see {@link normalizeAddress}).
 */

/** A sensor-network link: where MQTT-SN messages come from and go to. */
export interface SensorTransport {
  /** `'udp'`, `'udp6'`, `'serial'` or `'xbee'`; unique within one gateway. */
  readonly name: string;
  /**
   * Largest MQTT-SN message (octets) the link carries in one piece: 1,024 on UDP by default,
   * the radio payload on XBee (about 84 for ZigBee unicast). The gateway never sends more.
   */
  readonly mtu: number;
  /** Binds or opens the link; resolves once it is receiving, rejects with a clear `Error` (port in use, no such device). */
  start(): Promise<void>;
  /** Closes the link; idempotent; resolves once the socket / device is closed. */
  stop(): Promise<void>;
  /**
   * Sends one MQTT-SN message (`bytes`, whole) to `address`, a string this transport gave to
   * {@link SensorTransport.onPacket}. The transport copies what it keeps: the caller may reuse
   * `bytes` as soon as `send` returns. Never throws; returns false when it could not send
   * (link down, malformed address, message over {@link SensorTransport.mtu}).
   */
  send(bytes: Uint8Array, address: string): boolean;
  /**
   * Sends one message to every node in reach (MQTT-SN 1.2 §6.1: ADVERTISE, GWINFO): the
   * multicast group on UDP, a broadcast transmit request on XBee (radius = hops, 0 = network
   * maximum), the line itself on serial. Same copy rule and return value as `send`.
   */
  broadcast(bytes: Uint8Array, radius: number): boolean;
  /**
   * Set by the gateway: one packet arrived from `address`. `bytes` is a view valid only
   * during the call (copy what you keep). Called from the event loop, never re-entrantly.
   */
  onPacket: ((bytes: Uint8Array, address: string) => void) | null;
  /**
   * Set by the gateway: link-level trouble that did not stop the link (a framing error, a bad
   * checksum, a socket error), for logs and counters. `kind` is a short stable word
   * (`'framing'`, `'checksum'`, `'io'`, `'delivery'`), `detail` a human sentence.
   */
  onError: ((kind: string, detail: string) => void) | null;
}

/**
 * Normalises an address as written in configuration (Paho `clients.conf`) to the form a
 * transport hands out: IPv4 `ip:port` unchanged, IPv6 `[addr]:port` with the address in
 * lower case (its `%zone` kept as written), an XBee address in upper case. Returns the input trimmed when it has none of
 * those forms.
 */
export function normalizeAddress(address: string): string {
  const a = address.trim();
  if (/^[0-9a-fA-F]{16}$/.test(a)) return a.toUpperCase();
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(a);
  if (v6) {
    // Lower-case the hex digits, keep the zone (`%eth0`) as the OS names it.
    const [addr, zone] = v6[1]!.split('%', 2) as [string, string | undefined];
    return `[${addr.toLowerCase()}${zone === undefined ? '' : `%${zone}`}]:${Number(v6[2])}`;
  }
  return a;
}

/**
 * Hands one packet to `t.onPacket` (when set). The gateway's handler must not throw into a
 * socket or serial-port event: a throw is caught, and its report for `onError('io', …)` is
 * returned; null when none.
 */
export function handOver(t: SensorTransport, bytes: Uint8Array, address: string): string | null {
  const cb = t.onPacket;
  if (cb === null) return null;
  try {
    cb(bytes, address);
    return null;
  } catch (err) {
    return `${t.name}: onPacket threw for a packet from ${address}: ${errorText(err)}`;
  }
}

/** An error's message (with its code when the message lacks it). */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
