/**
 * pdm-replay: replays a CSV or JSONL file of timestamped numeric columns through the anomaly
 * and alert pipeline and writes one output row per input row.
 *
 *   pdm-replay --input <file> --output <file.csv> [--train-rows N] [--separator ';']
 *              [--time-column NAME] [--exclude-columns a,b] [--asset-class pump]
 *
 * This interface is stable: scripts outside the repository call it. Extra options:
 * --asset-id ID, --map "Column=signal[:unit],...", --time-format auto|dmy|mdy,
 * --summary-json FILE, --quiet. The summary goes to stderr. Exit 0 on success, 2 on a usage
 * error, 1 when the file cannot be read or scored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ASSET_CLASS_IDS, isAssetClassId } from '../assets/classes';
import { parseMap } from './columns';
import { formatOutput, formatSummary, runReplay, type ReplayOptions, type TimeFormat } from './pipeline';
import { readTable } from './table';

const USAGE = `usage: pdm-replay --input <file> --output <file.csv> [--train-rows N] [--separator ';']
                  [--time-column NAME] [--exclude-columns a,b] [--asset-class pump]
                  [--asset-id ID] [--map "Column=signal[:unit],..."] [--time-format auto|dmy|mdy]
                  [--summary-json FILE] [--quiet]

Replays a CSV or JSONL file of timestamped numeric columns through normalise -> twin -> anomaly
-> alert tiers, strictly in time order, and writes timestamp,score,anomalous,top_signal,tier (one
row per input row; score 0 on training rows, top_signal on anomalous rows, tier watch|warning|action
while an alert episode is active, with the asset class's tier rules).
  --train-rows N        the first N rows (in time order) train the model; later rows are scored.
                        Default: whichever comes first of the asset class's warm-up (pump: 120
                        rows spanning 2 h) and 20 % of the file's rows (at least 2), so any file
                        gets scores without this option
  --separator C         CSV separator (default: detected from the header; "tab" for a tab)
  --time-column NAME    the time column (default: timestamp/datetime/time/ts/date, else the first)
  --exclude-columns a,b columns the pipeline never sees (labels)
  --asset-class ID      ${ASSET_CLASS_IDS.join(' | ')} (default pump): its anomaly settings apply
`;

export class UsageError extends Error {}

const VALUE_FLAGS = ['input', 'output', 'train-rows', 'separator', 'time-column', 'exclude-columns', 'asset-class', 'asset-id', 'map', 'time-format', 'summary-json'];

export function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (name === 'help' || name === 'quiet') {
      out[name] = true;
      continue;
    }
    if (!VALUE_FLAGS.includes(name)) throw new UsageError(`unknown option --${name}`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    out[name] = value;
  }
  return out;
}

function separatorOf(v: string | true | undefined): string | undefined {
  if (v === undefined || v === true) return undefined;
  if (v === 'tab' || v === '\\t') return '\t';
  if (v === 'semicolon') return ';';
  if (v === 'comma') return ',';
  if (v.length !== 1) throw new UsageError(`--separator must be one character (or "tab"), got "${v}"`);
  return v;
}

export function main(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): number {
  let args: Record<string, string | true>;
  try {
    args = parseArgs(argv);
    if (args.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (typeof args.input !== 'string' || typeof args.output !== 'string') throw new UsageError('--input and --output are required');
  } catch (e) {
    io.stderr.write(`pdm-replay: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const options: Partial<ReplayOptions> = {};
    if (typeof args['train-rows'] === 'string') {
      const n = Number(args['train-rows']);
      if (!Number.isInteger(n) || n < 2) throw new UsageError('--train-rows must be a whole number ≥ 2');
      options.trainRows = n;
    }
    const assetClass = typeof args['asset-class'] === 'string' ? args['asset-class'] : 'pump';
    if (!isAssetClassId(assetClass)) throw new UsageError(`--asset-class must be one of ${ASSET_CLASS_IDS.join(', ')}`);
    options.assetClass = assetClass;
    if (typeof args['asset-id'] === 'string') options.assetId = args['asset-id'];
    if (typeof args['time-column'] === 'string') options.timeColumn = args['time-column'];
    if (typeof args['exclude-columns'] === 'string') options.exclude = args['exclude-columns'].split(',').map((s) => s.trim()).filter(Boolean);
    if (typeof args.map === 'string') options.map = parseMap(args.map);
    if (typeof args['time-format'] === 'string') {
      if (!['auto', 'dmy', 'mdy'].includes(args['time-format'])) throw new UsageError('--time-format must be auto, dmy or mdy');
      options.timeFormat = args['time-format'] as TimeFormat;
    }
    const separator = separatorOf(args.separator);
    const text = fs.readFileSync(args.input, 'utf8');
    const table = readTable(text, args.input, separator);
    const { rows, summary } = runReplay(table, options);
    fs.mkdirSync(path.dirname(path.resolve(args.output)), { recursive: true });
    fs.writeFileSync(args.output, formatOutput(rows));
    if (typeof args['summary-json'] === 'string') fs.writeFileSync(args['summary-json'], `${JSON.stringify(summary, null, 2)}\n`);
    if (!args.quiet) io.stderr.write(`${formatSummary(summary)}\n  output: ${args.output}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`pdm-replay: ${e.message}\n${USAGE}`);
      return 2;
    }
    io.stderr.write(`pdm-replay: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
