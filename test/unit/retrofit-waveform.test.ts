import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STANDARD_GRAVITY, waveformFeatures } from '../../nodes/lib/retrofit/waveform';
import { bearingFrequencies } from '../../nodes/lib/retrofit/bearing';
import { RetrofitError } from '../../nodes/lib/retrofit/errors';

type Tone = { amp: number; hz: number; phase?: number };

function synth(n: number, fs: number, tones: Tone[], dc = 0): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = dc;
    for (const t of tones) s += t.amp * Math.sin(2 * Math.PI * t.hz * (i / fs) + (t.phase ?? 0));
    x[i] = s;
  }
  return x;
}

/** Deterministic Gaussian noise (mulberry32 + Box-Muller), so the tests never flake. */
function noise(n: number, sigma: number, seed = 1): Float64Array {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = sigma * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return x;
}

const rmsOf = (tones: Tone[]) => Math.sqrt(tones.reduce((s, t) => s + (t.amp * t.amp) / 2, 0));
const velocityOf = (tones: Tone[], lo = 10, hi = 1000) =>
  1000 * Math.sqrt(tones.filter((t) => t.hz >= lo && t.hz <= hi).reduce((s, t) => s + (t.amp / (2 * Math.PI * t.hz)) ** 2 / 2, 0));

function within(actual: number, expected: number, tolerance: number, what: string): void {
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(rel <= tolerance, `${what}: ${actual} vs ${expected} (${(rel * 100).toFixed(3)} % off, limit ${tolerance * 100} %)`);
}

const FS = 25600;
const N = 8192;
// Tones deliberately between bins (bin spacing 3.125 Hz), with phases.
const TONES: Tone[] = [
  { amp: 2, hz: 157.3 },
  { amp: 1, hz: 412.7, phase: 0.3 },
  { amp: 0.5, hz: 2500.1, phase: 1.1 },
];

