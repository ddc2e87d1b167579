/**
 * Anomaly core benchmark (`npm run bench:anomaly`).
 *
 *  1. Isolation forest: vectors scored per second, 8 features, 100 trees, ψ 256, trained on
 *     10,000 N(0,1) rows; one vector per call (as a live stream scores) and as a batch
 *     (`scoreBatch`). Bar: ≥ 100,000 vectors/s, judged on the median of the timed rounds; the
 *     best round is printed too. The machine is shared and loaded, so absolute rates move; two
 *     baselines run interleaved with it in the same rounds, and their ratios move far less:
 *       - reference walk: the plain pre-order walk over the same trees (`pathLength`, the
 *         scoring before the flattened walk layout) — the speed-up of the layout;
 *       - plain loop: reading the same 8 × 100 values per vector with no tree at all — how far
 *         scoring is from touching the data once per tree.
 *     Also: training time, model JSON size, and checks that the JSON round trip, the batch and
 *     the reference walk all give identical scores (the benchmark is broken otherwise).
 *  2. Full scoring step (smoothing, robust z, iForest, T², calibration, contributions) with the
 *     pump defaults: observations per second (no bar).
 *  3. Replay of all 35 SKAB files (46,806 rows × 8 signals) through read → normalise → twin →
 *     anomaly → alert tiers, training on the first 400 rows of each: wall time (median and best
 *     round). Bar: ≤ 2 s, reported as a rate ≥ 23,403 rows/s so that every bar reads "higher is
 *     better". Same-run baseline: only reading the files and parsing every cell.
 *
 * Options: `--quick` for a smoke run. Exit 0 whether or not a bar is met; 1 if broken.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { figure, fromRounds, machineInfo, measureInterleaved, median, printReport, repoRoot, type Figure, type RoundStats } from './support';
import { IsolationForest, averagePathLength } from '../nodes/lib/anomaly/isolation-forest';
import { ScoringModel } from '../nodes/lib/anomaly/model';
import { CLASS_MODEL_CONFIG } from '../nodes/lib/anomaly/defaults';
import { Prng } from '../nodes/lib/anomaly/prng';
import { readTable } from '../nodes/lib/replay/table';
import { parseNumber, parseTime, runReplay } from '../nodes/lib/replay/pipeline';

const quick = process.argv.includes('--quick');
const DIMS = 8;
const TRAIN = 10_000;
const SCORE = quick ? 20_000 : 100_000;
const IF_BAR = 100_000;
const REPLAY_ROWS = 46_806;
const REPLAY_BAR_S = 2;
const ROUNDS = { warmup: 2, rounds: quick ? 3 : 9 };

/** Ratio of two cases timed in the same rounds: the median of the per-round ratios (load hits both alike). */
function ratioFigure(label: string, a: RoundStats, b: RoundStats): Figure {
  const ratios = a.rates.map((r, i) => r / b.rates[i]);
  return figure(label, median(ratios), '×', { min: Math.min(...ratios), max: Math.max(...ratios), rounds: ratios.length });
}

