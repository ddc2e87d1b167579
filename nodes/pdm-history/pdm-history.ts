import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { Pool, type PoolConfig } from 'pg';
import { rowsOf, type MapReject } from '../lib/history/kinds';
import { HistoryWriter, WriterError, type WriterStats } from '../lib/history/writer';
import { isValidSchemaName, type RetentionTiers, type SchemaVariant } from '../lib/history/schema';
import { assetDirectory } from '../lib/assets/directory';
import { StatusThrottle } from '../lib/status-throttle';

interface HistoryNodeDef extends NodeDef {
  host: string;
  port: string | number;
  database: string;
  user: string;
  schema: string;
  tls: string;
  variant: string;
  batchRows: string | number;
  maxDelayMs: string | number;
  maxQueueRows: string | number;
  rawDays: string | number;
  aggregateDays: string | number;
  longDays: string | number;
  maintenanceMin: string | number;
}

type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: Array<Msg | null>) => void;
type Done = (err?: Error) => void;

const COMMANDS = ['rollup', 'retention', 'partitions', 'maintain'] as const;
type Command = (typeof COMMANDS)[number];
/** How long close() keeps writing what is queued before it gives up on it. */
const CLOSE_GRACE_MS = 2000;

function number(value: string | number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (value === '' || value === undefined || !Number.isFinite(n) || n < min || n > max) return fallback;
  return n;
}

