/**
 * SKAB benchmark (`npm run bench:skab`): the anomaly pipeline on the Skoltech Anomaly Benchmark,
 * scored by our own code exactly as shared/datasets/skab/README.md describes.
 *
 * - The 34 fault files (not anomaly-free); per file the first 400 rows train, the rest are
 *   scored: 23,801 rows, 12,771 anomalous, 127 changepoints (all asserted).
 * - Every file runs through the replay pipeline (normalise → twin → anomaly), strictly in time
 *   order, with the pump class's anomaly settings, the same for every file; the label columns
 *   are excluded, so the pipeline never sees them.
 * - Outlier detection: F1 / FAR / MAR over one confusion matrix of all scored rows.
 * - Changepoint detection: the NAB-like score with 60 s windows to the right of each true
 *   changepoint, standard / lowFP / lowFN; predicted changepoints are the rows where the binary
 *   prediction changes (as in SKAB's own notebooks).
 * - The metric code is checked on the null detector (F1 0, NAB 0) and the all-ones detector
 *   (F1 ≈ 0.70, FAR 100 %) before anything is reported.
 * - Rows: our robust z alone, isolation forest alone, Hotelling T² alone, and the combination
 *   (the pump default), measured in the same run; published results for context.
 *
 * Bars (issue 5): F1 ≥ 0.80 with FAR ≤ 10 %, changepoint (standard) ≥ 35. A missed bar is
 * reported, not thrown; exit 1 only when the benchmark itself is broken.
 */
import fs from 'node:fs';
import path from 'node:path';
import { machineInfo, repoRoot, compactJson } from './support';
import { readTable } from '../nodes/lib/replay/table';
import { parseTime, runReplay } from '../nodes/lib/replay/pipeline';
import { addConfusion, binaryScores, changepointsOf, nabFile, nabTotal, type Confusion, type NabSums } from '../nodes/lib/replay/metrics';
import type { PartialAnomalyOptions } from '../nodes/lib/anomaly/scorer';
import { CLASS_MODEL_CONFIG } from '../nodes/lib/anomaly/defaults';

const TRAIN_ROWS = 400;
const EXPECT = { files: 34, scored: 23_801, anomalous: 12_771, changepoints: 127 };
const BARS = { f1: 0.8, far: 10, nab: 35 };

interface SkabFile {
  name: string;
  text: string;
  times: number[];
  anomaly: number[];
  changepoint: number[];
}

function loadFiles(dataDir: string): SkabFile[] {
  if (!fs.existsSync(dataDir)) {
    throw new Error(`SKAB data not found at ${dataDir}: the benchmark expects the shared datasets beside the repository (../shared/datasets/skab/data)`);
  }
  const files: SkabFile[] = [];
  for (const dir of fs.readdirSync(dataDir).sort()) {
    const full = path.join(dataDir, dir);
    if (dir === 'anomaly-free' || !fs.statSync(full).isDirectory()) continue;
    const names = fs.readdirSync(full).filter((f) => f.endsWith('.csv')).sort((a, b) => parseInt(a) - parseInt(b));
    for (const f of names) {
      const text = fs.readFileSync(path.join(full, f), 'utf8');
      const table = readTable(text, f, ';');
      const col = (name: string) => {
        const i = table.columns.indexOf(name);
        if (i < 0) throw new Error(`${dir}/${f}: no ${name} column`);
        return i;
      };
      const [ti, ai, ci] = [col('datetime'), col('anomaly'), col('changepoint')];
      files.push({
        name: `${dir}/${f}`,
        text,
        times: table.rows.map((r) => parseTime(r[ti])!),
        anomaly: table.rows.map((r) => Math.round(Number(r[ai]))),
        changepoint: table.rows.map((r) => Math.round(Number(r[ci]))),
      });
    }
  }
  return files;
}

interface Variant {
  name: string;
  description: string;
  anomaly: PartialAnomalyOptions;
}

