/**
 * The broker link over TLS (`mqtts://`, `--ca`, `--cert`, `--key`) against a real Mosquitto TLS
 * listener, with a CA and a server certificate made by the `openssl` CLI for this run. An
 * MQTT.js observer on Mosquitto's plain listener checks what arrives.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { defaultConfig, type BrokerConfig } from '../../../gateway/config/schema';
import { createBrokerLink } from '../../../gateway/broker/index';
import { findExecutable, freePort, requirePeer } from '../../support/peers';
import { requireMosquitto, startMosquitto, type MosquittoBroker } from '../../support/mosquitto';

const openssl = findExecutable('openssl');
const run =
  requirePeer('openssl', openssl !== null, 'no openssl CLI on PATH to make test certificates (apt-get install openssl)') && requireMosquitto();

/** A CA, and a server certificate for 127.0.0.1 signed by it, in a temp directory. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const ossl = (...args: string[]): void => void execFileSync(openssl!, args, { cwd: dir, stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=fieldmq test CA');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

describe.runIf(run)('broker link over TLS (mqtts://) to Mosquitto', () => {
  let dir = '';
  let certs: { ca: string; cert: string; key: string };
  let broker: MosquittoBroker;
  let tlsPort = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fieldmq-tls-'));
    certs = makeCertificates(dir);
    tlsPort = await freePort();
    broker = await startMosquitto({
      config: [`listener ${tlsPort} 127.0.0.1`, `cafile ${certs.ca}`, `certfile ${certs.cert}`, `keyfile ${certs.key}`].join('\n'),
    });
  });
  afterAll(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tlsBroker = (ca: string | null): BrokerConfig => ({
    url: `mqtts://127.0.0.1:${tlsPort}`,
    host: '127.0.0.1',
    port: tlsPort,
    tls: { ca, caPath: null, cert: null, key: null },
    username: null,
    password: null,
    protocolVersion: 4,
    keepAlive: 60,
  });

  for (const mode of ['aggregating', 'transparent'] as const) {
    it(`${mode}: connects with the configured CA and delivers a QoS 1 message`, async () => {
      const observer = await mqtt.connectAsync(broker.url, { clientId: `tls-observer-${mode}` });
      try {
        await observer.subscribeAsync('tls/#', { qos: 1 });
        const got = new Promise<string>((resolve) => observer.on('message', (t, p) => resolve(`${t} ${p.toString()}`)));
        const config = { ...defaultConfig(), mode, gatewayName: `tls-${mode}` };
        const link = createBrokerLink(config, { broker: tlsBroker(certs.ca), connectTimeout: 5000 });
        link.handlers = { onMessage: () => {} };
        await link.start();
        try {
          const done = new Promise<number>((resolve) => {
            expect(link.publish(null, 'tls/reading', new TextEncoder().encode('21.5'), 1, false, resolve)).toBe(0);
          });
          expect(await done).toBe(0);
          expect(await got).toBe('tls/reading 21.5');
        } finally {
          await link.stop();
        }
      } finally {
        await observer.endAsync(true);
      }
    });
  }

  it('refuses a broker whose certificate the configured trust does not verify, saying why', async () => {
    // No CA: Node's bundled roots do not know the test CA.
    const link = createBrokerLink({ ...defaultConfig(), mode: 'aggregating', gatewayName: 'tls-untrusted' }, { broker: tlsBroker(null), connectTimeout: 3000 });
    link.handlers = { onMessage: () => {} };
    const err = await link.start().then(
      () => null,
      (e: Error) => e,
    );
    await link.stop();
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/mqtts:\/\/127\.0\.0\.1/);
  });
});
