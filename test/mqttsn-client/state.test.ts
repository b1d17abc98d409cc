/** MQTT-SN client state › topic table, gateway list, message-id set, request tags (MQTT-SN 1.2 §6.1, §6.5, §6.7, §6.10). */
import { describe, expect, it } from 'vitest';
import { MessageQueue } from '../../src/core/queue';
import { SnGateways, SnTopics, snIdIndex, snTag, snTagTopic } from '../../src/mqttsn/state';

describe('snTag', () => {
  it('round-trips MsgType, MsgId and topic index (none = -1), up to index 253', () => {
    for (const [type, id, topic] of [
      [0x0c, 0xffff, 253],
      [0x12, 1, -1],
      [0x0a, 0, 0],
    ]) {
      const q = new MessageQueue(1, 4);
      q.commit(0, snTag(type, id, topic));
      const t = q.tagAt(0);
      expect([(t >>> 16) & 0xff, t & 0xffff, snTagTopic(t)]).toEqual([type, id, topic]);
    }
  });
});

describe('SnTopics (§6.5, §6.7)', () => {
  it('finds entries by name and kind, and by non-zero id and kind', () => {
    const q = new MessageQueue(2, 8);
    const t = new SnTopics(4);
    expect(t.add('p', 7, 1, q)).toBe(0);
    expect(t.add('p', 9, 0, q)).toBe(1);
    expect(t.find('p', 1)).toBe(0);
    expect(t.find('p', 0)).toBe(1);
    expect(t.find('q', 0)).toBe(-1);
    expect(t.byId(7, 1)).toBe(0);
    expect(t.byId(7, 0)).toBe(-1);
    expect(t.byId(9, 0)).toBe(1);
    expect(t.byId(0, 0)).toBe(-1); // id 0 means "not registered", never a match
  });

  it('reset() forgets normal ids (new session, §6.3) and keeps names and pre-defined ids', () => {
    const q = new MessageQueue(1, 8);
    const t = new SnTopics(2);
    t.add('p', 7, 1, q);
    t.add('n', 9, 0, q);
    t.reset();
    expect([t.i[0], t.i[1], t.n[1]]).toEqual([7, 0, 'n']);
  });

  it('when full, reuses an unregistered normal entry that no queued request refers to', () => {
    const q = new MessageQueue(2, 8);
    const t = new SnTopics(3);
    t.add('pre', 1, 1, q);
    t.add('reg', 5, 0, q);
    t.add('old', 0, 0, q);
    expect(t.add('new', 0, 0, q)).toBe(2);
    expect(t.find('old', 0)).toBe(-1);
    // Now 'new' is waiting in the queue: it cannot be reused.
    q.commit(0, snTag(0x0c, 1, 2));
    expect(t.add('newer', 0, 0, q)).toBe(-11);
    q.shift();
    expect(t.add('newer', 0, 0, q)).toBe(2);
  });
});

describe('SnGateways (§6.1)', () => {
  it('adds, updates by id or handle, keeps T_ADV unless given, and deletes keeping the order', () => {
    const g = new SnGateways(2);
    expect(g.heard(1, 10, 900_000, 5)).toBe(0);
    expect(g.heard(2, 11, -1, 6)).toBe(1);
    expect(g.heard(3, 12, -1, 7)).toBe(-11);
    expect(g.heard(1, 10, -1, 8)).toBe(0);
    expect([g.d[0], g.t[0]]).toEqual([900_000, 8]);
    expect(g.heard(2, 13, 60_000, 9)).toBe(1); // gateway 2 moved to another address
    expect([g.h[1], g.d[1]]).toEqual([13, 60_000]);
    expect(g.at(13)).toBe(1);
    g.del(0);
    expect([g.n, g.id[0], g.h[0], g.at(10)]).toEqual([1, 2, 13, -1]);
  });
});

describe('snIdIndex', () => {
  it('finds a MsgId, or a free slot with id 0', () => {
    const s = new Uint16Array(2);
    expect(snIdIndex(s, 5)).toBe(-1);
    s[snIdIndex(s, 0)] = 5;
    expect(snIdIndex(s, 5)).toBe(0);
    s[snIdIndex(s, 0)] = 6;
    expect(snIdIndex(s, 0)).toBe(-1);
  });
});
