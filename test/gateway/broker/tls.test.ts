/**
 * The broker link over TLS (`mqtts://`, `--ca`, `--cert`, `--key`) against real Mosquitto TLS
 * listeners, with a CA, a server certificate and a client certificate made by the `openssl` CLI
 * for this run: one listener with server authentication only, one that requires a client
 * certificate signed by the CA (`require_certificate true`, the certificate's CN taken as the
 * user name). An MQTT.js observer on Mosquitto's plain listener checks what arrives.
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

interface Certificates {
  ca: string;
  cert: string;
  key: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate (CN `fieldmq-gateway`) signed by it, in a temp directory. */
function makeCertificates(dir: string): Certificates {
  const ossl = (...args: string[]): void => void execFileSync(openssl!, args, { cwd: dir, stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=fieldmq test CA');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=fieldmq-gateway');
  ossl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2');
  return {
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  };
}

describe.runIf(run)('broker link over TLS (mqtts://) to Mosquitto', () => {
  let dir = '';
  let certs: Certificates;
  let broker: MosquittoBroker;
  let tlsPort = 0;
  let mtlsPort = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fieldmq-tls-'));
    certs = makeCertificates(dir);
    tlsPort = await freePort();
    mtlsPort = await freePort();
    const server = [`cafile ${certs.ca}`, `certfile ${certs.cert}`, `keyfile ${certs.key}`];
    broker = await startMosquitto({
      config: [
        `listener ${tlsPort} 127.0.0.1`,
        ...server,
        `listener ${mtlsPort} 127.0.0.1`,
        ...server,
        'require_certificate true',
        'use_identity_as_username true',
      ].join('\n'),
    });
  });
  afterAll(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tlsBroker = (ca: string | null, client?: { cert: string; key: string }): BrokerConfig => ({
    url: `mqtts://127.0.0.1:${client ? mtlsPort : tlsPort}`,
    host: '127.0.0.1',
    port: client ? mtlsPort : tlsPort,
    tls: { ca, caPath: null, cert: client?.cert ?? null, key: client?.key ?? null },
    username: null,
    password: null,
    protocolVersion: 4,
    keepAlive: 60,
  });

  /**
   * Starts a link of `mode` to `to`, publishes a QoS 1 message on `<prefix>/reading`, and returns
   * what the observer on the plain listener received, with the Mosquitto log lines of the run.
   */
  async function deliver(mode: 'aggregating' | 'transparent', prefix: string, to: BrokerConfig, payload: string): Promise<{ got: string; log: string }> {
    const observer = await mqtt.connectAsync(broker.url, { clientId: `${prefix}-observer-${mode}` });
    try {
      await observer.subscribeAsync(`${prefix}/#`, { qos: 1 });
      const got = new Promise<string>((resolve) => observer.on('message', (t, p) => resolve(`${t} ${p.toString()}`)));
      const link = createBrokerLink({ ...defaultConfig(), mode, gatewayName: `${prefix}-${mode}` }, { broker: to, connectTimeout: 5000 });
      link.handlers = { onMessage: () => {} };
      const from = broker.log().length;
      await link.start();
      try {
        const done = new Promise<number>((resolve) => {
          expect(link.publish(null, `${prefix}/reading`, new TextEncoder().encode(payload), 1, false, resolve)).toBe(0);
        });
        expect(await done).toBe(0);
        return { got: await got, log: broker.log().slice(from) };
      } finally {
        await link.stop();
      }
    } finally {
      await observer.endAsync(true);
    }
  }

  for (const mode of ['aggregating', 'transparent'] as const) {
    it(`${mode}: connects with the configured CA and delivers a QoS 1 message`, async () => {
      expect((await deliver(mode, 'tls', tlsBroker(certs.ca), '21.5')).got).toBe('tls/reading 21.5');
    });

    it(`${mode}: authenticates with a client certificate (--cert / --key) to a listener that requires one`, async () => {
      const r = await deliver(mode, 'mtls', tlsBroker(certs.ca, { cert: certs.clientCert, key: certs.clientKey }), '7.25');
      expect(r.got).toBe('mtls/reading 7.25');
      expect(r.log).toMatch(/u'fieldmq-gateway'/); // Mosquitto took the certificate's CN as the user name
    });
  }

  /** The error `start` rejects with for a link to `to` (null when it started). */
  async function startError(to: BrokerConfig, name: string): Promise<Error | null> {
    const link = createBrokerLink({ ...defaultConfig(), mode: 'aggregating', gatewayName: name }, { broker: to, connectTimeout: 3000 });
    link.handlers = { onMessage: () => {} };
    const err = await link.start().then(
      () => null,
      (e: Error) => e,
    );
    await link.stop();
    return err;
  }

  it('fails to start, suggesting --cert and --key, when a listener requires a client certificate and none is configured', async () => {
    // TLS 1.3: Mosquitto's "certificate required" alert comes after the handshake. When the link
    // reads it, start fails at once quoting it; when the CONNECT written meanwhile meets the reset
    // first (ECONNRESET), start keeps trying until its timeout. Either way the message says what to do.
    const err = await startError({ ...tlsBroker(certs.ca), url: `mqtts://127.0.0.1:${mtlsPort}`, port: mtlsPort }, 'mtls-none');
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(new RegExp(`^broker mqtts://127\\.0\\.0\\.1:${mtlsPort} (ended the TLS handshake \\(tlsv13 alert certificate required|did not accept a connection within 3000 ms; last error: .*ECONNRESET)`));
    expect(err!.message).toContain('does it require a client certificate? check --cert and --key');
  });

  it('fails to start at once, saying why, when the broker’s certificate does not verify against the configured trust', async () => {
    // No CA: Node's bundled roots do not know the test CA.
    const t0 = performance.now();
    const err = await startError(tlsBroker(null), 'tls-untrusted');
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(`broker mqtts://127.0.0.1:${tlsPort}: its TLS certificate is not trusted (self-signed certificate in certificate chain; check --ca`);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
