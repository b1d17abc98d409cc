import { describe, expect, it } from 'vitest';
import { MessageQueue, Status } from '../../src/core';

const bytes = (...xs: number[]) => Uint8Array.from(xs);
/** The i-th oldest message's bytes, read through offsetAt/lengthAt. */
const messageAt = (q: MessageQueue, i: number) => {
  const off = q.offsetAt(i);
  const len = q.lengthAt(i);
  expect(off).toBeGreaterThanOrEqual(0);
  expect(len).toBeGreaterThanOrEqual(0);
  return [...q.data.subarray(off, off + len)];
};
const all = (q: MessageQueue) => Array.from({ length: q.length }, (_, i) => ({ bytes: messageAt(q, i), tag: q.tagAt(i) }));

describe('MessageQueue › construction', () => {
  it('allocates slots × slotSize bytes once', () => {
    const q = new MessageQueue(4, 10);
    expect(q.data.length).toBe(40);
    expect(q.slots).toBe(4);
    expect(q.slotSize).toBe(10);
    expect(q.length).toBe(0);
    expect(q.isEmpty()).toBe(true);
    expect(q.isFull()).toBe(false);
  });

  it.each([
    [0, 4],
    [65536, 1],
    [1, 0],
    [-1, 4],
    [NaN, 4],
  ])('rejects slots=%s slotSize=%s with a RangeError', (slots, size) => {
    expect(() => new MessageQueue(slots, size)).toThrow(RangeError);
  });

  it('accepts the largest slot count', () => {
    expect(new MessageQueue(65535, 1).slots).toBe(65535);
  });
});

describe('MessageQueue › push', () => {
  it('keeps messages oldest first with their tags and lengths', () => {
    const q = new MessageQueue(3, 4);
    expect(q.push(bytes(1), 0, 1, 10)).toBe(Status.Ok);
    expect(q.push(bytes(9, 2, 2), 1, 2, -20)).toBe(Status.Ok);
    expect(all(q)).toEqual([
      { bytes: [1], tag: 10 },
      { bytes: [2, 2], tag: -20 },
    ]);
  });

  it('returns Full when every slot is taken, and changes nothing', () => {
    const q = new MessageQueue(2, 4);
    q.push(bytes(1), 0, 1, 1);
    q.push(bytes(2), 0, 1, 2);
    expect(q.isFull()).toBe(true);
    expect(q.push(bytes(3), 0, 1, 3)).toBe(Status.Full);
    expect(q.reserve()).toBe(Status.Full);
    expect(q.commit(1, 3)).toBe(Status.Full);
    expect(all(q)).toEqual([
      { bytes: [1], tag: 1 },
      { bytes: [2], tag: 2 },
    ]);
  });

  it('returns TooLarge for a message longer than a slot, and changes nothing', () => {
    const q = new MessageQueue(2, 4);
    expect(q.push(bytes(1, 2, 3, 4, 5), 0, 5, 1)).toBe(Status.TooLarge);
    expect(q.length).toBe(0);
    expect(q.push(bytes(1, 2, 3, 4), 0, 4, 1)).toBe(Status.Ok); // exactly a slot fits
    expect(all(q)).toEqual([{ bytes: [1, 2, 3, 4], tag: 1 }]);
  });

  it('accepts empty messages', () => {
    const q = new MessageQueue(1, 1);
    expect(q.push(bytes(), 0, 0, 5)).toBe(Status.Ok);
    expect(q.lengthAt(0)).toBe(0);
    expect(q.tagAt(0)).toBe(5);
  });
});

describe('MessageQueue › reserve / commit (encode straight into a slot)', () => {
  it('commits the bytes written at the reserved offset', () => {
    const q = new MessageQueue(3, 8);
    const at = q.reserve();
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at % 8).toBe(0);
    q.data.set([7, 7, 7], at);
    expect(q.commit(3, 42)).toBe(Status.Ok);
    expect(q.offsetAt(0)).toBe(at);
    expect(all(q)).toEqual([{ bytes: [7, 7, 7], tag: 42 }]);
  });

  it('a TooLarge commit leaves the reservation available', () => {
    const q = new MessageQueue(2, 4);
    const at = q.reserve();
    expect(q.commit(5, 1)).toBe(Status.TooLarge);
    expect(q.commit(-1, 1)).toBe(Status.TooLarge);
    expect(q.length).toBe(0);
    expect(q.reserve()).toBe(at);
  });

  it('reserve does not change the queue', () => {
    const q = new MessageQueue(2, 4);
    expect(q.reserve()).toBe(q.reserve());
    expect(q.length).toBe(0);
  });
});

