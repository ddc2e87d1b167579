/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) of a byte range. Uses zlib.crc32 where the Node
 * version has it (20.15+, 22.2+) and a table-driven fallback elsewhere: no native dependency.
 */
import zlib from 'node:zlib';

let table: Int32Array | undefined;
function makeTable(): Int32Array {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
}

/** The portable implementation (exported so tests can compare it with zlib's). */
export function crc32Portable(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = (table ??= makeTable());
  let c = -1;
  for (let i = start; i < end; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const native = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  if (native) return native(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0;
  return crc32Portable(buf, start, end);
}
