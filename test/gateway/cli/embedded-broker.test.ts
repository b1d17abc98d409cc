/**
 * The embedded broker (Aedes behind `node:net`), with real MQTT.js clients on ports chosen by
 * the OS.
 */
import net from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerPortInUseError, answersMqtt, startEmbeddedBroker, type EmbeddedBroker } from '../../../gateway/broker/embedded';
import { once } from '../../support/peers';
import { watch, type Watcher } from '../observability/mqtt-watch';

describe('embedded broker', () => {
  const brokers: EmbeddedBroker[] = [];
  const watchers: Watcher[] = [];
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.close()));
    await Promise.all(brokers.splice(0).map((b) => b.stop()));
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  async function start(opts: Parameters<typeof startEmbeddedBroker>[0] = {}): Promise<EmbeddedBroker> {
    const b = await startEmbeddedBroker({ port: 0, ...opts });
    brokers.push(b);
    return b;
  }

  async function subscriber(b: EmbeddedBroker, filter: string | string[]): Promise<Watcher> {
    const w = await watch(b.connectUrl, filter);
    watchers.push(w);
    return w;
  }

  it('carries MQTT 3.1.1 messages between clients', async () => {
    const b = await start({ host: '127.0.0.1' });
    expect(b.url).toBe(`mqtt://localhost:${b.port}`);
    expect(b.connectUrl).toBe(`mqtt://127.0.0.1:${b.port}`);
    const w = await subscriber(b, 'sensors/#');
    const pub = await mqtt.connectAsync(b.connectUrl, { reconnectPeriod: 0 });
    await pub.publishAsync('sensors/t1', '21.5', { qos: 1 });
    await w.message('sensors/t1', '21.5');
    expect(b.clientCount()).toBe(2);
    await pub.endAsync();
  });

  it('listens on every interface by default (IPv4 loopback reaches it)', async () => {
    const b = await start();
    expect(['::', '0.0.0.0']).toContain(b.host);
    expect(await answersMqtt('127.0.0.1', b.port)).toBe(true);
  });

  it('accepts client ids longer than 23 characters (transparent mode uses the sensors\' ids)', async () => {
    const b = await start({ host: '127.0.0.1' });
    const c = await mqtt.connectAsync(b.connectUrl, { clientId: 'a-rather-long-sensor-client-id-0013A20040A1B2C3', reconnectPeriod: 0 });
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it('lets clients publish under $SYS/fieldmq/, seen by $SYS/fieldmq/# but not by #', async () => {
    const b = await start({ host: '127.0.0.1' });
    const all = await subscriber(b, '#');
    const sys = await subscriber(b, '$SYS/fieldmq/#');
    const pub = await mqtt.connectAsync(b.connectUrl, { reconnectPeriod: 0 });
    await pub.publishAsync('$SYS/fieldmq/gw/uptime', '5', { qos: 1 });
    await pub.publishAsync('marker', 'm', { qos: 1 });
    await sys.message('$SYS/fieldmq/gw/uptime', '5');
    await all.message('marker');
    expect(all.seen.map((s) => s.topic)).toEqual(['marker']);
    await pub.endAsync();
  });

  it('refuses client publishes to any other $SYS/ topic by closing that connection', async () => {
    const b = await start({ host: '127.0.0.1' });
    const sys = await subscriber(b, ['$SYS/other/#', 'marker']);
    const pub = await mqtt.connectAsync(b.connectUrl, { reconnectPeriod: 0 });
    const closed = once(pub as unknown as NodeJS.EventEmitter, 'close', 5_000);
    pub.publish('$SYS/other/x', 'no', { qos: 0 });
    await closed;
    const pub2 = await mqtt.connectAsync(b.connectUrl, { reconnectPeriod: 0 });
    await pub2.publishAsync('marker', 'm', { qos: 1 });
    await sys.message('marker');
    expect(sys.seen.map((s) => s.topic)).toEqual(['marker']);
    await pub.endAsync(true);
    await pub2.endAsync();
  });

  it('allows the prefixes it is given instead of $SYS/fieldmq/', async () => {
    const b = await start({ host: '127.0.0.1', sysPublishPrefixes: ['$SYS/custom/'] });
    const sys = await subscriber(b, '$SYS/custom/#');
    const pub = await mqtt.connectAsync(b.connectUrl, { reconnectPeriod: 0 });
    await pub.publishAsync('$SYS/custom/a', '1', { qos: 1 });
    await sys.message('$SYS/custom/a', '1');
    await pub.endAsync();
  });

  it('speaks MQTT 3.1.1 only: an MQTT 5 CONNECT is refused', async () => {
    const b = await start({ host: '127.0.0.1' });
    await expect(mqtt.connectAsync(b.connectUrl, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3_000 })).rejects.toThrow();
  });

  it('port taken by a broker: BrokerPortInUseError says to use it with --broker, or --embedded-port', async () => {
    const first = await start({ host: '127.0.0.1' });
    const err = await startEmbeddedBroker({ port: first.port, host: '127.0.0.1' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BrokerPortInUseError);
    const e = err as BrokerPortInUseError;
    expect(e.name).toBe('BrokerPortInUseError');
    expect(e.brokerAnswers).toBe(true);
    expect(e.message).toContain(`--broker mqtt://localhost:${first.port}`);
    expect(e.message).toContain('--embedded-port');
  });

  it('port taken by another program: the message does not claim a broker answers', async () => {
    const silent = net.createServer((s) => s.on('data', () => {}));
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const err = (await startEmbeddedBroker({ port, host: '127.0.0.1' }).catch((e: unknown) => e)) as BrokerPortInUseError;
    expect(err).toBeInstanceOf(BrokerPortInUseError);
    expect(err.brokerAnswers).toBe(false);
    expect(err.message).toContain(`127.0.0.1:${port} is already in use by another program`);
    expect(err.message).toContain('--embedded-port');
  });

  it('stop closes client connections and frees the port; a second stop is harmless', async () => {
    const b = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' });
    const c = await mqtt.connectAsync(b.connectUrl, { reconnectPeriod: 0 });
    const closed = once(c as unknown as NodeJS.EventEmitter, 'close', 5_000);
    await b.stop();
    await b.stop();
    await closed;
    const again = await start({ port: b.port, host: '127.0.0.1' });
    expect(again.port).toBe(b.port);
    await c.endAsync(true);
  });
});
