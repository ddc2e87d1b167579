/**
 * Typed arrays in model JSON: little-endian bytes as base64, so a 100-tree forest stays a few
 * hundred kB and restores bit for bit (identical scores after a round trip).
 */
export interface EncodedArray {
  dtype: 'f64' | 'f32' | 'i32' | 'i16';
  length: number;
  b64: string;
}

type Typed = Float64Array | Float32Array | Int32Array | Int16Array;

const CTORS = { f64: Float64Array, f32: Float32Array, i32: Int32Array, i16: Int16Array } as const;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function dtypeOf(a: Typed): EncodedArray['dtype'] {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  return 'i16';
}

export function encodeArray(a: Typed): EncodedArray {
  if (!LITTLE_ENDIAN) throw new Error('model export needs a little-endian platform');
  const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return { dtype: dtypeOf(a), length: a.length, b64: bytes.toString('base64') };
}

export function decodeArray<K extends EncodedArray['dtype']>(e: unknown, dtype: K, what: string): InstanceType<(typeof CTORS)[K]> {
  const enc = e as EncodedArray;
  if (!enc || typeof enc !== 'object' || enc.dtype !== dtype || typeof enc.b64 !== 'string' || !Number.isInteger(enc.length)) {
    throw new Error(`model: ${what} is not an encoded ${dtype} array`);
  }
  if (!LITTLE_ENDIAN) throw new Error('model import needs a little-endian platform');
  const bytes = Buffer.from(enc.b64, 'base64');
  const Ctor = CTORS[dtype];
  if (bytes.length !== enc.length * Ctor.BYTES_PER_ELEMENT) throw new Error(`model: ${what} has ${bytes.length} bytes, expected ${enc.length * Ctor.BYTES_PER_ELEMENT}`);
  const out = new Ctor(enc.length);
  new Uint8Array(out.buffer).set(bytes);
  return out as InstanceType<(typeof CTORS)[K]>;
}
