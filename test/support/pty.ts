/**
 * Pseudo-terminal pairs for serial-link tests, made by socat
 * (`socat -d -d pty,raw,echo=0 pty,raw,echo=0`): what one end writes, the other reads, as over
 * a null-modem cable. The code under test opens one end; the test drives the other with a
 * {@link PtyPeer} (a second SerialPort that collects what arrives and waits with deadlines).
 *
 * @example
 * ```ts
 * const socat = socatPath();
 * const run = requirePeer('socat', socat !== null, 'install socat (apt-get install socat)');
 * describe.skipIf(!run)('serial link', () => {
 *   let pair: PtyPair;
 *   beforeAll(async () => { pair = await createPtyPair(); });
 *   afterAll(() => pair?.close());
 *   it('echoes', async () => {
 *     const peer = await PtyPeer.open(pair.peerEnd);
 *     await peer.write(Uint8Array.of(2, 0x16));
 *     await peer.waitForBytes(2, 2000);
 *     await peer.close();
 *   });
 * });
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SerialPort } from 'serialport';
import { findExecutable } from './peers';

/** The socat binary, or null when it is not installed. */
export function socatPath(): string | null {
  return findExecutable('socat', ['/usr/bin', '/usr/local/bin']);
}

/** A running socat joining two PTYs. */
export interface PtyPair {
  /** Path of the end the code under test opens (the `link` when one was asked for). */
  readonly transportEnd: string;
  /** Path of the end the test drives. */
  readonly peerEnd: string;
  /** The real `/dev/pts/N` paths, in socat's order. */
  readonly devices: readonly [string, string];
  /** socat's process id. */
  readonly pid: number;
  /** True once socat has exited. */
  readonly exited: boolean;
  /** Kills socat (SIGTERM) and resolves when it has exited; both PTYs then vanish. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link createPtyPair}. */
export interface PtyPairOptions {
  /** A symlink socat creates to the transport end (survives a socat restart: same path, new PTY). */
  transportLink?: string;
  /** A symlink socat creates to the peer end. */
  peerLink?: string;
  /** Deadline for socat to report both PTYs and start its transfer loop; default 5,000 ms. */
  timeoutMs?: number;
}

/**
 * Starts socat with two raw, non-echoing PTYs and resolves once its transfer loop runs (both
 * ends exist). Parses the two `PTY is /dev/pts/N` lines of `-d -d` from its stderr.
 *
 * @throws when socat is missing, exits early, or does not get ready by the deadline (the
 *   message includes what socat printed).
 */
export function createPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const socat = socatPath();
  if (socat === null) return Promise.reject(new Error('socat is not installed (apt-get install socat)'));
  const end = (link: string | undefined): string => `pty,raw,echo=0${link ? `,link=${link}` : ''}`;
  const child: ChildProcess = spawn(socat, ['-d', '-d', end(options.transportLink), end(options.peerLink)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  const close = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) child.kill('SIGTERM');
    await exitPromise;
  };
  return new Promise<PtyPair>((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 5000;
    const timer = setTimeout(() => fail(new Error(`socat did not start within ${timeoutMs} ms; it printed:\n${stderr}`)), timeoutMs);
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void close().then(() => reject(err));
    };
    child.once('error', (err) => fail(new Error(`cannot run socat: ${err.message}`)));
    child.once('exit', (code) => fail(new Error(`socat exited (code ${code}) before it was ready; it printed:\n${stderr}`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      if (settled) return;
      const ptys = [...stderr.matchAll(/PTY is (\S+)/g)].map((m) => m[1]!);
      if (ptys.length < 2 || !/starting data transfer loop/.test(stderr)) return;
      settled = true;
      clearTimeout(timer);
      const devices: [string, string] = [ptys[0]!, ptys[1]!];
      resolve({
        transportEnd: options.transportLink ?? devices[0],
        peerEnd: options.peerLink ?? devices[1],
        devices,
        pid: child.pid!,
        get exited() {
          return exited;
        },
        close,
      });
    });
  });
}

/**
 * Opens `path` exclusively (serialport takes an advisory lock) and closes it again: resolves
 * when nobody else holds the device, rejects with serialport's error when someone does.
 */
export function openExclusively(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = new SerialPort({ path, baudRate: 9600, autoOpen: false, lock: true });
    p.open((err) => (err ? reject(err) : p.close(() => resolve())));
  });
}

/**
 * The test's end of a PTY pair: a SerialPort that writes what the test gives it and collects
 * everything that arrives, with deadline-bound waits (no sleeps).
 */
export class PtyPeer {
  private readonly port: SerialPort;
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();

  private constructor(port: SerialPort) {
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (const w of [...this.waiters]) w();
    });
    port.on('error', () => {
      // the test sees missing bytes through its deadlines
    });
  }

  /** Opens `path` (a PTY end) at `baudRate` (default 9600; a PTY ignores it). */
  static open(path: string, baudRate = 9600): Promise<PtyPeer> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      port.open((err) => (err ? reject(err) : resolve(new PtyPeer(port))));
    });
  }

  /** Octets received and not yet taken. */
  get received(): Uint8Array {
    return new Uint8Array(this.buf);
  }

  /** Writes `bytes` and resolves once they reached the PTY. */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(bytes), (err) => {
        if (err) return reject(err);
        this.port.drain((e) => (e ? reject(e) : resolve()));
      });
    });
  }

  /**
   * Resolves once at least `n` octets are waiting, then removes and returns exactly `n`.
   * Rejects after `timeoutMs`, showing what did arrive.
   */
  take(n: number, timeoutMs: number): Promise<Uint8Array> {
    return this.until(`${n} octets`, () => (this.buf.length >= n ? n : undefined), timeoutMs).then((k) => {
      const out = new Uint8Array(this.buf.subarray(0, k));
      this.buf = this.buf.subarray(k);
      return out;
    });
  }

  /**
   * Waits until `check(received)` returns a number of octets to take (then removes and returns
   * them) or rejects after `timeoutMs`.
   */
  takeWhen(what: string, check: (received: Uint8Array) => number | undefined, timeoutMs: number): Promise<Uint8Array> {
    return this.until(what, () => check(this.buf), timeoutMs).then((k) => {
      const out = new Uint8Array(this.buf.subarray(0, k));
      this.buf = this.buf.subarray(k);
      return out;
    });
  }

  /** Closes the port; idempotent. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.port.isOpen) return resolve();
      this.port.close(() => resolve());
    });
  }

  private until<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const test = (): void => {
        const v = check();
        if (v === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(test);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${this.buf.length} octets: ${this.buf.toString('hex')}`));
      }, timeoutMs);
      this.waiters.add(test);
      test();
    });
  }
}
