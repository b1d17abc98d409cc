/**
 * The parts of Espruino's runtime API the fieldmq adapters use, as types.
 * Nothing here exists at run time: the objects come in through each
 * adapter's options (`{ net: require('net') }`, `{ serial: Serial1 }`),
 * so `src/` never calls `require` (DESIGN.md §3 "dependencies injected").
 *
 * Source: the Espruino API reference (espruino.com/Reference), generated
 * from the `JSON{...}` blocks of libs/network/jswrap_net.c (net, dgram,
 * Socket, dgramSocket), src/jswrap_serial.c (Serial) and
 * src/jswrap_espruino.c (E). Espruino strings are 8-bit: one character per
 * byte, 0..255 (DESIGN.md §4).
 */

/** `net.Socket` (also returned by `require('tls').connect`). */
export interface EspruinoSocket {
  /**
   * Queues `data` (a string, one char per byte) for sending. Returns `false`
   * for node.js compatibility; `'drain'` fires when the send buffer is empty.
   */
  write(data: string): boolean;
  /** Closes the socket (after sending `data`, if given). */
  end(data?: string): void;
  /** `'data'` (string), `'close'` (had_error), `'error'` ({ code, message }), `'drain'`. */
  on(event: 'data', cb: (data: string) => void): void;
  on(event: 'close', cb: (hadError: boolean) => void): void;
  on(event: 'error', cb: (err: EspruinoSocketError) => void): void;
  on(event: 'drain', cb: () => void): void;
}

/**
 * The `'error'` event's argument. Codes (jswrap_net.c): -1 closed, -2 out of
 * memory, -3 timeout, -4 no route, -5 busy, -6 not found (DNS), -7 max
 * sockets, -8 unsent data, -9 connection reset or refused, -10 unknown, -11
 * no connection, -12 bad argument, -13 SSL handshake failed, -14 invalid SSL
 * data.
 */
export interface EspruinoSocketError {
  code: number;
  message: string;
}

/** The `net` (or `tls`) module: `require('net')`. */
export interface EspruinoNet {
  /**
   * Starts a TCP (TLS for `require('tls')`) connection. `callback(socket)`
   * runs once it is connected. `options` holds `host`, `port` and, for TLS,
   * `ca`, `key`, `cert`.
   */
  connect(options: EspruinoConnectOptions, callback: (socket: EspruinoSocket) => void): EspruinoSocket;
}

/** Options of {@link EspruinoNet.connect}. */
export interface EspruinoConnectOptions {
  host: string;
  port: number;
  /** TLS only: CA certificate, decoded (`atob` of the PEM body), or a file name. */
  ca?: string;
  /** TLS only: client key. */
  key?: string;
  /** TLS only: client certificate. */
  cert?: string;
}

/** `dgram.Socket` (`dgramSocket` in the reference). */
export interface EspruinoDgramSocket {
  /** Sends `msg` (string) to `host:port`. Note the argument order. Returns `false`. */
  send(msg: string, port: number, host: string): boolean;
  /** Binds to a local port; `callback(socket)` runs when bound (with this same socket). */
  bind(port: number, callback: (socket: EspruinoDgramSocket) => void): EspruinoDgramSocket;
  /** Joins a multicast group. */
  addMembership?(group: string, ip: string): void;
  close(): void;
  /** `'message'` (msg string, rinfo { address, port, size }), `'close'`, `'error'`. */
  on(event: 'message', cb: (msg: string, rinfo: EspruinoRemoteInfo) => void): void;
  on(event: 'close', cb: (hadError: boolean) => void): void;
  on(event: 'error', cb: (err: EspruinoSocketError) => void): void;
}

/** The sender of a datagram. */
export interface EspruinoRemoteInfo {
  address: string;
  port: number;
  size?: number;
}

/** The `dgram` module: `require('dgram')`. */
export interface EspruinoDgram {
  /** `createSocket('udp4')` or `createSocket({ type: 'udp4', reuseAddr: true })`. */
  createSocket(type: string | { type: string; reuseAddr?: boolean }): EspruinoDgramSocket;
}

/** A UART: `Serial1`, `Serial2`, ... (or `LoopbackA`). */
export interface EspruinoSerial {
  /** Configures the port: `setup(9600, { rx: B7, tx: B6 })`. */
  setup(baud: number, options?: object): void;
  /**
   * Queues `data` for transmission. Espruino's serial TX buffer is small;
   * when it is full, `write` waits until there is room (there is no drain
   * event).
   */
  write(data: string): void;
  on(event: 'data', cb: (data: string) => void): void;
  /** Removes the listeners of `event` (every Espruino object has it). */
  removeAllListeners(event?: string): void;
}

/** The subset of Espruino's `E` object used here. */
export interface EspruinoE {
  /** Bytes to a string, one char per byte: `E.toString(new Uint8Array([1, 2]))`. */
  toString(data: Uint8Array): string | undefined;
}
