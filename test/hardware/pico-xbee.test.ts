/**
 * The "espruino-pico" board profile (hardware/boards.json) the way it is wired: the lean MQTT-SN
 * client on a UART (`SerialDatagramTransport`, the bundle `fieldmq/mqttsn-serial`) → an XBee in
 * transparent mode → radio → the coordinator XBee in API mode → the real gateway's XBee transport
 * (`startGateway`, `xbee` in its config) → Aedes → MQTT.js.
 *
 * Both UARTs are real socat PTY pairs. The radio pair in between is played by the test: the
 * sensor's radio turns what its UART gives it into RF packets of at most its maximum payload
 * (66 octets with EE=1), sending a short one when the UART falls idle, as an XBee in transparent
 * mode does (its `RO` packetization timeout); the coordinator writes each as a Receive Packet
 * (0x90) to the gateway and passes the payload of each Transmit Request back to the sensor's
 * UART. So messages the client writes back to back reach the gateway in RF packets that neither
 * start nor end with them.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBoards } from '../../scripts/boards';
import { createSnLite, type SnLite } from '../../src/mqttsn/lite';
import { totalLength } from '../../src/mqttsn/header';
import { SerialDatagramTransport } from '../../src/mqttsn/serial-datagram';
import { NodeSerialTransport } from '../../firmware-sim/node-serial';
import { startAedes } from '../support/aedes';
import { requirePeer, waitFor } from '../support/peers';
import { PtyPeer, createPtyPair, socatPath } from '../support/pty';
import { XBeeRadioSim } from '../gateway/transports/xbee-sim';
import { DEADLINE, Watcher, startTestGateway } from '../firmware-sim/helpers';

const run = requirePeer('socat', socatPath() !== null, 'the Pico + XBee test needs socat for its two serial lines (apt-get install socat)');

const PICO = loadBoards().find((b) => b.id === 'espruino-pico')!;
const NODE = '0013A20041B2C3D4';

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of stops.splice(0).reverse()) await f();
});

/** The sensor's radio (transparent) and the coordinator (API mode), as seen from their UARTs. */
class RadioPair {
  /** Sizes of the RF packets the sensor's radio sent, in order. */
  readonly rf: number[] = [];
  private pending: number[] = [];
  private idle: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly uart: SerialPort,
    private readonly coordinator: XBeeRadioSim,
    maxPayload: number,
  ) {
    uart.on('data', (b: Buffer) => {
      this.pending.push(...b);
      while (this.pending.length >= maxPayload) this.send(this.pending.splice(0, maxPayload));
      if (this.idle) clearTimeout(this.idle);
      // The UART fell idle (RO): what is left goes in a short packet.
      this.idle = setTimeout(() => this.pending.length > 0 && this.send(this.pending.splice(0)), 50);
    });
    void this.downlink();
  }

  private send(bytes: number[]): void {
    this.rf.push(bytes.length);
    void this.coordinator.receive(NODE, Uint8Array.from(bytes));
  }

  private async downlink(): Promise<void> {
    while (!this.stopped) {
      const r = await this.coordinator.nextRequest(null, 500).catch(() => null);
      if (r && !this.stopped) this.uart.write(Buffer.from(r.payload));
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.idle) clearTimeout(this.idle);
  }
}

