import { describe, expect, it } from 'vitest';
import { Status } from '../../src/core/status';
import { headerLength, readLength, totalLength, writeLength } from '../../src/mqttsn/header';
import { fromHex, toHex } from './helpers';

describe('totalLength', () => {
  it('adds the 1-octet Length and MsgType while the total fits in 255', () => {
    expect(totalLength(0)).toBe(2);
    expect(totalLength(253)).toBe(255);
  });
  it('switches to the 3-octet Length form from 256', () => {
    expect(totalLength(254)).toBe(258);
    expect(totalLength(65531)).toBe(65535);
  });
  it('refuses totals above 65535 with TooLarge', () => {
    expect(totalLength(65532)).toBe(Status.TooLarge);
  });
});

describe('readLength', () => {
  it('reads the 1-octet form', () => {
    expect(readLength(fromHex('05 00'), 0, 2)).toBe(5);
    expect(readLength(fromHex('ff'), 0, 1)).toBe(255);
  });
  it('reads the 3-octet form, also for a short message', () => {
    expect(readLength(fromHex('01 01 35'), 0, 3)).toBe(309);
    expect(readLength(fromHex('01 00 04'), 0, 3)).toBe(4);
  });
  it('asks for more bytes when the field is incomplete', () => {
    expect(readLength(fromHex(''), 0, 0)).toBe(Status.NeedMoreBytes);
    expect(readLength(fromHex('01 00'), 0, 2)).toBe(Status.NeedMoreBytes);
  });
  it('refuses a total below the header size', () => {
    expect(readLength(fromHex('00'), 0, 1)).toBe(Status.Malformed);
    expect(readLength(fromHex('01 00 03'), 0, 3)).toBe(Status.Malformed);
  });
  it('refuses a range outside the buffer', () => {
    expect(readLength(fromHex('05'), 1, 1)).toBe(Status.BadParameter);
  });
});

describe('headerLength', () => {
  it('is 4 with the 3-octet Length and 2 otherwise', () => {
    expect(headerLength(fromHex('01 01 35 0c'), 0)).toBe(4);
    expect(headerLength(fromHex('05 00'), 0)).toBe(2);
  });
});

describe('writeLength', () => {
  it('writes one octet up to 255 and 0x01 + uint16 above', () => {
    const buf = new Uint8Array(4);
    expect(writeLength(255, buf, 0)).toBe(1);
    expect(toHex(buf, 0, 1)).toBe('ff');
    expect(writeLength(309, buf, 1)).toBe(4);
    expect(toHex(buf, 1, 4)).toBe('01 01 35');
  });
});
