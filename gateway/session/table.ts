/**
 * The client table (MQTT-SN 1.2 §6.2, §6.14): sessions by ClientId, bound to the address
 * they last connected from (one Map per transport, {@link Port.sessions}), the state gauges
 * of the metrics, and the limits: at most `maxClients` open sessions, and at most as many
 * idle (disconnected / lost) records kept for a later CleanSession=0 reconnect, the oldest
 * evicted first.
 */
import type { GatewayMetrics } from '../metrics';
import type { Peer } from './peer';
import { Session, type SessionState } from './session';

/** Sessions by ClientId and by address. */
export class SessionTable {
  private readonly byId = new Map<string, Session>();
  private open = 0;
  private idle = 0;
  /**
   * Called with each record {@link SessionTable.evictIdle} removes, after its removal: what
   * the record still held outside the table (broker-side subscriptions of a CleanSession=0
   * client) is released there.
   */
  onEvict: ((s: Session) => void) | null = null;

  constructor(
    private readonly metrics: GatewayMetrics,
    /** Most open sessions (`config.maxClients`). */
    readonly maxClients: number,
    /** Most idle records kept (disconnected / lost, for CleanSession=0 reconnects). */
    readonly maxIdle: number,
  ) {}

  /** Open sessions (connecting, active, asleep, awake). */
  get openCount(): number {
    return this.open;
  }

  /** Every record, any state. */
  get size(): number {
    return this.byId.size;
  }

  /** The session of `clientId`, or undefined. */
  get(clientId: string): Session | undefined {
    return this.byId.get(clientId);
  }

  /** Every session (iteration order: creation). */
  values(): IterableIterator<Session> {
    return this.byId.values();
  }

  /** Adds a new record (state `disconnected`, unbound). */
  add(s: Session, now: number): void {
    this.byId.set(s.clientId, s);
    s.state = 'disconnected';
    s.since = now;
    this.metrics.clients.disconnected++;
    this.idle++;
  }

  /** Removes a record entirely (unbinding it first). */
  remove(s: Session): void {
    if (this.byId.get(s.clientId) !== s) return;
    this.unbind(s);
    s.queue.clear();
    s.queue.setCounted(false);
    this.countOut(s.state);
    this.byId.delete(s.clientId);
    s.epoch++;
  }

  /** Binds `s` to `peer` (the address index entry), replacing its previous binding. */
  bind(s: Session, peer: Peer): void {
    if (s.peer !== null && s.peer.key === peer.key && s.peer.port === peer.port) {
      s.peer = peer;
      return;
    }
    this.unbind(s);
    s.peer = peer;
    peer.port.sessions.set(peer.key, s);
  }

  /** Removes `s` from the address index. */
  unbind(s: Session): void {
    const p = s.peer;
    if (p === null) return;
    if (p.port.sessions.get(p.key) === s) p.port.sessions.delete(p.key);
    s.peer = null;
  }

  /** Moves `s` to `state`, keeping the gauges (`metrics.clients`, `metrics.buffered`) right. */
  setState(s: Session, state: SessionState, now: number): void {
    if (s.state === state) return;
    this.countOut(s.state);
    s.state = state;
    s.since = now;
    if (state === 'connecting' || state === 'active' || state === 'asleep' || state === 'awake') this.open++;
    else this.idle++;
    if (state !== 'connecting') this.metrics.clients[state]++;
    s.queue.setCounted(state === 'asleep' || state === 'awake');
  }

  /**
   * Keeps at most {@link SessionTable.maxIdle} idle records: removes the ones idle longest.
   * Returns how many were removed.
   */
  evictIdle(): number {
    let n = 0;
    while (this.idle > this.maxIdle) {
      let oldest: Session | null = null;
      for (const s of this.byId.values()) {
        if (s.connected) continue;
        if (oldest === null || ((s.since - oldest.since) | 0) < 0) oldest = s;
      }
      if (oldest === null) break;
      this.remove(oldest);
      n++;
      this.onEvict?.(oldest);
    }
    return n;
  }

  private countOut(state: SessionState): void {
    if (state === 'connecting' || state === 'active' || state === 'asleep' || state === 'awake') this.open--;
    else this.idle--;
    if (state !== 'connecting') this.metrics.clients[state]--;
  }
}