describe('MessageQueue › removeAt, shift', () => {
  const four = () => {
    const q = new MessageQueue(4, 4);
    for (let i = 1; i <= 4; i++) {
      const len = Math.min(i, 3);
      q.push(new Uint8Array(len).fill(i), 0, len, i * 10);
    }
    return q;
  };

  it('removing from the middle keeps the order of the rest', () => {
    const q = four();
    expect(q.removeAt(1)).toBe(Status.Ok);
    expect(all(q).map((m) => m.tag)).toEqual([10, 30, 40]);
  });

  it('removing from the middle moves no message bytes: the others keep their slots', () => {
    const q = four();
    const offsets = [0, 1, 2, 3].map((i) => q.offsetAt(i));
    const before = [0, 1, 2, 3].map((i) => messageAt(q, i));
    q.removeAt(1);
    expect([0, 1, 2].map((i) => q.offsetAt(i))).toEqual([offsets[0], offsets[2], offsets[3]]);
    expect([0, 1, 2].map((i) => messageAt(q, i))).toEqual([before[0], before[2], before[3]]);
  });

  it('the freed slot is the next one reserved', () => {
    const q = four();
    const freed = q.offsetAt(2);
    q.removeAt(2);
    expect(q.reserve()).toBe(freed);
    q.push(bytes(5), 0, 1, 50);
    expect(all(q).map((m) => m.tag)).toEqual([10, 20, 40, 50]);
    expect(q.offsetAt(3)).toBe(freed);
  });

  it('removes the last and the first', () => {
    const q = four();
    expect(q.removeAt(3)).toBe(Status.Ok);
    expect(q.shift()).toBe(Status.Ok);
    expect(all(q).map((m) => m.tag)).toEqual([20, 30]);
  });

  it('reports NotFound for positions outside the queue and Empty for shift on empty', () => {
    const q = four();
    expect(q.removeAt(4)).toBe(Status.NotFound);
    expect(q.removeAt(-1)).toBe(Status.NotFound);
    expect(q.offsetAt(4)).toBe(Status.NotFound);
    expect(q.lengthAt(-1)).toBe(Status.NotFound);
    expect(q.setTagAt(9, 1)).toBe(Status.NotFound);
    expect(q.tagAt(9)).toBe(0);
    const e = new MessageQueue(1, 1);
    expect(e.shift()).toBe(Status.Empty);
  });

  it('clear drops everything and frees every slot', () => {
    const q = four();
    q.clear();
    expect(q.length).toBe(0);
    for (let i = 0; i < 4; i++) expect(q.push(bytes(i), 0, 1, i)).toBe(Status.Ok);
    expect(new Set([0, 1, 2, 3].map((i) => q.offsetAt(i))).size).toBe(4);
  });
});

describe('MessageQueue › tags', () => {
  it('findTag finds the oldest message whose masked tag matches', () => {
    const q = new MessageQueue(5, 1);
    // tag = qos << 16 | packetId
    for (const [qos, id] of [[1, 7], [0, 0], [2, 9], [0, 0], [1, 8]]) q.push(bytes(0), 0, 1, (qos << 16) | id);
    expect(q.findTag(0xff0000, 0 << 16)).toBe(1); // oldest QoS 0
    expect(q.findTag(0xff0000, 2 << 16)).toBe(2);
    expect(q.findTag(0xffff, 8)).toBe(4);
    expect(q.findTag(0xffff, 99)).toBe(Status.NotFound);
    expect(q.findTag(0, 0)).toBe(0); // everything matches an empty mask
  });

  it('findTag matches negative int32 tags', () => {
    const q = new MessageQueue(2, 1);
    q.push(bytes(0), 0, 1, 1);
    q.push(bytes(0), 0, 1, -2);
    expect(q.findTag(-1, -2)).toBe(1);
  });

  it('setTagAt replaces one tag', () => {
    const q = new MessageQueue(2, 1);
    q.push(bytes(0), 0, 1, 1);
    q.push(bytes(0), 0, 1, 2);
    expect(q.setTagAt(1, 77)).toBe(Status.Ok);
    expect([q.tagAt(0), q.tagAt(1)]).toEqual([1, 77]);
  });

  it('stores tags as int32', () => {
    const q = new MessageQueue(1, 1);
    q.push(bytes(0), 0, 1, 0x1_0000_0005);
    expect(q.tagAt(0)).toBe(5);
  });
});

