/**
 * `startGateway` in this process: what it builds from a config, the IPv6 fallback, and that a
 * failed start leaves nothing behind. Real sockets on ports chosen by the OS.
 */
import dgram from 'node:dgram';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { answersMqtt } from '../../../gateway/broker/embedded';
import { defaultConfig, DEFAULT_UDP6, type GatewayConfig } from '../../../gateway/config/schema';
import { createLogger } from '../../../gateway/log';
import { GatewayStartError, ipv6Available, startGateway, type RunningGateway } from '../../../gateway/main';
import { MetricsServerError } from '../../../gateway/observability/prometheus';
import { freePort } from '../../support/peers';

function config(patch: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...defaultConfig(), udp: { ...defaultConfig().udp!, port: 0 }, ...patch };
}

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

const HAS_IPV6 = await ipv6Available();

describe('startGateway', () => {
  const running: RunningGateway[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });

  async function start(cfg: GatewayConfig, opts: Parameters<typeof startGateway>[1] = {}): Promise<RunningGateway> {
    const r = await startGateway(cfg, { embeddedPort: 0, embeddedHost: '127.0.0.1', ...opts });
    running.push(r);
    return r;
  }

  it('without a broker: starts the embedded broker and links the gateway to it', async () => {
    const r = await start(config());
    expect(r.embedded).not.toBeNull();
    expect(r.broker).toMatchObject({ host: '127.0.0.1', port: r.embedded!.port, protocolVersion: 4 });
    expect(r.listening).toEqual([{ name: 'udp', address: `0.0.0.0:${r.listening[0]!.port}`, port: r.listening[0]!.port }]);
    expect(r.listening[0]!.port).toBeGreaterThan(0);
    expect(r.metricsServer).toBeNull();
    expect(r.sys).toBeNull();
    expect(r.summary).toContain(`embedded broker at mqtt://localhost:${r.embedded!.port}`);
    expect(r.summary).toContain('transparent mode');
    // The gateway's own connection is on the embedded broker.
    expect(r.embedded!.clientCount()).toBeGreaterThanOrEqual(1);
  });

  it('stop closes the embedded broker and the UDP socket; a second stop is harmless', async () => {
    const r = await startGateway(config(), { embeddedPort: 0, embeddedHost: '127.0.0.1' });
    const { port } = r.embedded!;
    const udpPort = r.listening[0]!.port!;
    await r.stop();
    await r.stop();
    expect(await answersMqtt('127.0.0.1', port)).toBe(false);
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(udpPort, '0.0.0.0', () => resolve());
    });
    s.close();
  });

  it('with metrics and $SYS: the endpoint answers and the summary says where', async () => {
    const r = await start(config({ metricsPort: 0, sysInterval: 60 }), { metricsHost: '127.0.0.1', version: '1.0.0' });
    expect(r.metricsServer).not.toBeNull();
    expect((await fetch(r.metricsServer!.url)).status).toBe(200);
    expect(r.summary).toContain(`metrics at ${r.metricsServer!.url}`);
    expect(r.summary).toContain('counters every 60 s under $SYS/fieldmq/fieldmq-gateway/');
    expect(r.summary).toContain('fieldmq-gateway 1.0.0 ');
  });

  it('IPv6 wanted only where available: without it, warns and runs on IPv4', async () => {
    const { lines, log } = capture();
    const r = await start(config({ udp6: { ...DEFAULT_UDP6, port: 0 } }), { udp6Optional: true, ipv6Probe: async () => false, log });
    expect(r.config.udp6).toBeNull();
    expect(r.listening.map((l) => l.name)).toEqual(['udp']);
    expect(lines.join('\n')).toMatch(/WARN .*no IPv6: MQTT-SN over UDP\/IPv6 is off/);
  });

  it.runIf(HAS_IPV6)('IPv6 available: listens on udp and udp6', async () => {
    const r = await start(config({ udp6: { ...DEFAULT_UDP6, port: 0, multicastPort: 0 } }), { udp6Optional: true });
    expect(r.listening.map((l) => l.name)).toEqual(['udp', 'udp6']);
    expect(r.listening[1]!.address).toMatch(/^\[::\]:\d+$/);
  });

  it('a UDP port in use: GatewayStartError with the hint, and the embedded broker is closed again', async () => {
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '0.0.0.0', r));
    const embeddedPort = await freePort();
    try {
      const err = await startGateway(config({ udp: { ...defaultConfig().udp!, port: blocker.address().port } }), {
        embeddedPort,
        embeddedHost: '127.0.0.1',
        portHints: { udp: '--udp-port' },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayStartError);
      expect((err as Error).name).toBe('GatewayStartError');
      expect((err as Error).message).toContain('--udp-port');
      expect(await answersMqtt('127.0.0.1', embeddedPort)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('a metrics port in use: MetricsServerError, and everything started before is stopped', async () => {
    const first = await start(config({ metricsPort: 0 }), { metricsHost: '127.0.0.1' });
    const embeddedPort = await freePort();
    const err = await startGateway(config({ metricsPort: first.metricsServer!.port }), {
      embeddedPort,
      embeddedHost: '127.0.0.1',
      metricsHost: '127.0.0.1',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsServerError);
    expect(await answersMqtt('127.0.0.1', embeddedPort)).toBe(false);
  });

  it('the embedded broker lets the gateway publish its $SYS tree under a custom $SYS prefix too', async () => {
    const r = await start(config({ sysInterval: 60 }), { sysPrefix: '$SYS/site-a' });
    const c = await mqtt.connectAsync(r.embedded!.connectUrl, { reconnectPeriod: 0 });
    try {
      const got = new Promise<string>((resolve) => c.on('message', (_t, p) => resolve(p.toString())));
      await c.subscribeAsync('$SYS/site-a/fieldmq-gateway/state');
      expect(await got).toBe('online');
    } finally {
      await c.endAsync();
    }
  });
});