describe.skipIf(!run)('board profiles › espruino-pico over its serial line and an XBee radio pair', () => {
  it('readings written back to back, which the transparent radio packs across RF packets, all reach the broker in order; a command comes back', async () => {
    const broker = await startAedes();
    stops.push(() => broker.stop());
    const sensorUart = await createPtyPair();
    stops.push(() => sensorUart.close());
    const gatewayUart = await createPtyPair();
    stops.push(() => gatewayUart.close());

    const gw = await startTestGateway({ broker, udp: false, edit: (c) => (c.xbee = { path: gatewayUart.transportEnd, baud: 9600, apiMode: 2 }) });
    stops.push(() => gw.running.stop());
    const watcher = await Watcher.connect(broker.url);
    stops.push(() => watcher.end());

    const coordinator = new XBeeRadioSim(await PtyPeer.open(gatewayUart.peerEnd), true);
    stops.push(() => coordinator.peer.close());
    const radioUart = new SerialPort({ path: sensorUart.peerEnd, baudRate: 9600 });
    await new Promise<void>((resolve, reject) => radioUart.once('open', resolve).once('error', reject));
    stops.push(() => new Promise<void>((resolve) => radioUart.close(() => resolve())));
    const radio = new RadioPair(radioUart, coordinator, PICO.link.mtu);
    stops.push(() => radio.stop());

    // The device: the profile's options, its UART framing sized to the radio's payload.
    const events: unknown[][] = [];
    const changes = new EventEmitter();
    const push = (e: unknown[]) => {
      events.push(e);
      changes.emit('change');
    };
    const uart = new NodeSerialTransport({ path: sensorUart.transportEnd });
    const t = new SerialDatagramTransport({ stream: uart, maxPacket: PICO.link.mtu });
    t.open();
    stops.push(() => t.close());
    await uart.ready(); // a CONNECT written before the port is open would wait for T_RETRY
    const c: SnLite = createSnLite({
      transport: t,
      clientId: 'pico-1',
      gateway: 0,
      ...PICO.mqttsn!,
      onConnect: (rc) => push(['connect', rc]),
      onPublished: (id, rc) => push(['published', id, rc]),
      onAck: (type, id, rc) => push(['ack', type, id, rc]),
      onMessage: (name, _id, _type, buf, off, len, qos) => push(['message', name, Buffer.from(buf.subarray(off, off + len)).toString(), qos]),
    });
    const poller = setInterval(() => c.poll(Date.now() >>> 0), 5);
    stops.push(() => clearInterval(poller));
    const event = (kind: string, n = 1) =>
      waitFor(
        `device event ${kind} #${n}`,
        () => events.filter((e) => e[0] === kind)[n - 1],
        (changed) => {
          changes.on('change', changed);
          return () => changes.off('change', changed);
        },
        DEADLINE,
        () => `device events: ${JSON.stringify(events)}\ngateway log:\n${gw.log.slice(-30).join('\n')}`,
      );

    expect(c.connect()).toBe(0);
    expect(await event('connect')).toEqual(['connect', 0]);

    // Four 40-octet QoS 0 readings (7 octets of header and ids, 33 of payload) go out in one poll,
    // back to back on the UART: 160 octets, more than two RF packets hold.
    const readings = [1, 2, 3, 4].map((i) => `${i}`.repeat(33));
    for (const r of readings) expect(c.publish('pico/data', r, 0, false)).toBe(0);
    await watcher.nth('the four readings', (m) => m.topic === 'pico/data', 4);
    // The radio did cut the stream: at least one full 66-octet RF packet, which 40-octet messages cannot fill evenly.
    expect(radio.rf).toContain(PICO.link.mtu);
    // Then the largest QoS 1 reading the profile's packetSize holds (its queue has 4 slots).
    let big = 0;
    while (totalLength(big + 1 + 5) <= PICO.mqttsn!.packetSize) big++;
    const last = 'L'.repeat(big);
    const id = c.publish('pico/data', last, 1, false);
    expect(id).toBeGreaterThan(0);

    const got = await watcher.nth('the five readings', (m) => m.topic === 'pico/data', 5);
    expect(got.payload).toBe(last);
    expect(watcher.matching((m) => m.topic === 'pico/data').map((m) => m.payload)).toEqual([...readings, last]);
    expect(await event('published')).toEqual(['published', id, 0]);

    c.subscribe('pico/cmd/+', 1);
    expect((await event('ack'))[3]).toBe(0);
    await watcher.publish('pico/cmd/led', 'on', 1);
    expect(await event('message')).toEqual(['message', 'pico/cmd/led', 'on', 1]);
    expect(gw.log.filter((l) => /dropped|not one MQTT-SN message/.test(l))).toEqual([]);
  });
});