describe('MessageQueue › slot reuse', () => {
  it('reuses its slots over many push/shift cycles without growing', () => {
    const q = new MessageQueue(3, 2);
    const data = q.data;
    const offsets = new Set<number>();
    for (let i = 0; i < 10000; i++) {
      eq(q.push(bytes(i & 0xff, (i >> 8) & 0xff), 0, 2, i), Status.Ok, `push ${i}`);
      offsets.add(q.offsetAt(q.length - 1));
      if (q.length === 3) {
        const tag = q.tagAt(0);
        const off = q.offsetAt(0);
        eq(q.data[off] | (q.data[off + 1] << 8), tag & 0xffff, `message ${tag}`);
        eq(q.shift(), Status.Ok, 'shift');
      }
    }
    expect(q.data).toBe(data);
    expect(q.data.length).toBe(6);
    expect([...offsets].sort((a, b) => a - b)).toEqual([0, 2, 4]);
  });

  it('matches an array model over random operations', () => {
    let seed = 99;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (const [slots, size] of [[1, 1], [2, 3], [5, 4], [16, 8]]) {
      const q = new MessageQueue(slots, size);
      const model: { bytes: number[]; tag: number }[] = [];
      for (let step = 0; step < 3000; step++) {
        const op = rnd(6);
        const at = `slots=${slots} size=${size} step=${step} op=${op}`;
        if (op <= 1) {
          const len = rnd(size + 2);
          const msg = Array.from({ length: len }, () => rnd(256));
          const tag = rnd(1000) - 500;
          const res = op === 0 ? q.push(Uint8Array.from(msg), 0, len, tag) : reserveCommit(q, msg, tag);
          if (len > size) eq(res, model.length === slots && op === 1 ? Status.Full : Status.TooLarge, at);
          else if (model.length === slots) eq(res, Status.Full, at);
          else {
            eq(res, Status.Ok, at);
            model.push({ bytes: msg, tag });
          }
        } else if (op === 2) {
          const i = rnd(slots + 1);
          eq(q.removeAt(i), i < model.length ? Status.Ok : Status.NotFound, at);
          if (i < model.length) model.splice(i, 1);
        } else if (op === 3) {
          eq(q.shift(), model.length ? Status.Ok : Status.Empty, at);
          model.shift();
        } else if (op === 4 && model.length > 0) {
          const i = rnd(model.length);
          const tag = rnd(100);
          eq(q.setTagAt(i, tag), Status.Ok, at);
          model[i].tag = tag;
        } else if (op === 5) {
          const v = rnd(10);
          const want = model.findIndex((m) => (m.tag & 7) === v);
          eq(q.findTag(7, v), want < 0 ? Status.NotFound : want, at);
        }
        eq(q.length, model.length, at);
        const snap = snapshot(q);
        if (JSON.stringify(snap) !== JSON.stringify(model)) expect(snap, at).toEqual(model);
        // queued messages occupy distinct, aligned slots inside data
        const offs = model.map((_, i) => q.offsetAt(i));
        eq(new Set(offs).size, offs.length, at);
        for (const o of offs) eq(o % size === 0 && o >= 0 && o < slots * size, true, at);
      }
    }
  });
});

/** Asserts through expect only on a mismatch: expect() is slow in hot loops. */
function eq<T>(actual: T, expected: T, context: string): void {
  if (actual !== expected) expect(actual, context).toBe(expected);
}

/** The queue's messages, oldest first, read through the public accessors. */
function snapshot(q: MessageQueue): { bytes: number[]; tag: number }[] {
  const out: { bytes: number[]; tag: number }[] = [];
  for (let i = 0; i < q.length; i++) {
    const off = q.offsetAt(i);
    out.push({ bytes: Array.from(q.data.subarray(off, off + q.lengthAt(i))), tag: q.tagAt(i) });
  }
  return out;
}

/** reserve + write + commit, returning what the queue says. */
function reserveCommit(q: MessageQueue, msg: number[], tag: number): number {
  const at = q.reserve();
  if (at < 0) return at;
  for (let i = 0; i < Math.min(msg.length, q.slotSize); i++) q.data[at + i] = msg[i];
  return q.commit(msg.length, tag);
}
