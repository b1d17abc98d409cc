/**
 * XBee API frames copied by hand from Digi's manuals (worked examples), as hex.
 * `mode1` is the frame as printed for AP=1; `mode2` the AP=2 form, either as
 * printed by Digi or (where Digi prints none) escaped by hand per the
 * "Escaped characters in API frames" rules, noted in `source`.
 *
 * Documents (titles as printed; read through the stored copies at the URLs given):
 * - [S2C]  Digi, XBee/XBee-PRO S2C Zigbee RF Module User Guide, "API Operation › Data bytes that
 *          need to be escaped" (p. 152) and "Frame descriptions": Transmit Request 0x10 (p. 164),
 *          Transmit Status 0x8B (p. 177), Receive Packet 0x90 (p. 179).
 *          https://easymanua.ls/digi/xbee/manual?p=152 , https://manualshive.com/en/manual/digi/xbee/2496239?page=164
 * - [ZB]   Digi, XBee/XBee-PRO ZB RF Modules User's Manual (2009), "ZigBee Transmit Status"
 *          (p. 102) and "ZigBee Receive Packet" (p. 103); XBee/XBee-PRO ZigBee RF Modules User
 *          Guide, "Modem Status" (p. 125).
 *          https://www.manualshelf.com/manual/digi-international/pros2b/user-s-manual-english/page-102.html
 *          https://easymanua.ls/digi/xbee2/manual?p=125
 * - [900HP] Digi, XBee-PRO 900HP/XSC RF Modules User Guide, "Transmit Request frame - 0x10"
 *          (p. 128), which prints the AP=2 form of the same 0x10 example.
 *          https://www.easymanua.ls/digi/xbee-pro-s3b/manual?p=128
 * - [SX868] Digi, XBee SX 868 RF Module User Guide, "Receive Packet - 0x90" (p. 191) and
 *          "Modem Status - 0x8A" (p. 184) examples.
 *          https://www.easymanua.ls/digi/xbee-sx-868/manual?p=191
 */
export interface XBeeVector {
  name: string;
  source: string;
  mode1: string;
  mode2: string;
  /** Frame type octet. */
  type: number;
}

export const xbeeVectors: XBeeVector[] = [
  {
    name: 'escaping example (frame type 0x23, data 0x11)',
    source: '[S2C] / [ZB] Escaped characters in API frames: raw 7E 00 02 23 11 CB, escaped 7E 00 02 23 7D 31 CB; checksum 0xFF - (0x23 + 0x11) = 0xCB',
    mode1: '7E 00 02 23 11 CB',
    mode2: '7E 00 02 23 7D 31 CB',
    type: 0x23,
  },
  {
    name: 'Transmit Request 0x10 to 0013A200400A0127, "TxData0A"',
    source: '[S2C] Transmit Request frame - 0x10, example (checksum 0x13); [900HP] same example, "If you enable escaping (AP = 2)" form',
    mode1: '7E 00 16 10 01 00 13 A2 00 40 0A 01 27 FF FE 00 00 54 78 44 61 74 61 30 41 13',
    mode2: '7E 00 16 10 01 00 7D 33 A2 00 40 0A 01 27 FF FE 00 00 54 78 44 61 74 61 30 41 7D 33',
    type: 0x10,
  },
  {
    name: 'Transmit Request 0x10 to the coordinator (64-bit 0), "Tx2Coord"',
    source: '[S2C] Transmit Request frame - 0x10, "Send a transmission to the coordinator" (printed "032" is 0x32; checksum 0xFC confirms)',
    mode1: '7E 00 16 10 01 00 00 00 00 00 00 00 00 FF FE 00 00 54 78 32 43 6F 6F 72 64 FC',
    mode2: '7E 00 16 10 01 00 00 00 00 00 00 00 00 FF FE 00 00 54 78 32 43 6F 6F 72 64 FC',
    type: 0x10,
  },
  {
    name: 'Transmit Status 0x8B, delivered to 0x7D84 after address discovery',
    source: '[ZB] ZigBee Transmit Status, example (checksum 0x71); [S2C] Transmit Status frame - 0x8B; mode 2 escaped by hand (0x7D -> 7D 5D)',
    mode1: '7E 00 07 8B 01 7D 84 00 00 01 71',
    mode2: '7E 00 07 8B 01 7D 5D 84 00 00 01 71',
    type: 0x8b,
  },
  {
    name: 'Receive Packet 0x90 from 0013A20040522BAA / 0x7D84, "RxData"',
    source:
      '[ZB] ZigBee Receive Packet, example (checksum 0x0D). The manual prints Length LSB 0x11, but its own ' +
      'offsets 3..20 hold 18 octets and the checksum only matches those, so the length is 0x0012 (erratum). ' +
      'Mode 2 escaped by hand (0x13 -> 7D 33, 0x7D -> 7D 5D)',
    mode1: '7E 00 12 90 00 13 A2 00 40 52 2B AA 7D 84 01 52 78 44 61 74 61 0D',
    mode2: '7E 00 12 90 00 7D 33 A2 00 40 52 2B AA 7D 5D 84 01 52 78 44 61 74 61 0D',
    type: 0x90,
  },
  {
    name: 'Receive Packet 0x90 from 0013A20041AEB54E, 16-bit unknown, "TxData"',
    source: '[SX868] Receive Packet - 0x90, "64-bit unicast" example (checksum 0xC4); mode 2 escaped by hand (0x13 -> 7D 33)',
    mode1: '7E 00 12 90 00 13 A2 00 41 AE B5 4E FF FE C1 54 78 44 61 74 61 C4',
    mode2: '7E 00 12 90 00 7D 33 A2 00 41 AE B5 4E FF FE C1 54 78 44 61 74 61 C4',
    type: 0x90,
  },
  {
    name: 'Modem Status 0x8A, coordinator started',
    source: '[ZB] Modem Status, example "returned when an API coordinator forms a network" (checksum 0x6F)',
    mode1: '7E 00 02 8A 06 6F',
    mode2: '7E 00 02 8A 06 6F',
    type: 0x8a,
  },
  {
    name: 'Modem Status 0x8A, hardware reset',
    source: '[SX868] Modem Status - 0x8A, "Boot status" example 7E 00 02 8A 00 75',
    mode1: '7E 00 02 8A 00 75',
    mode2: '7E 00 02 8A 00 75',
    type: 0x8a,
  },
];
