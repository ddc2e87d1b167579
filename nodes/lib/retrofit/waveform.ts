/**
 * Vibration waveform features from one frame of acceleration samples.
 *
 * Method, and why:
 *  - The mean is removed first: accelerometer bias (or gravity on a DC-coupled sensor) is not
 *    vibration, and would swamp RMS, peak and the low velocity bins.
 *  - Time-domain statistics (acceleration RMS, peak, crest factor, kurtosis) use every sample.
 *  - Spectra use a periodic Hann window. Its sidelobes fall fast enough that a strong tone does
 *    not leak into the 10 Hz end of the velocity band, where the 1/f² integration weight would
 *    magnify the leakage. Band figures sum power over bins (Parseval) and divide by the window's
 *    mean square (3/8 for Hann, the energy correction), so a tone's RMS comes out right wherever it
 *    falls between bins; no amplitude (coherent-gain) correction or peak picking is involved.
 *  - Velocity RMS integrates in the frequency domain: each bin's acceleration power is divided by
 *    (2πf)² and summed over the velocity band (default 10–1000 Hz, ISO 10816). Its accuracy for a
 *    tone at f is about (fs/N ÷ f)², so keep the frame long enough that fs/N ≤ f_low / 3.
 *  - fft.js needs a power-of-two size. Frames of other lengths are zero-padded to the next power
 *    of two after windowing: no sample is discarded (truncating could lose half the frame), and
 *    the energy correction uses the real sample count, so band RMS stays unbiased.
 *  - Defect amplitudes are the RMS in [f − tol, f + tol] around each defect frequency; the tolerance
 *    is at least 2.5 × fs/N so the whole Hann main lobe (±2 bins) is always inside, and by default
 *    2 % of f to allow for bearing slip.
 * FFT instances, windows and work buffers are cached per size and reused: a frame allocates only
 * its result object.
 */
import FFT = require('fft.js');
import { RetrofitError } from './errors';

/** Standard gravity, m/s² per g. */
export const STANDARD_GRAVITY = 9.80665;

export interface Band {
  name: string;
  /** Hz, inclusive. */
  lo: number;
  /** Hz, inclusive. Clipped to the Nyquist frequency. */
  hi: number;
}

/** Default bands: running-speed/misalignment range, bearing/gear range, early bearing damage. */
export const DEFAULT_BANDS: readonly Band[] = Object.freeze([
  { name: '10-1000Hz', lo: 10, hi: 1000 },
  { name: '1-5kHz', lo: 1000, hi: 5000 },
  { name: '5-20kHz', lo: 5000, hi: 20000 },
]);

export interface WaveformOptions {
  /** Samples per second. */
  sampleRate: number;
  /** Unit of the samples. Default m/s². Results are always in m/s² (velocity in mm/s). */
  unit?: 'm/s²' | 'm/s2' | 'g';
  /** Velocity integration band in Hz. Default [10, 1000]. */
  velocityBand?: readonly [number, number];
  /** Bands to report acceleration energy for. Default DEFAULT_BANDS; bands above Nyquist are dropped. */
  bands?: readonly Band[];
  /** Named frequencies (Hz) to report amplitudes at, e.g. the result of bearingFrequencies(). */
  defects?: Readonly<Record<string, number>>;
  /** Search half-width around each defect frequency as a fraction of it. Default 0.02. */
  defectTolerance?: number;
}

export interface BandResult {
  name: string;
  lo: number;
  hi: number;
  /** Acceleration RMS in the band, m/s². */
  rms: number;
  /** Mean-square acceleration in the band (the band's share of signal energy), (m/s²)². */
  energy: number;
}

export interface DefectResult {
  name: string;
  /** The expected frequency, Hz. */
  frequency: number;
  /** Acceleration RMS within the tolerance band, m/s². */
  rms: number;
  /** Frequency of the strongest bin in the tolerance band, Hz (shows slip). */
  peakHz: number;
  /** Half-width of the band actually searched, Hz. */
  tolerance: number;
}