export = function register(RED: NodeAPI): void {
  function PdmHistoryNode(this: Node, config: HistoryNodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const schema = isValidSchemaName(config.schema ?? '') ? config.schema : 'pdm';
    const tiers: RetentionTiers = {
      rawDays: number(config.rawDays, 7, 0.001),
      aggregateDays: number(config.aggregateDays, 180, 0.001),
      longDays: number(config.longDays, 1825, 0.001),
    };
    const variant: SchemaVariant | 'auto' = config.variant === 'plain' || config.variant === 'timescale' ? config.variant : 'auto';
    const maintenanceMs = number(config.maintenanceMin, 5, 0) * 60_000;
    const pathOf = (assetId: string) => assetDirectory.get(assetId)?.path;

    const credentials = (node.credentials ?? {}) as { password?: string };
    const poolConfig: PoolConfig = {
      host: config.host || '127.0.0.1',
      port: number(config.port, 5432, 1, 65535),
      database: config.database || 'postgres',
      user: config.user || 'postgres',
      password: credentials.password || undefined,
      max: 3,
      connectionTimeoutMillis: 5000,
      application_name: 'node-red pdm-history',
    };
    if (config.tls) {
      const tlsNode = RED.nodes.getNode(config.tls) as (Node & { addTLSOptions?: (o: Record<string, unknown>) => void }) | null;
      if (tlsNode?.addTLSOptions) {
        const tls: Record<string, unknown> = {};
        tlsNode.addTLSOptions(tls);
        poolConfig.ssl = tls;
      }
    }
    const pool = new Pool(poolConfig);
    // Idle connections die with the server; the writer notices on its next query and retries.
    pool.on('error', () => {});

    let lastProblem: string | undefined;
    const status = new StatusThrottle(500, () => {
      const s = writer.stats();
      const lost = s.refusedFull + s.refusedByDb + s.lostAtClose;
      const params = { queued: s.queuedRows, written: s.rowsInserted, lost, error: (s.lastError ?? '').slice(0, 40) };
      let text = RED._(s.connected ? 'pdm-history.status.connected' : 'pdm-history.status.disconnected', params);
      if (lost > 0) text += RED._('pdm-history.status.lost', params);
      node.status({ fill: !s.connected ? 'red' : lost > 0 ? 'yellow' : 'green', shape: s.connected ? 'dot' : 'ring', text });
    });

    const writer = new HistoryWriter(
      pool,
      {
        schema,
        variant,
        tiers,
        batchRows: number(config.batchRows, 5000, 1, 100_000),
        maxDelayMs: number(config.maxDelayMs, 500, 0, 600_000),
        maxQueueRows: number(config.maxQueueRows, 100_000, 1),
      },
      {
        onState: (connected, err) => {
          const problem = connected ? undefined : err?.message;
          if (problem && problem !== lastProblem) node.warn(RED._('pdm-history.log.down', { error: problem }));
          if (connected && lastProblem) node.log(RED._('pdm-history.log.up', { host: String(poolConfig.host), port: String(poolConfig.port) }));
          if (!connected || lastProblem) lastProblem = problem;
          status.update();
        },
        onWritten: () => status.update(),
      },
    );
    (node as Node & { history?: unknown }).history = { writer, pool, schema };

    // ---- maintenance: partitions ahead, roll-up, retention ------------------------------------
    const run = async (command: Command): Promise<Record<string, unknown>> => {
      const result: Record<string, unknown> = {};
      if (command === 'partitions' || command === 'maintain') result.partitionsCreated = await writer.ensurePartitions();
      if (command === 'rollup' || command === 'maintain') result.rollup = (await writer.rollup()) ?? null;
      if (command === 'retention' || command === 'maintain') result.retention = await writer.retention();
      return result;
    };
    let maintenanceTimer: NodeJS.Timeout | undefined;
    let maintenanceProblem: string | undefined;
    let closing = false;
    const scheduled = () => {
      run('maintain')
        .then((result) => {
          if (maintenanceProblem) node.log(RED._('pdm-history.log.maintenanceOk'));
          maintenanceProblem = undefined;
          node.send([{ topic: 'pdm-history/maintenance', payload: { command: 'maintain', scheduled: true, ...result, stats: writer.stats() } } as Msg, null]);
        })
        .catch((err: Error) => {
          if (err.message !== maintenanceProblem) node.warn(RED._('pdm-history.log.maintenance', { error: err.message }));
          maintenanceProblem = err.message;
        })
        .finally(() => {
          if (!closing && maintenanceMs > 0) maintenanceTimer = setTimeout(scheduled, maintenanceMs);
        });
    };
    // The first run creates the schema and today's partitions without waiting for data.
    maintenanceTimer = setTimeout(scheduled, 10);
    status.update();

    // ---- input -------------------------------------------------------------------------------
    const reasonOf = (r: { code: string; detail?: string }) => RED._(`pdm-history.reject.${r.code}`, { detail: r.detail ?? '', days: tiers.rawDays });
    type RejectItem = Omit<MapReject, 'code'> & { code: string; reason?: string };
    const reject = (msg: Msg, send: Send, items: RejectItem[]): Error => {
      const described = items.map((r) => ({ index: r.index, code: r.code, reason: r.reason ?? reasonOf(r), item: r.item }));
      const out = RED.util.cloneMessage(msg) as Msg;
      out.reject = { code: described[0].code, reason: described[0].reason, count: described.length, items: described };
      send([null, out]);
      status.update();
      return new Error(RED._('pdm-history.errors.rejected', { count: described.length, reason: described[0].reason }));
    };

    node.on('input', (msg: Msg, send: Send, done: Done) => {
      try {
        if (typeof msg.command === 'string' && (COMMANDS as readonly string[]).includes(msg.command)) {
          const command = msg.command as Command;
          run(command)
            .then((result) => {
              const out = RED.util.cloneMessage(msg) as Msg;
              out.topic = `pdm-history/${command}`;
              out.payload = { command, ...result, stats: writer.stats() };
              send([out, null]);
              done();
            })
            .catch((err: Error) => done(new Error(RED._('pdm-history.errors.command', { command, error: err.message }))));
          return;
        }
        const { rows, rejects } = rowsOf(msg, { now: Date.now(), rawDays: tiers.rawDays, pathOf });
        const early = rejects.length > 0 ? reject(msg, send, rejects) : undefined;
        if (rows.length === 0) return done(early);
        const accepted = writer.enqueue(rows, (err) => {
          if (!err) return done(early);
          const code = err instanceof WriterError ? err.code : 'db_refused';
          done(reject(msg, send, [{ code, reason: RED._(`pdm-history.reject.${code}`, { detail: err.message }), item: msg.payload }]));
        });
        if (!accepted) {
          const reason = RED._(closing ? 'pdm-history.reject.closed' : 'pdm-history.reject.queue_full', { detail: String(writer.stats().queuedRows) });
          return done(reject(msg, send, [{ code: closing ? 'closed' : 'queue_full', reason, item: msg.payload }]));
        }
        status.update();
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      if (maintenanceTimer) clearTimeout(maintenanceTimer);
      status.stop();
      writer
        .close(CLOSE_GRACE_MS)
        .then(() => {
          const s: WriterStats = writer.stats();
          if (s.lostAtClose > 0) node.warn(RED._('pdm-history.log.lostAtClose', { count: s.lostAtClose }));
        })
        .finally(() => {
          pool.end().then(done, () => done());
        });
    });
  }

  RED.nodes.registerType('pdm-history', PdmHistoryNode, {
    credentials: {
      password: { type: 'password' },
    },
  });
};