const off = { enabled: false };
const on = { enabled: true };
const VARIANTS: Variant[] = [
  { name: 'robust z', description: 'max |z| over signals (median/MAD, floored), calibrated', anomaly: { model: { detectors: { robustZ: on, iforest: off, pca: off, cusum: off } } } },
  { name: 'isolation forest', description: 'own iForest, ψ 256, 100 trees, seed 1, calibrated', anomaly: { model: { detectors: { robustZ: off, iforest: on, pca: off, cusum: off } } } },
  { name: 'Hotelling T²', description: 'T² on standardised signals, eigenvalues floored at 2', anomaly: { model: { detectors: { robustZ: off, iforest: off, pca: on, cusum: off } } } },
  { name: 'combination (pump default)', description: 'max of calibrated robust z, iForest and T²', anomaly: {} },
];

interface Row {
  detector: string;
  f1: number;
  far: number;
  mar: number;
  nabStandard: number;
  nabLowFP: number;
  nabLowFN: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  cpDetected: number;
  cpFalseAlarms: number;
  seconds?: number;
}

function evaluate(name: string, files: SkabFile[], predict: (f: SkabFile, fileIndex: number) => number[]): Row {
  const conf: Confusion = { tp: 0, tn: 0, fp: 0, fn: 0 };
  const nabs: NabSums[] = [];
  files.forEach((f, k) => {
    const pred = predict(f, k);
    const truth = f.anomaly.slice(TRAIN_ROWS);
    if (pred.length !== truth.length) throw new Error(`${name}: ${f.name} has ${pred.length} predictions for ${truth.length} rows`);
    addConfusion(conf, truth, pred);
    nabs.push(nabFile(f.times.slice(TRAIN_ROWS), f.changepoint.slice(TRAIN_ROWS), changepointsOf(pred)));
  });
  const b = binaryScores(conf);
  const n = nabTotal(nabs);
  return { detector: name, f1: b.f1, far: b.far, mar: b.mar, nabStandard: n.standard, nabLowFP: n.lowFP, nabLowFN: n.lowFN, tp: b.tp, fp: b.fp, fn: b.fn, tn: b.tn, cpDetected: n.detected, cpFalseAlarms: n.falseAlarms };
}

function fmt(v: number, digits: number): string {
  return v.toFixed(digits);
}

