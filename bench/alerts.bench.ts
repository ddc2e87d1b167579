/**
 * Alert quality benchmark (`npm run bench:alerts`, issue 6 item 8): the replay pipeline
 * (normalise → twin → anomaly → alert tiers) on SKAB, with the pump class's anomaly settings and
 * the pump class's tier rules (nodes/lib/alert/config.ts) as they are — nothing here is set from
 * the labels. Per file the first 400 rows train; the label columns are excluded, so the pipeline
 * never sees them; the bench reads them afterwards to score the `tier` column.
 *
 * Definitions (all from the replay's `tier` column, which anyone can rerun with pdm-replay):
 *  - an alert episode is a run of consecutive scored rows with a tier (it is raised on its first
 *    row and ends when the engine clears it, after the off-delay); its peak is its highest tier;
 *    a "warning episode" peaked at warning or action, an "action alert" at action;
 *  - anomaly-free file (9,405 s of normal running): action alerts (bar 0) and warning episodes
 *    (bar ≤ 1);
 *  - fault files: fault start = the first anomaly=1 row after the training part; a file's fault
 *    "raised a warning" when a row of its anomalous stretch has tier ≥ warning; the delay runs
 *    from the fault start to the first such row (0 when a warning was already on);
 *  - false-alarm episodes: episodes raised on a normal (anomaly=0) row, per hour of normal
 *    running (normal scored rows of the 34 fault files; SKAB is 1 Hz, so one row = one second);
 *  - row flags: a row is flagged when its tier ≥ watch (and, separately, ≥ warning, = action),
 *    scored like the SKAB outlier table over all 23,801 scored rows: F1, FAR, MAR (FAR next to
 *    F1), with the NAB changepoint score (standard profile) beside them, and the anomaly
 *    stage's own per-row flag (`anomalous`) for comparison.
 *
 * Bars (issue 6): anomaly-free — 0 action alerts, ≤ 1 warning episode. The fault-file figures
 * are printed without a bar. A missed bar is printed, not thrown: exit 0; exit 1 only when the
 * benchmark itself is broken (data missing, protocol counts wrong, metric self-check failed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { compactJson, machineInfo, median, repoRoot } from './support';
import { readTable } from '../nodes/lib/replay/table';
import { parseTime, runReplay, type ReplayResult } from '../nodes/lib/replay/pipeline';
import { addConfusion, binaryScores, changepointsOf, nabFile, nabTotal, type Confusion, type NabSums } from '../nodes/lib/replay/metrics';
import { engineConfig, resolveTierConfig } from '../nodes/lib/alert/config';

const TRAIN_ROWS = 400;
const EXPECT = { files: 34, scored: 23_801, anomalous: 12_771, changepoints: 127 };
const FREE_ROWS = 9_405;
const BARS = { freeActions: 0, freeWarningEpisodes: 1 };
const RANK: Record<string, number> = { '': 0, watch: 1, warning: 2, action: 3 };
const TIER_NAME = ['', 'watch', 'warning', 'action'];

interface LabelledFile {
  name: string;
  text: string;
  times: number[];
  anomaly: number[];
  changepoint: number[];
}

function loadFaultFiles(dataDir: string): LabelledFile[] {
  const files: LabelledFile[] = [];
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

/** Replays one file with the pump defaults; the label columns (if any) are excluded. */
function replay(text: string, name: string, exclude: string[]): ReplayResult {
  const table = readTable(text, name, ';');
  const result = runReplay(table, { trainRows: TRAIN_ROWS, exclude, assetClass: 'pump', assetId: 'skab' });
  if (result.summary.learning !== TRAIN_ROWS || result.summary.scored + result.summary.masked !== table.rows.length - TRAIN_ROWS) {
    throw new Error(`${name}: ${result.summary.learning} learning rows, ${result.summary.scored} scored, ${result.summary.masked} masked`);
  }
  if (result.rows.slice(0, TRAIN_ROWS).some((r) => r.tier !== '')) throw new Error(`${name}: a training row has a tier`);
  return result;
}

interface Episode {
  /** Scored-row indices, inclusive. */
  start: number;
  end: number;
  peak: number;
}