function normals(n: number, seed: number): Float64Array {
  const rng = new Prng(seed);
  const out = new Float64Array(n * DIMS);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

function skabFiles(): Array<{ name: string; text: string }> {
  const dataDir = path.resolve(repoRoot, '..', 'shared', 'datasets', 'skab', 'data');
  if (!fs.existsSync(dataDir)) throw new Error(`SKAB data not found at ${dataDir} (../shared/datasets/skab/data beside the repository)`);
  const out: Array<{ name: string; text: string }> = [];
  for (const dir of fs.readdirSync(dataDir).sort()) {
    const full = path.join(dataDir, dir);
    if (!fs.statSync(full).isDirectory()) continue;
    for (const f of fs.readdirSync(full).filter((n) => n.endsWith('.csv')).sort()) out.push({ name: `${dir}/${f}`, text: fs.readFileSync(path.join(full, f), 'utf8') });
  }
  return out;
}

async function main(): Promise<number> {
  const figures: Record<string, Figure> = {};

  // 1. Isolation forest
  const train = normals(TRAIN, 1);
  const t0 = performance.now();
  const forest = IsolationForest.fit(train, DIMS, { trees: 100, sampleSize: 256, seed: 42 });
  const trainMs = performance.now() - t0;
  const json = JSON.stringify(forest.toJSON());
  const restored = IsolationForest.fromJSON(JSON.parse(json));
  const probe = normals(1000, 7);
  for (let i = 0; i < 1000; i++) {
    const v = probe.subarray(i * DIMS, (i + 1) * DIMS);
    if (forest.score(v) !== restored.score(v)) throw new Error('isolation forest JSON round trip changed a score');
  }
  const vectors = normals(SCORE, 3);
  const rows = Array.from({ length: SCORE }, (_, i) => vectors.subarray(i * DIMS, (i + 1) * DIMS));
  const cPsi = averagePathLength(forest.sampleSize);
  const batchOut = new Float64Array(SCORE);
  forest.scoreBatch(vectors, SCORE, batchOut);
  for (let i = 0; i < SCORE; i += 7) {
    const reference = Math.pow(2, -forest.pathLength(rows[i]) / cPsi);
    if (forest.score(rows[i]) !== reference || batchOut[i] !== reference) throw new Error(`row ${i}: the fast walk disagrees with the reference walk`);
  }
  let sink = 0;
  const modelJson = (() => {
    const samples = Array.from({ length: 2000 }, (_, i) => ({ t: i * 1000, x: train.subarray(i * DIMS, (i + 1) * DIMS) }));
    const features = Array.from({ length: DIMS }, (_, j) => ({ name: `s${j}`, signal: `s${j}` }));
    return ScoringModel.fit(samples, features, CLASS_MODEL_CONFIG, { id: 'bench', version: 1 });
  })();
  const trees = forest.trees;
  const stats = await measureInterleaved(
    [
      {
        name: 'iforest',
        prepare: () => rows,
        run: (input: Float64Array[]) => {
          for (const v of input) sink += forest.score(v);
          return input.length;
        },
      },
      {
        name: 'iforestBatch',
        prepare: () => vectors,
        run: (input: Float64Array) => {
          forest.scoreBatch(input, SCORE, batchOut);
          sink += batchOut[SCORE - 1];
          return SCORE;
        },
      },
      {
        name: 'reference',
        prepare: () => rows,
        run: (input: Float64Array[]) => {
          for (const v of input) sink += forest.pathLength(v);
          return input.length;
        },
      },
      {
        name: 'plainLoop',
        prepare: () => rows,
        run: (input: Float64Array[]) => {
          for (const v of input) {
            let s = 0;
            for (let t = 0; t < trees; t++) for (let j = 0; j < DIMS; j++) s += v[j];
            sink += s;
          }
          return input.length;
        },
      },
      {
        name: 'step',
        prepare: () => ({ stream: ScoringModel.fromJSON(modelJson.model.toJSON()), rows }),
        run: (input: { stream: ScoringModel; rows: Float64Array[] }) => {
          const stream = modelJson.stream;
          const n = Math.min(input.rows.length, 20_000);
          for (let i = 0; i < n; i++) sink += input.stream.step(stream, 2_000_000 + i * 1000, input.rows[i], true).score;
          return n;
        },
      },
    ],
    ROUNDS,
  );
  if (!Number.isFinite(sink)) throw new Error('scores are not finite');
  const bar = { min: IF_BAR, text: `>= ${IF_BAR.toLocaleString('en-US')} vectors/s (median)` };
  const best = (r: RoundStats) => `best round ${Math.round(r.max).toLocaleString('en-US')}`;
  figures.iforest = fromRounds('iForest scoring, 8 features, 100 trees, one vector per call', stats.iforest, 'vectors/s', { bar, note: best(stats.iforest) });
  figures.iforestBatch = fromRounds('iForest scoring, same, scoreBatch', stats.iforestBatch, 'vectors/s', { bar, note: best(stats.iforestBatch) });
  figures.reference = fromRounds('baseline: reference pre-order walk, same trees', stats.reference, 'vectors/s', { note: best(stats.reference) });
  figures.plainLoop = fromRounds('baseline: plain loop reading 8 × 100 values per vector', stats.plainLoop, 'vectors/s', { note: best(stats.plainLoop) });
  figures.speedup = ratioFigure('iForest ÷ reference walk (same rounds)', stats.iforest, stats.reference);
  figures.ofPlainLoop = ratioFigure('iForest ÷ plain loop (same rounds)', stats.iforest, stats.plainLoop);
  figures.iforestTrain = figure('iForest training (10,000 rows, ψ 256, 100 trees)', trainMs, 'ms');
  figures.iforestJson = figure('iForest model JSON', json.length / 1024, 'KiB', { note: `${forest.nodeCount} nodes; round trip, batch and reference walk score identically` });
  figures.step = fromRounds('full scoring step with contributions (pump defaults)', stats.step, 'observations/s', { note: best(stats.step) });

  // 3. Replay of all 35 SKAB files
  const files = skabFiles();
  const replayOnce = () => {
    let n = 0;
    for (const f of files) {
      const table = readTable(f.text, f.name, ';');
      const exclude = ['anomaly', 'changepoint'].filter((c) => table.columns.includes(c));
      const { rows: out } = runReplay(table, { trainRows: 400, exclude, assetClass: 'pump' });
      n += out.length;
    }
    return n;
  };
  // Same-run baseline: only reading the files and parsing every cell as a number and every time.
  const readOnce = () => {
    let n = 0;
    for (const f of files) {
      const table = readTable(f.text, f.name, ';');
      for (const r of table.rows) {
        sink += parseTime(r[0]) ?? 0;
        for (let c = 1; c < r.length; c++) sink += parseNumber(r[c], ';') ?? 0;
        n++;
      }
    }
    return n;
  };
  const replayStats = await measureInterleaved(
    [
      { name: 'replay', prepare: () => null, run: () => replayOnce() },
      { name: 'read', prepare: () => null, run: () => readOnce() },
    ],
    { warmup: 1, rounds: quick ? 2 : 7 },
  );
  const replayRows = replayStats.replay.items;
  if (replayRows !== REPLAY_ROWS) throw new Error(`replay produced ${replayRows} rows, expected ${REPLAY_ROWS}`);
  const seconds = replayRows / replayStats.replay.median;
  figures.replaySeconds = figure('replay of all 35 SKAB files (46,806 rows × 8 signals)', seconds, 's', { note: `bar: <= ${REPLAY_BAR_S} s; best round ${(replayRows / replayStats.replay.max).toFixed(2)} s`, min: replayRows / replayStats.replay.max, max: replayRows / replayStats.replay.min, rounds: replayStats.replay.rates.length });
  figures.replayRead = fromRounds('baseline: reading and parsing the same files only', replayStats.read, 'rows/s', { note: `best round ${Math.round(replayStats.read.max).toLocaleString('en-US')}` });
  figures.replayOfRead = ratioFigure('replay ÷ reading only (same rounds)', replayStats.replay, replayStats.read);
  figures.replayRate = fromRounds('replay rate', replayStats.replay, 'rows/s', { bar: { min: REPLAY_ROWS / REPLAY_BAR_S, text: `>= ${Math.round(REPLAY_ROWS / REPLAY_BAR_S).toLocaleString('en-US')} rows/s (46,806 rows in <= ${REPLAY_BAR_S} s)` } });

  printReport({
    bench: 'anomaly',
    machine: machineInfo(),
    config: { dims: DIMS, trainRows: TRAIN, scored: SCORE, trees: 100, sampleSize: 256, ...ROUNDS, quick },
    figures,
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    console.error(`bench:anomaly is broken: ${e.message}`);
    process.exitCode = 1;
  },
);