export interface WaveformFeatures {
  samples: number;
  sampleRate: number;
  /** FFT length after zero-padding. */
  fftSize: number;
  /** Bin spacing of the padded FFT, Hz. */
  binHz: number;
  /** True frequency resolution fs/N of the frame, Hz. */
  resolutionHz: number;
  /** Removed DC component (sensor bias), m/s². */
  mean: number;
  /** Acceleration RMS of the whole frame after mean removal, m/s². */
  accelerationRms: number;
  /** Largest |sample − mean|, m/s². */
  peak: number;
  /** peak / RMS (√2 for a pure sine); 0 for a flat frame. */
  crestFactor: number;
  /** Pearson kurtosis m4/m2² (1.5 for a sine, 3 for Gaussian noise, higher for impacts); 0 for a flat frame. */
  kurtosis: number;
  /** Velocity RMS over velocityBand, mm/s. */
  velocityRms: number;
  /** Velocity band actually used (upper edge clipped to Nyquist). */
  velocityBand: [number, number];
  bands: BandResult[];
  defects: DefectResult[];
  /** A frame with zero variance is a dead or disconnected sensor, not a quiet machine. */
  flat: boolean;
}

/** Bounds memory and work for a single message. 2^20 samples is minutes of data at 5 kHz. */
export const MAX_SAMPLES = 1 << 20;
const MIN_SAMPLES = 16;
/** Caches hold the few frame sizes a deployment uses; more distinct sizes evict the oldest. */
const CACHE_LIMIT = 8;

interface Plan {
  fft: FFT;
  input: Float64Array;
  spectrum: Float64Array;
  power: Float64Array;
}
const plans = new Map<number, Plan>();
const windows = new Map<number, { w: Float64Array; sumSq: number }>();

function cached<K, V>(cache: Map<K, V>, key: K, make: () => V): V {
  let value = cache.get(key);
  if (value !== undefined) {
    // Re-insert so the Map's insertion order tracks recency.
    cache.delete(key);
  } else {
    value = make();
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as K);
  }
  cache.set(key, value);
  return value;
}

function planFor(size: number): Plan {
  return cached(plans, size, () => ({
    fft: new FFT(size),
    input: new Float64Array(size),
    spectrum: new Float64Array(2 * size),
    power: new Float64Array(size / 2 + 1),
  }));
}

function hannFor(n: number): { w: Float64Array; sumSq: number } {
  return cached(windows, n, () => {
    const w = new Float64Array(n);
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      // Periodic (DFT-even) Hann: exactly 3/8 mean square, no duplicated end sample.
      w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
      sumSq += w[i] * w[i];
    }
    return { w, sumSq };
  });
}

function nextPow2(n: number): number {
  let p = MIN_SAMPLES;
  while (p < n) p *= 2;
  return p;
}

function checkBand(lo: number, hi: number, what: string): void {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo < 0 || !(hi > lo)) {
    throw new RetrofitError('invalid_band', `${what} needs finite 0 ≤ lo < hi, got [${lo}, ${hi}]`);
  }
}

/**
 * Computes the features of one acceleration frame. Throws RetrofitError for input no sensor can
 * produce (non-numeric samples, too few or too many, bad sample rate or bands).
 */