/** Runs of consecutive rows with a tier. */
function episodesOf(ranks: ArrayLike<number>): Episode[] {
  const out: Episode[] = [];
  let cur: Episode | null = null;
  for (let i = 0; i < ranks.length; i++) {
    const r = ranks[i];
    if (r > 0) {
      if (!cur) {
        cur = { start: i, end: i, peak: r };
        out.push(cur);
      } else {
        cur.end = i;
        cur.peak = Math.max(cur.peak, r);
      }
    } else cur = null;
  }
  return out;
}

interface FileResult {
  file: string;
  faultStartRow: number;
  faultRows: number;
  /** Seconds from the fault start to the first fault row at ≥ warning; null if none. */
  warningDelayS: number | null;
  watchDelayS: number | null;
  warningOnAtStart: boolean;
  episodes: number;
  falseEpisodes: number;
  falseWarningEpisodes: number;
  normalRows: number;
}

interface FlagRow {
  flag: string;
  f1: number;
  far: number;
  mar: number;
  nabStandard: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

function pct(n: number, d: number): number {
  return d > 0 ? (100 * n) / d : 0;
}

function main(): number {
  const dataDir = path.resolve(repoRoot, '..', 'shared', 'datasets', 'skab', 'data');
  if (!fs.existsSync(dataDir)) throw new Error(`SKAB data not found at ${dataDir} (expected ../shared/datasets/skab/data beside the repository)`);
  const started = process.hrtime.bigint();
  const tierRules = resolveTierConfig(engineConfig(), 'pump', 'skab');

  // ---- anomaly-free: 9,405 s of normal running -------------------------------------------
  const freePath = path.join(dataDir, 'anomaly-free', 'anomaly-free.csv');
  const freeText = fs.readFileSync(freePath, 'utf8');
  const free = replay(freeText, 'anomaly-free.csv', []);
  if (free.rows.length !== FREE_ROWS) throw new Error(`anomaly-free.csv: ${free.rows.length} rows, expected ${FREE_ROWS}`);
  const freeRanks = free.rows.slice(TRAIN_ROWS).map((r) => RANK[r.tier]);
  const freeEpisodes = episodesOf(freeRanks);
  const freeScored = freeRanks.length;
  const freeResult = {
    rows: free.rows.length,
    scoredRows: freeScored,
    anomalousRows: free.summary.anomalous,
    episodes: freeEpisodes.length,
    warningEpisodes: freeEpisodes.filter((e) => e.peak >= 2).length,
    actionAlerts: freeEpisodes.filter((e) => e.peak >= 3).length,
    rowsAtWatchOrAbove: freeRanks.filter((r) => r >= 1).length,
    rowsAtWarningOrAbove: freeRanks.filter((r) => r >= 2).length,
    rowsAtAction: freeRanks.filter((r) => r >= 3).length,
    longestEpisodeS: freeEpisodes.reduce((m, e) => Math.max(m, e.end - e.start + 1), 0),
    episodeList: freeEpisodes.map((e) => ({ raisedAt: free.rows[TRAIN_ROWS + e.start].timestamp, rows: e.end - e.start + 1, peak: TIER_NAME[e.peak] })),
    engine: free.summary.alerts,
  };

  // ---- the 34 fault files ------------------------------------------------------------------
  const files = loadFaultFiles(dataDir);
  const counts = {
    files: files.length,
    scored: files.reduce((a, f) => a + f.anomaly.length - TRAIN_ROWS, 0),
    anomalous: files.reduce((a, f) => a + f.anomaly.slice(TRAIN_ROWS).filter((v) => v === 1).length, 0),
    changepoints: files.reduce((a, f) => a + f.changepoint.slice(TRAIN_ROWS).filter((v) => v === 1).length, 0),
  };
  for (const [k, v] of Object.entries(EXPECT)) {
    if (counts[k as keyof typeof counts] !== v) throw new Error(`SKAB protocol: expected ${v} ${k}, found ${counts[k as keyof typeof counts]}`);
  }

  const flagNames = ['anomaly stage (anomalous = 1)', 'tier ≥ watch', 'tier ≥ warning', 'tier = action'] as const;
  const conf: Confusion[] = flagNames.map(() => ({ tp: 0, tn: 0, fp: 0, fn: 0 }));
  const nabs: NabSums[][] = flagNames.map(() => []);
  // Metric self-check on the null and all-ones detectors, as bench:skab does.
  const nulConf: Confusion = { tp: 0, tn: 0, fp: 0, fn: 0 };
  const onesConf: Confusion = { tp: 0, tn: 0, fp: 0, fn: 0 };
  const perFile: FileResult[] = [];
  for (const f of files) {
    const result = replay(f.text, f.name, ['anomaly', 'changepoint']);
    const rows = result.rows.slice(TRAIN_ROWS);
    const truth = f.anomaly.slice(TRAIN_ROWS);
    const times = f.times.slice(TRAIN_ROWS);
    const cps = f.changepoint.slice(TRAIN_ROWS);
    const ranks = rows.map((r) => RANK[r.tier]);
    const preds = [rows.map((r) => r.anomalous as number), ranks.map((r) => (r >= 1 ? 1 : 0)), ranks.map((r) => (r >= 2 ? 1 : 0)), ranks.map((r) => (r >= 3 ? 1 : 0))];
    preds.forEach((p, k) => {
      addConfusion(conf[k], truth, p);
      nabs[k].push(nabFile(times, cps, changepointsOf(p)));
    });
    addConfusion(nulConf, truth, new Array(truth.length).fill(0));
    addConfusion(onesConf, truth, new Array(truth.length).fill(1));

    const faultStart = truth.indexOf(1);
    if (faultStart < 0) throw new Error(`${f.name}: no anomalous row after the training part`);
    let faultEnd = faultStart;
    while (faultEnd + 1 < truth.length && truth[faultEnd + 1] === 1) faultEnd++;
    const firstAt = (minRank: number): number | null => {
      for (let i = faultStart; i <= faultEnd; i++) if (ranks[i] >= minRank) return (times[i] - times[faultStart]) / 1000;
      return null;
    };
    const episodes = episodesOf(ranks);
    const falseEps = episodes.filter((e) => truth[e.start] === 0);
    perFile.push({
      file: f.name,
      faultStartRow: TRAIN_ROWS + faultStart,
      faultRows: faultEnd - faultStart + 1,
      warningDelayS: firstAt(2),
      watchDelayS: firstAt(1),
      warningOnAtStart: ranks[faultStart] >= 2,
      episodes: episodes.length,
      falseEpisodes: falseEps.length,
      falseWarningEpisodes: falseEps.filter((e) => e.peak >= 2).length,
      normalRows: truth.filter((v) => v === 0).length,
    });
  }
  const nul = binaryScores(nulConf);
  const ones = binaryScores(onesConf);
  const checks = { 'null F1 = 0': nul.f1 === 0 && nul.far === 0, 'all-ones F1 ≈ 0.70, FAR 100 %': Math.abs(ones.f1 - 0.7) < 0.005 && ones.far === 100 };
  if (!Object.values(checks).every(Boolean)) throw new Error(`metric self-check failed: ${JSON.stringify(checks)}`);

  const flags: FlagRow[] = flagNames.map((flag, k) => {
    const b = binaryScores(conf[k]);
    return { flag, f1: b.f1, far: b.far, mar: b.mar, nabStandard: nabTotal(nabs[k]).standard, tp: b.tp, fp: b.fp, fn: b.fn, tn: b.tn };
  });
  const warned = perFile.filter((r) => r.warningDelayS !== null);
  const watched = perFile.filter((r) => r.watchDelayS !== null);
  const normalHours = perFile.reduce((a, r) => a + r.normalRows, 0) / 3600;
  const falseEpisodes = perFile.reduce((a, r) => a + r.falseEpisodes, 0);
  const falseWarningEpisodes = perFile.reduce((a, r) => a + r.falseWarningEpisodes, 0);
  const faults = {
    files: perFile.length,
    filesWithWarning: warned.length,
    shareWithWarning: warned.length / perFile.length,
    filesWithWatch: watched.length,
    warningAlreadyOnAtFaultStart: perFile.filter((r) => r.warningOnAtStart).length,
    medianWarningDelayS: warned.length ? median(warned.map((r) => r.warningDelayS!)) : null,
    medianWatchDelayS: watched.length ? median(watched.map((r) => r.watchDelayS!)) : null,
    normalRunningHours: Number(normalHours.toFixed(3)),
    falseAlarmEpisodes: falseEpisodes,
    falseAlarmEpisodesPerHour: falseEpisodes / normalHours,
    falseWarningEpisodes,
    falseWarningEpisodesPerHour: falseWarningEpisodes / normalHours,
    totalEpisodes: perFile.reduce((a, r) => a + r.episodes, 0),
  };
  const bars = {
    freeActions: { bar: `anomaly-free: action alerts = ${BARS.freeActions}`, value: freeResult.actionAlerts, pass: freeResult.actionAlerts <= BARS.freeActions },
    freeWarningEpisodes: { bar: `anomaly-free: warning episodes ≤ ${BARS.freeWarningEpisodes}`, value: freeResult.warningEpisodes, pass: freeResult.warningEpisodes <= BARS.freeWarningEpisodes },
  };
  const failed = Object.values(bars).filter((b) => !b.pass).map((b) => `${b.bar} (got ${b.value})`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const report = {
    bench: 'alerts',
    machine: machineInfo(),
    protocol: { data: path.relative(repoRoot, dataDir), ...counts, freeRows: FREE_ROWS, trainRows: TRAIN_ROWS, episode: 'run of consecutive scored rows with a tier', normalTime: '1 row = 1 s (SKAB is 1 Hz)' },
    settings: { assetClass: 'pump', tierRules, changedDefaults: [] },
    checks,
    anomalyFree: freeResult,
    faults,
    rowFlags: flags,
    perFile,
    bars: { pass: failed.length === 0, failed },
    seconds: Number(seconds.toFixed(2)),
  };
  console.log(compactJson(report, 2));

  const f1 = (v: number, d: number) => v.toFixed(d);
  const table = (header: string[], lines: string[][]) => {
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    console.log(line(header));
    console.log(line(widths.map((w) => '-'.repeat(w))));
    for (const l of lines) console.log(line(l));
  };
  const delay = (v: number | null) => (v === null ? 'n/a' : `${f1(v, 0)} s`);
  console.log('');
  console.log(`SKAB alert quality: pump tier defaults (warning ${tierRules.warning.m} of ${tierRules.warning.n} scored rows or on-delay ${tierRules.warning.onDelayMs / 1000} s; off-delay ${tierRules.clear.offDelayMs / 1000} s), train ${TRAIN_ROWS} rows per file`);
  table(
    ['figure', 'value', 'bar', ''],
    [
      ['anomaly-free: action alerts', String(freeResult.actionAlerts), `= ${BARS.freeActions}`, bars.freeActions.pass ? 'PASS' : 'FAIL'],
      ['anomaly-free: warning episodes', String(freeResult.warningEpisodes), `≤ ${BARS.freeWarningEpisodes}`, bars.freeWarningEpisodes.pass ? 'PASS' : 'FAIL'],
      ['anomaly-free: episodes (any tier)', String(freeResult.episodes), '', ''],
      ['anomaly-free: scored rows at ≥ warning', `${f1(pct(freeResult.rowsAtWarningOrAbove, freeScored), 1)} %`, '', ''],
      ['fault files whose fault raised ≥ warning', `${warned.length}/${perFile.length} (${f1(100 * faults.shareWithWarning, 0)} %)`, '', ''],
      ['  … of which warning already on at fault start', String(faults.warningAlreadyOnAtFaultStart), '', ''],
      ['median delay, fault start → warning', delay(faults.medianWarningDelayS), '', ''],
      ['median delay, fault start → watch', delay(faults.medianWatchDelayS), '', ''],
      ['false-alarm episodes / h of normal running', `${f1(faults.falseAlarmEpisodesPerHour, 2)} (${falseEpisodes} in ${f1(normalHours, 2)} h)`, '', ''],
      ['  … peaking at ≥ warning, / h', `${f1(faults.falseWarningEpisodesPerHour, 2)} (${falseWarningEpisodes})`, '', ''],
    ],
  );
  console.log('');
  console.log(`Row flags over the ${counts.scored} scored rows of the ${counts.files} fault files, scored like the SKAB outlier table`);
  table(
    ['row flagged when', 'F1', 'FAR %', 'MAR %', 'NAB std'],
    flags.map((r) => [r.flag, f1(r.f1, 3), f1(r.far, 2), f1(r.mar, 2), f1(r.nabStandard, 2)]),
  );
  console.log('');
  console.log(failed.length === 0 ? `All bars met (${f1(seconds, 1)} s).` : `Bars missed: ${failed.join('; ')}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`bench:alerts is broken: ${(e as Error).message}`);
  process.exitCode = 1;
}
