/**
 * Pre-defined topic ids (MQTT-SN 1.2 §6.7): topic ids both sides know in advance, from the
 * configuration (`predefinedTopics`, Paho's `predefinedTopic.conf`): global ones (`clientId`
 * `'*'`) and per-client ones, which take precedence over a global entry with the same id or
 * the same name.
 */
import type { PredefinedTopic } from '../config/schema';

/** The id ↔ name maps one client sees. Shared (not copied) when the client has no entries of its own. */
export interface PredefinedView {
  readonly byId: ReadonlyMap<number, string>;
  readonly byName: ReadonlyMap<string, number>;
}

/** Every pre-defined topic of the configuration, indexed for the per-client views. */
export class PredefinedTopics {
  /** The view of a client with no entries of its own: the global (`'*'`) entries. */
  readonly global: PredefinedView;
  private readonly perClient = new Map<string, PredefinedView>();

  constructor(list: readonly PredefinedTopic[]) {
    const gId = new Map<number, string>();
    const gName = new Map<string, number>();
    for (const t of list) {
      if (t.clientId !== '*') continue;
      gId.set(t.id, t.topic);
      gName.set(t.topic, t.id);
    }
    this.global = { byId: gId, byName: gName };
    for (const t of list) {
      if (t.clientId === '*') continue;
      let v = this.perClient.get(t.clientId);
      if (!v) {
        v = { byId: new Map(gId), byName: new Map(gName) };
        this.perClient.set(t.clientId, v);
      }
      const byId = v.byId as Map<number, string>;
      const byName = v.byName as Map<string, number>;
      // A per-client entry replaces a global one with the same id or the same name.
      const oldName = byId.get(t.id);
      if (oldName !== undefined && byName.get(oldName) === t.id) byName.delete(oldName);
      const oldId = byName.get(t.topic);
      if (oldId !== undefined && byId.get(oldId) === t.topic) byId.delete(oldId);
      byId.set(t.id, t.topic);
      byName.set(t.topic, t.id);
    }
  }

  /** The pre-defined topics `clientId` sees (§6.7): its own, then the global ones. */
  forClient(clientId: string | null): PredefinedView {
    return (clientId !== null && this.perClient.get(clientId)) || this.global;
  }
}
