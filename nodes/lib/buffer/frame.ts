/**
 * The journal's on-disk frame: `[u32 LE body length][u32 LE CRC-32 of body][body]`, body = one
 * record as UTF-8 JSON. A frame that is cut short (a write torn by power loss) or whose checksum
 * does not match is never returned as a record.
 */
import { crc32 } from './crc32';

export const HEADER_BYTES = 8;
/** No record comes near this; a larger length field is garbage. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function encodeFrame(body: string): Buffer {
  const len = Buffer.byteLength(body, 'utf8');
  const buf = Buffer.allocUnsafe(HEADER_BYTES + len);
  buf.write(body, HEADER_BYTES, 'utf8');
  buf.writeUInt32LE(len, 0);
  buf.writeUInt32LE(crc32(buf, HEADER_BYTES, HEADER_BYTES + len), 4);
  return buf;
}

export type FrameRead =
  | { kind: 'frame'; body: string; next: number }
  /** Not enough bytes for a whole frame from `offset` on (the end of the data, or a torn write). */
  | { kind: 'short' }
  /** A length beyond any record, or a checksum that does not match: damaged bytes. */
  | { kind: 'corrupt' };

/** Reads the frame at `offset` of `buf[..end)`. */
export function readFrame(buf: Buffer, offset: number, end = buf.length): FrameRead {
  if (end - offset < HEADER_BYTES) return { kind: 'short' };
  const len = buf.readUInt32LE(offset);
  if (len > MAX_BODY_BYTES) return { kind: 'corrupt' };
  const stop = offset + HEADER_BYTES + len;
  if (stop > end) return { kind: 'short' };
  if (crc32(buf, offset + HEADER_BYTES, stop) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt' };
  return { kind: 'frame', body: buf.toString('utf8', offset + HEADER_BYTES, stop), next: stop };
}