describe('waveform features', () => {
  it('velocity RMS of a single tone: 10 m/s² at 1000 rad/s is 10 mm/s peak, 7.071 mm/s RMS', () => {
    const f = waveformFeatures(synth(N, FS, [{ amp: 10, hz: 1000 / (2 * Math.PI) }]), { sampleRate: FS });
    within(f.velocityRms, 10 / Math.SQRT2, 0.01, 'velocity RMS');
  });

  it('acceleration RMS, velocity RMS, band and defect amplitudes of known tones within 1 %', () => {
    const f = waveformFeatures(synth(N, FS, TONES), {
      sampleRate: FS,
      bands: [
        { name: 'first', lo: 100, hi: 200 },
        { name: 'second', lo: 300, hi: 500 },
        { name: 'hf', lo: 2000, hi: 3000 },
        { name: 'empty', lo: 5000, hi: 6000 },
      ],
      defects: { t157: 157.3, t412: 412.7 },
    });
    assert.equal(f.samples, N);
    assert.equal(f.fftSize, N);
    assert.equal(f.binHz, FS / N);
    within(f.accelerationRms, rmsOf(TONES), 0.01, 'acceleration RMS');
    within(f.velocityRms, velocityOf(TONES), 0.01, 'velocity RMS');
    assert.deepEqual(f.velocityBand, [10, 1000]);
    const band = (name: string) => f.bands.find((b) => b.name === name)!;
    within(band('first').rms, 2 / Math.SQRT2, 0.01, 'band first');
    within(band('second').rms, 1 / Math.SQRT2, 0.01, 'band second');
    within(band('hf').rms, 0.5 / Math.SQRT2, 0.01, 'band hf');
    within(band('first').energy, 2, 0.01, 'band first energy');
    assert.ok(band('empty').rms < 0.001 * rmsOf(TONES), `empty band ${band('empty').rms}`);
    const t157 = f.defects.find((d) => d.name === 't157')!;
    within(t157.rms, 2 / Math.SQRT2, 0.01, 'defect t157');
    assert.ok(Math.abs(t157.peakHz - 157.3) <= f.binHz, `peak at ${t157.peakHz}`);
    within(f.defects.find((d) => d.name === 't412')!.rms, 1 / Math.SQRT2, 0.01, 'defect t412');
  });

  it('amplitudes at the bearing defect frequencies of a 6205 at 1797 rpm', () => {
    const bf = bearingFrequencies({ n: 9, d: 7.94, D: 39.04 }, 1797);
    const tones = [
      { amp: 0.3, hz: bf.bpfo },
      { amp: 0.1, hz: bf.bpfi },
      { amp: 1, hz: bf.shaftHz },
    ];
    const f = waveformFeatures(synth(4 * N, FS, tones), { sampleRate: FS, defects: { bpfo: bf.bpfo, bpfi: bf.bpfi, bsf: bf.bsf, ftf: bf.ftf } });
    const d = Object.fromEntries(f.defects.map((x) => [x.name, x.rms]));
    within(d.bpfo, 0.3 / Math.SQRT2, 0.01, 'BPFO');
    within(d.bpfi, 0.1 / Math.SQRT2, 0.01, 'BPFI');
    assert.ok(d.bsf < 0.01 * 0.3, `BSF should be empty, got ${d.bsf}`);
    assert.equal(f.defects.length, 4);
  });

  it('zero-pads a non-power-of-two frame and stays within 1 %', () => {
    const tones = [
      { amp: 1, hz: 100.7 },
      { amp: 0.5, hz: 333.3 },
    ];
    const f = waveformFeatures(synth(5000, 10000, tones), { sampleRate: 10000, bands: [{ name: 'b', lo: 50, hi: 150 }] });
    assert.equal(f.fftSize, 8192);
    assert.equal(f.resolutionHz, 2);
    within(f.velocityRms, velocityOf(tones), 0.01, 'velocity RMS');
    within(f.bands[0].rms, 1 / Math.SQRT2, 0.01, 'band RMS');
    within(f.accelerationRms, rmsOf(tones), 0.01, 'acceleration RMS');
  });

  it('reused buffers do not leak between frames of different sizes', () => {
    const short = synth(5000, 10000, [{ amp: 1, hz: 100.7 }]);
    const first = waveformFeatures(short, { sampleRate: 10000 });
    waveformFeatures(noise(8192, 5), { sampleRate: 10000 }); // fills the whole 8192 buffer
    assert.deepEqual(waveformFeatures(short, { sampleRate: 10000 }), first);
  });

  it('accepts g and reports m/s²', () => {
    const x = synth(N, FS, TONES);
    const ms2 = waveformFeatures(x, { sampleRate: FS });
    const g = waveformFeatures(
      x.map((v) => v / STANDARD_GRAVITY),
      { sampleRate: FS, unit: 'g' },
    );
    within(g.accelerationRms, ms2.accelerationRms, 1e-12, 'RMS in g');
    within(g.velocityRms, ms2.velocityRms, 1e-12, 'velocity in g');
    within(g.peak, ms2.peak, 1e-12, 'peak in g');
  });

  it('removes DC before every feature and reports it', () => {
    const x = synth(N, FS, TONES);
    const plain = waveformFeatures(x, { sampleRate: FS });
    const biased = waveformFeatures(
      x.map((v) => v + 9.81),
      { sampleRate: FS },
    );
    within(biased.mean - plain.mean, 9.81, 1e-9, 'mean');
    within(biased.accelerationRms, plain.accelerationRms, 1e-9, 'RMS');
    within(biased.velocityRms, plain.velocityRms, 1e-6, 'velocity');
  });

  it('peak, crest factor and kurtosis of a sine (√2, 1.5)', () => {
    // 100 Hz at 25.6 kHz: 256 samples per period, 32 whole periods, a sample on every crest.
    const f = waveformFeatures(synth(N, FS, [{ amp: 3, hz: 100 }]), { sampleRate: FS });
    within(f.peak, 3, 1e-9, 'peak');
    within(f.crestFactor, Math.SQRT2, 1e-9, 'crest factor');
    within(f.kurtosis, 1.5, 1e-9, 'kurtosis');
    assert.equal(f.flat, false);
  });

  it('kurtosis: ≈3 for Gaussian noise, far higher with bearing-like impacts', () => {
    const g = noise(65536, 1);
    within(waveformFeatures(g, { sampleRate: FS }).kurtosis, 3, 0.05, 'Gaussian kurtosis');
    const impacts = g.slice();
    for (let i = 0; i < impacts.length; i += 2048) impacts[i] += 25;
    assert.ok(waveformFeatures(impacts, { sampleRate: FS }).kurtosis > 10);
  });

  it('velocity band excludes tones outside 10-1000 Hz', () => {
    const inBand = waveformFeatures(synth(4 * N, FS, [{ amp: 1, hz: 50.3 }]), { sampleRate: FS }).velocityRms;
    const outside = waveformFeatures(
      synth(4 * N, FS, [
        { amp: 1, hz: 4 },
        { amp: 1, hz: 2000 },
      ]),
      { sampleRate: FS },
    ).velocityRms;
    assert.ok(outside < 0.01 * inBand, `outside-band velocity ${outside} vs in-band ${inBand}`);
    // Low frequencies need fine resolution (error ≈ (fs/N ÷ f)²): 2560 Hz × 32768 samples gives 0.078 Hz.
    const custom = waveformFeatures(synth(32768, 2560, [{ amp: 1, hz: 4 }]), { sampleRate: 2560, velocityBand: [2, 1000] });
    within(custom.velocityRms, velocityOf([{ amp: 1, hz: 4 }], 2, 1000), 0.01, '2-1000 Hz velocity');
  });

  it('clips bands to Nyquist and drops bands above it', () => {
    const f = waveformFeatures(synth(4096, 1000, [{ amp: 1, hz: 123.4 }]), { sampleRate: 1000 });
    assert.deepEqual(f.velocityBand, [10, 500]);
    assert.deepEqual(
      f.bands.map((b) => [b.name, b.lo, b.hi]),
      [['10-1000Hz', 10, 500]],
    );
    const d = waveformFeatures(synth(4096, 1000, [{ amp: 1, hz: 123.4 }]), { sampleRate: 1000, defects: { high: 600 } });
    assert.deepEqual(d.defects, []);
  });

  it('a flat frame is flagged, not divided by zero', () => {
    const f = waveformFeatures(new Float64Array(1024).fill(0.2), { sampleRate: FS });
    assert.equal(f.flat, true);
    assert.equal(f.accelerationRms, 0);
    assert.equal(f.crestFactor, 0);
    assert.equal(f.kurtosis, 0);
    assert.equal(f.velocityRms, 0);
  });

  it('accepts plain number arrays', () => {
    const x = synth(N, FS, TONES);
    assert.deepEqual(waveformFeatures(Array.from(x), { sampleRate: FS }), waveformFeatures(x, { sampleRate: FS }));
  });

  it('rejects input no sensor produces', () => {
    const fails = (samples: unknown, options: object, code: string) =>
      assert.throws(
        () => waveformFeatures(samples as number[], { sampleRate: FS, ...options }),
        (e: unknown) => e instanceof RetrofitError && e.code === code,
        code,
      );
    const ok = synth(64, FS, [{ amp: 1, hz: 1000 }]);
    fails(null, {}, 'invalid_waveform');
    fails([1, 2, 3], {}, 'waveform_too_short');
    fails({ length: (1 << 20) + 1 }, {}, 'waveform_too_long');
    fails([...ok.slice(0, 20), NaN, ...ok.slice(21)], {}, 'invalid_waveform');
    fails([...ok.slice(0, 20), '1', ...ok.slice(21)], {}, 'invalid_waveform');
    fails(ok, { sampleRate: 0 }, 'invalid_sample_rate');
    fails(ok, { sampleRate: Infinity }, 'invalid_sample_rate');
    fails(ok, { unit: 'mm/s' }, 'invalid_unit');
    fails(ok, { velocityBand: [0, 1000] }, 'invalid_band');
    fails(ok, { velocityBand: [100, 50] }, 'invalid_band');
    fails(ok, { velocityBand: [20000, 30000] }, 'invalid_band');
    fails(ok, { bands: [{ name: 'x', lo: 10, hi: 5 }] }, 'invalid_band');
    fails(ok, { defects: { bpfo: -3 } }, 'invalid_band');
    fails(ok, { defectTolerance: 0.7 }, 'invalid_tolerance');
  });
});
