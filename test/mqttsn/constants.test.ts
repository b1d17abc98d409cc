import { describe, expect, it } from 'vitest';
import { MsgType, msgTypeName } from '../../src/mqttsn/constants';

describe('msgTypeName', () => {
  it('names every type of Table 3', () => {
    expect(msgTypeName(MsgType.ADVERTISE)).toBe('ADVERTISE');
    expect(msgTypeName(MsgType.PUBCOMP)).toBe('PUBCOMP');
    expect(msgTypeName(0x0f)).toBe('PUBREC');
    expect(msgTypeName(MsgType.WILLMSGRESP)).toBe('WILLMSGRESP');
    expect(msgTypeName(MsgType.ENCAPSULATED)).toBe('ENCAPSULATED');
  });
  it('marks reserved values', () => {
    expect(msgTypeName(0x03)).toBe('reserved(0x3)');
    expect(msgTypeName(0x19)).toBe('reserved(0x19)');
    expect(msgTypeName(0xff)).toBe('reserved(0xff)');
    expect(msgTypeName(-1)).toBe('reserved(0xffffffff)');
  });
});
