/**
 * The ECMA-419 IO classes the Moddable adapters use, as types. Nothing here
 * exists at run time: the constructors come in through each adapter's
 * options (`import TCP from "embedded:io/socket/tcp"` in the app, then
 * `{ TCP }`), so `src/` imports no host module (DESIGN.md §3).
 *
 * Source: ECMA-419 (ECMAScript embedded systems API specification),
 * §9 "IO Class Pattern" (constructor options, `read`, `write`, `format`,
 * callbacks `onReadable` / `onWritable` / `onError`) and §10 "IO classes":
 * "Serial", "TCP socket", "UDP socket", "TLS Client socket" (sub-clause
 * numbers within §10 differ between editions, so they are cited by title).
 * Where the Moddable SDK's shipping implementation differs from the text,
 * the difference is noted (Moddable-OpenSource/moddable, modules/io/socket/
 * lwip/tcp.c, udp.c; modules/io/serial/esp32/serial.c).
 */

/** Options of the ECMA-419 TCP socket constructor (§10 "TCP socket"). */
export interface Ecma419TcpOptions {
  /** IP address of the remote endpoint (a string; names are resolved elsewhere). */
  address: string;
  port: number;
  /** Disables Nagle's algorithm (`TCP_NODELAY`). */
  noDelay?: boolean;
  /** The Moddable SDK's spelling of `noDelay` (lwip/tcp.c reads `nodelay`). */
  nodelay?: boolean;
  /** Keep-alive interval in milliseconds. */
  keepAlive?: number;
  /** `"buffer"` (default) or `"number"` (§9 `format`). */
  format?: string;
  /** TLS Client socket only (§10 "TLS Client socket"): `{ host, ca, clientKey, clientCertificate, ... }`. */
  tls?: object;
  /** Data arrived; `bytes` is how many can be read now. Invoked with `this` = the socket. */
  onReadable?: (bytes: number) => void;
  /** First invoked on connect; later when `bytes` more may be written. */
  onWritable?: (bytes: number) => void;
  /** An error or disconnect: the socket is no longer usable (only `close` may be called). */
  onError?: () => void;
}

/** An ECMA-419 TCP socket instance. */
export interface Ecma419Tcp {
  /**
   * Format `"buffer"`: `read(buffer)` fills the view and returns the count;
   * `read(count)` returns an `ArrayBuffer`; `undefined` when nothing is
   * available. (The Moddable SDK throws when asked for more than is
   * available, so callers ask for at most `onReadable`'s count.)
   */
  read(buffer: Uint8Array): number | undefined;
  /**
   * Sends every byte of the view or throws (§9 `write`: "must write all the
   * data provided" or throw); returns the updated writable count.
   */
  write(buffer: Uint8Array): number;
  close(): void;
  format: string;
}

/** The TCP socket (or TLS Client socket) constructor: `embedded:io/socket/tcp` / `embedded:io/socket/tcp/tls`. */
export type Ecma419TcpConstructor = new (options: Ecma419TcpOptions) => Ecma419Tcp;

/** Options of the ECMA-419 UDP socket constructor (§10 "UDP socket"). */
export interface Ecma419UdpOptions {
  /** Local port to bind. */
  port?: number;
  /** Local interface address to bind. */
  address?: string;
  format?: string;
  /** `packets` datagrams are waiting. */
  onReadable?: (packets: number) => void;
}

/** A datagram as `read()` returns it: the bytes, with the sender attached. */
export interface Ecma419Datagram extends ArrayBuffer {
  address: string;
  port: number;
}

/** An ECMA-419 UDP socket instance. */
export interface Ecma419Udp {
  /** One whole datagram as an `ArrayBuffer` with `address` and `port` attached, or `undefined`. */
  read(): Ecma419Datagram | undefined;
  /**
   * Sends one datagram. ECMA-419's text: `write(buffer, address, port)`; the
   * Moddable SDK (lwip/udp.c, its docs and tests): `write(address, port,
   * buffer)`. The adapter's `writeOrder` option picks one.
   */
  write(a: unknown, b: unknown, c: unknown): void;
  /** Joins a multicast group. */
  add?(multicastAddress: string): void;
  close(): void;
}

/** The UDP socket constructor: `embedded:io/socket/udp`. */
export type Ecma419UdpConstructor = new (options: Ecma419UdpOptions) => Ecma419Udp;

/** Options of the ECMA-419 Serial constructor (§10 "Serial"). */
export interface Ecma419SerialOptions {
  baud: number;
  /** Receive pin specifier. */
  receive?: unknown;
  /** Transmit pin specifier. */
  transmit?: unknown;
  /** Port specifier (which UART). */
  port?: unknown;
  /** `"hardware"` or `"none"`. */
  flowControl?: string;
  /** `"number"` (one byte per call) or `"buffer"`. */
  format?: string;
  onReadable?: (bytes: number) => void;
  /** First invoked when ready; later when `bytes` may be written without overflowing. */
  onWritable?: (bytes: number) => void;
}

/** An ECMA-419 Serial instance, used with format `"number"`. */
export interface Ecma419Serial {
  /** Format `"number"`: the next byte, or `undefined` when none is waiting. Never waits. */
  read(): number | undefined;
  /** Format `"number"`: transmits one byte; throws when the output buffer is full. */
  write(byte: number): void;
  close(): void;
  format: string;
}

/** The Serial constructor: `embedded:io/serial`. */
export type Ecma419SerialConstructor = new (options: Ecma419SerialOptions) => Ecma419Serial;