export function waveformFeatures(samples: ArrayLike<number>, options: WaveformOptions): WaveformFeatures {
  const n = samples?.length;
  if (typeof n !== 'number') throw new RetrofitError('invalid_waveform', 'waveform must be an array of numbers');
  if (n < MIN_SAMPLES) throw new RetrofitError('waveform_too_short', `waveform needs at least ${MIN_SAMPLES} samples, got ${n}`);
  if (n > MAX_SAMPLES) throw new RetrofitError('waveform_too_long', `waveform has ${n} samples, more than ${MAX_SAMPLES}`);
  const fs = options.sampleRate;
  if (!Number.isFinite(fs) || fs <= 0) throw new RetrofitError('invalid_sample_rate', 'sample rate must be a finite number > 0');
  const unit = options.unit ?? 'm/s²';
  if (unit !== 'm/s²' && unit !== 'm/s2' && unit !== 'g') throw new RetrofitError('invalid_unit', `acceleration unit must be m/s² or g, got ${String(unit)}`);
  const toMs2 = unit === 'g' ? STANDARD_GRAVITY : 1;
  const nyquist = fs / 2;
  const [vLo, vHiAsked] = options.velocityBand ?? [10, 1000];
  checkBand(vLo, vHiAsked, 'velocity band');
  if (!(vLo > 0)) throw new RetrofitError('invalid_band', 'velocity band must start above 0 Hz (integration divides by f)');
  const vHi = Math.min(vHiAsked, nyquist);
  if (!(vHi > vLo)) throw new RetrofitError('invalid_band', `velocity band starts at ${vLo} Hz, above the Nyquist frequency ${nyquist} Hz`);
  const tolFraction = options.defectTolerance ?? 0.02;
  if (!(tolFraction >= 0 && tolFraction < 0.5)) throw new RetrofitError('invalid_tolerance', 'defect tolerance must be a fraction in [0, 0.5)');

  // Pass 1: mean, and reject non-numbers before they poison every feature.
  let sum = 0;
  let lowest = Infinity;
  let highest = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = samples[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new RetrofitError('invalid_waveform', `sample ${i} is ${JSON.stringify(x) ?? String(x)}, not a finite number`);
    }
    sum += x;
    if (x < lowest) lowest = x;
    if (x > highest) highest = x;
  }
  // Identical samples, tested exactly: a rounded mean would leave a tiny non-zero "vibration".
  const flat = lowest === highest;
  const mean = flat ? lowest : sum / n;

  // Pass 2: centred moments and peak, and the windowed FFT input.
  const size = nextPow2(n);
  const plan = planFor(size);
  const { w, sumSq } = hannFor(n);
  const input = plan.input;
  let m2 = 0;
  let m4 = 0;
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const d = (samples[i] - mean) * toMs2;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
    const a = d < 0 ? -d : d;
    if (a > peak) peak = a;
    input[i] = d * w[i];
  }
  if (size > n) input.fill(0, n);
  m2 /= n;
  m4 /= n;
  const rms = Math.sqrt(m2);

  // One-sided power spectrum P[k], normalised so that Σ P[k] = mean square of the frame.
  plan.fft.realTransform(plan.spectrum, input);
  const spec = plan.spectrum;
  const power = plan.power;
  const half = size / 2;
  const norm = 1 / (size * sumSq);
  power[0] = (spec[0] * spec[0] + spec[1] * spec[1]) * norm;
  for (let k = 1; k < half; k++) {
    const re = spec[2 * k];
    const im = spec[2 * k + 1];
    power[k] = 2 * (re * re + im * im) * norm;
  }
  power[half] = (spec[2 * half] * spec[2 * half] + spec[2 * half + 1] * spec[2 * half + 1]) * norm;

  const binHz = fs / size;
  const firstBin = (f: number) => Math.max(0, Math.ceil(f / binHz - 1e-9));
  const lastBin = (f: number) => Math.min(half, Math.floor(f / binHz + 1e-9));

  // Velocity: v = a / (2πf) per bin, in m/s, reported in mm/s.
  let vPower = 0;
  for (let k = Math.max(1, firstBin(vLo)), end = lastBin(vHi); k <= end; k++) {
    const omega = 2 * Math.PI * k * binHz;
    vPower += power[k] / (omega * omega);
  }

  const bands: BandResult[] = [];
  for (const band of options.bands ?? DEFAULT_BANDS) {
    checkBand(band.lo, band.hi, `band ${band.name}`);
    if (band.lo >= nyquist) continue;
    const hi = Math.min(band.hi, nyquist);
    let energy = 0;
    for (let k = firstBin(band.lo), end = lastBin(hi); k <= end; k++) energy += power[k];
    bands.push({ name: band.name, lo: band.lo, hi, rms: Math.sqrt(energy), energy });
  }

  const resolutionHz = fs / n;
  const defects: DefectResult[] = [];
  for (const [name, frequency] of Object.entries(options.defects ?? {})) {
    if (!Number.isFinite(frequency) || frequency <= 0) throw new RetrofitError('invalid_band', `defect frequency ${name} must be > 0 Hz`);
    if (frequency >= nyquist) continue;
    const tolerance = Math.max(tolFraction * frequency, 2.5 * resolutionHz);
    let energy = 0;
    let best = -1;
    let peakHz = frequency;
    for (let k = firstBin(frequency - tolerance), end = lastBin(frequency + tolerance); k <= end; k++) {
      energy += power[k];
      if (power[k] > best) {
        best = power[k];
        peakHz = k * binHz;
      }
    }
    defects.push({ name, frequency, rms: Math.sqrt(energy), peakHz, tolerance });
  }

  return {
    samples: n,
    sampleRate: fs,
    fftSize: size,
    binHz,
    resolutionHz,
    mean: mean * toMs2,
    accelerationRms: rms,
    peak,
    crestFactor: flat ? 0 : peak / rms,
    kurtosis: flat ? 0 : m4 / (m2 * m2),
    velocityRms: Math.sqrt(vPower) * 1000,
    velocityBand: [vLo, vHi],
    bands,
    defects,
    flat,
  };
}