function main(): number {
  const dataDir = path.resolve(repoRoot, '..', 'shared', 'datasets', 'skab', 'data');
  const files = loadFiles(dataDir);
  const scored = files.reduce((a, f) => a + f.anomaly.length - TRAIN_ROWS, 0);
  const anomalous = files.reduce((a, f) => a + f.anomaly.slice(TRAIN_ROWS).filter((v) => v === 1).length, 0);
  const cps = files.reduce((a, f) => a + f.changepoint.slice(TRAIN_ROWS).filter((v) => v === 1).length, 0);
  const counts = { files: files.length, scored, anomalous, changepoints: cps };
  for (const [k, v] of Object.entries(EXPECT)) {
    if (counts[k as keyof typeof counts] !== v) throw new Error(`SKAB protocol: expected ${v} ${k}, found ${counts[k as keyof typeof counts]}`);
  }

  // The metric code against the detectors whose scores are known.
  const nul = evaluate('null detector', files, (f) => new Array(f.anomaly.length - TRAIN_ROWS).fill(0));
  const ones = evaluate('all-ones detector', files, (f) => new Array(f.anomaly.length - TRAIN_ROWS).fill(1));
  const perfect = evaluate('perfect detector', files, (f) => f.anomaly.slice(TRAIN_ROWS));
  const checks = [
    { what: 'null F1 = 0', ok: nul.f1 === 0 && nul.far === 0 && nul.mar === 100 },
    { what: 'null NAB = 0', ok: Math.abs(nul.nabStandard) < 1e-9 && Math.abs(nul.nabLowFP) < 1e-9 && Math.abs(nul.nabLowFN) < 1e-9 },
    { what: 'all-ones F1 ≈ 0.70, FAR 100 %', ok: Math.abs(ones.f1 - 0.7) < 0.005 && ones.far === 100 && ones.mar === 0 },
    { what: 'perfect F1 = 1', ok: perfect.f1 === 1 && perfect.far === 0 },
  ];
  const broken = checks.filter((c) => !c.ok);
  if (broken.length) throw new Error(`metric self-check failed: ${broken.map((c) => c.what).join('; ')}`);

  const rows: Row[] = [];
  for (const v of VARIANTS) {
    const t0 = process.hrtime.bigint();
    const row = evaluate(v.name, files, (f) => {
      const table = readTable(f.text, f.name, ';');
      const { rows: out, summary } = runReplay(table, { trainRows: TRAIN_ROWS, exclude: ['anomaly', 'changepoint'], assetClass: 'pump', assetId: 'skab', anomaly: v.anomaly });
      if (summary.learning !== TRAIN_ROWS || summary.scored !== f.anomaly.length - TRAIN_ROWS) throw new Error(`${v.name}: ${f.name}: ${summary.learning} learning rows, ${summary.scored} scored`);
      return out.slice(TRAIN_ROWS).map((r) => r.anomalous);
    });
    row.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    rows.push(row);
  }
  const combo = rows[rows.length - 1];
  const bars = {
    outlier: { bar: `F1 ≥ ${BARS.f1} with FAR ≤ ${BARS.far} %`, f1: combo.f1, far: combo.far, pass: combo.f1 >= BARS.f1 && combo.far <= BARS.far },
    changepoint: { bar: `NAB standard ≥ ${BARS.nab}`, value: combo.nabStandard, pass: combo.nabStandard >= BARS.nab },
  };
  const published = [
    { detector: 'Conv-AE (published)', f1: 0.78, far: 13.55, mar: 28.02 },
    { detector: 'MSET (published)', f1: 0.78, far: 39.73, mar: 14.13 },
    { detector: 'T-squared+Q (published)', f1: 0.76, far: 26.62, mar: 24.92 },
    { detector: 'Isolation Forest (published)', f1: 0.29, far: 2.56, mar: 82.89, nabStandard: 26.16 },
    { detector: 'MSCRED (published, best changepoint)', nabStandard: 32.42 },
  ];
  const report = {
    bench: 'skab',
    machine: machineInfo(),
    protocol: { data: path.relative(repoRoot, dataDir), ...counts, trainRows: TRAIN_ROWS, nabWindowS: 60, predictedChangepoints: 'rows where the binary prediction changes' },
    settings: { assetClass: 'pump', model: CLASS_MODEL_CONFIG },
    checks: Object.fromEntries(checks.map((c) => [c.what, c.ok])),
    baselines: [nul, ones, perfect].map((r) => ({ detector: r.detector, f1: r.f1, far: r.far, mar: r.mar, nabStandard: r.nabStandard })),
    results: rows,
    published,
    bars,
  };
  console.log(compactJson(report, 2));

  const header = ['detector', 'F1', 'FAR %', 'MAR %', 'NAB std', 'NAB lowFP', 'NAB lowFN', 'CP hit/127', 'CP false', 's'];
  const lines: string[][] = [];
  for (const r of [nul, ones, ...rows]) {
    lines.push([r.detector, fmt(r.f1, 3), fmt(r.far, 2), fmt(r.mar, 2), fmt(r.nabStandard, 2), fmt(r.nabLowFP, 2), fmt(r.nabLowFN, 2), String(r.cpDetected), String(r.cpFalseAlarms), r.seconds !== undefined ? fmt(r.seconds, 2) : '']);
  }
  for (const p of published) {
    const q = p as { detector: string; f1?: number; far?: number; mar?: number; nabStandard?: number };
    lines.push([q.detector, q.f1 !== undefined ? fmt(q.f1, 2) : '', q.far !== undefined ? fmt(q.far, 2) : '', q.mar !== undefined ? fmt(q.mar, 2) : '', q.nabStandard !== undefined ? fmt(q.nabStandard, 2) : '', '', '', '', '', '']);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('');
  console.log(`SKAB, ${counts.files} files, ${counts.scored} scored rows (${counts.anomalous} anomalous), ${counts.changepoints} changepoints; pump defaults, train ${TRAIN_ROWS} rows per file`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const l of lines) console.log(line(l));
  console.log('');
  console.log(`outlier bar (${bars.outlier.bar}): ${bars.outlier.pass ? 'PASS' : 'FAIL'} — F1 ${fmt(combo.f1, 3)} at FAR ${fmt(combo.far, 2)} %`);
  console.log(`changepoint bar (${bars.changepoint.bar}): ${bars.changepoint.pass ? 'PASS' : 'FAIL'} — ${fmt(combo.nabStandard, 2)}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`bench:skab is broken: ${(e as Error).message}`);
  process.exitCode = 1;
}
