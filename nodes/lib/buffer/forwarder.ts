/**
 * Publishes a journal's records to an MQTT broker with QoS 1, in journal order, with at most
 * `window` records in flight, and acknowledges each record in the journal only when the broker's
 * PUBACK arrives.
 *
 * One mqtt.js client per connection attempt (reconnectPeriod 0, clean session): when a connection
 * drops, its client is thrown away with everything mqtt.js still held in memory, the journal is
 * rewound to the first unacknowledged record and the next connection sends from there. So the
 * journal is the only queue: nothing is sent twice by two queues, and the order on the wire is
 * always the journal's order (per asset, too).
 *
 * A record published on a connection other than the one that was live when it was appended (it
 * waited through an outage, a restart, or is sent again) is historical: an object payload gets
 * `"historical": true`, and under MQTT 5 the user properties `historical` and `key` (the
 * idempotency key) are set as well.
 *
 * MQTT 5 PUBACK reason codes ≥ 0x80 are refusals: quota exceeded (0x97) and server busy (0x89)
 * are retried after a reconnect; any other (not authorized, topic name invalid, payload format
 * invalid, ...) would be refused forever, so the record is dropped from the journal, counted in
 * `refused` and reported through `onRefused`.
 */
import { connect as mqttConnect, type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { Journal } from './journal';
import { wirePayload, type JournalRecord } from './record';

export type ProtocolVersion = 4 | 5;

export interface ForwarderOptions {
  /** mqtt://, mqtts://, ws://, wss:// */
  url: string;
  protocolVersion?: ProtocolVersion;
  clientId?: string;
  username?: string;
  password?: string;
  /** TLS options for mqtts:// and wss:// (ca, cert, key, passphrase, rejectUnauthorized, servername, ALPNProtocols). */
  tls?: Record<string, unknown>;
  keepaliveSec?: number;
  connectTimeoutMs?: number;
  /** Wait between connection attempts (default 5 s). */
  reconnectMs?: number;
  /** Records in flight (published, PUBACK pending); default 500. */
  window?: number;
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface ForwarderEvents {
  onState?: (state: ConnectionState, detail?: string) => void;
  onRefused?: (rec: JournalRecord, reasonCode: number, reason: string) => void;
  /** Called after records were acknowledged (count of this batch, and how many were historical). */
  onDelivered?: (count: number, historical: number) => void;
}

/**
 * Small QoS 1 packets with a window of PUBACKs pending are exactly what Nagle's algorithm delays
 * (40 ms per round with delayed ACKs): send each packet at once.
 */
function noDelay(client: MqttClient): void {
  const stream = (client as unknown as { stream?: { setNoDelay?: (on: boolean) => void; socket?: { setNoDelay?: (on: boolean) => void } } }).stream;
  try {
    stream?.setNoDelay?.(true);
    stream?.socket?.setNoDelay?.(true);
  } catch {
    /* not a TCP stream (WebSocket in a browser) */
  }
}

/** Reason codes that say "not now" rather than "never". */
const TRANSIENT_REFUSALS = new Set([0x89, 0x97]);

export class Forwarder {
  private client: MqttClient | undefined;
  private generation = 0;
  private inflight = 0;
  private window: number;
  private state: ConnectionState = 'disconnected';
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pumpScheduled: NodeJS.Immediate | undefined;
  private stopped = false;
  private deliveredBatch = 0;
  private historicalBatch = 0;
  /** Last error reported by the client (connection refused, TLS, DNS ...). */
  lastError: string | undefined;

  constructor(
    private readonly journal: Journal,
    private readonly options: ForwarderOptions,
    private readonly events: ForwarderEvents = {},
  ) {
    this.window = Math.max(1, Math.min(65535, Math.floor(options.window ?? 500)));
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** Whether a client, timer or scheduled pump is still alive (lets tests check close). */
  get busy(): boolean {
    return !!(this.client || this.reconnectTimer || this.pumpScheduled);
  }

  start(): void {
    if (this.stopped || this.client) return;
    this.connect();
  }

  private setState(state: ConnectionState, detail?: string): void {
    if (this.state === state && detail === undefined) return;
    this.state = state;
    try {
      this.events.onState?.(state, detail);
    } catch {
      /* a listener must not break the forwarder */
    }
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    const o = this.options;
    const opts: IClientOptions = {
      protocolVersion: o.protocolVersion ?? 4,
      clean: true,
      reconnectPeriod: 0,
      keepalive: o.keepaliveSec ?? 60,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      resubscribe: false,
      queueQoSZero: false,
      ...(o.tls ?? {}),
    };
    if (o.clientId) opts.clientId = o.clientId;
    if (o.username !== undefined && o.username !== '') opts.username = o.username;
    if (o.password !== undefined && o.password !== '') opts.password = o.password;
    this.setState('connecting');
    let client: MqttClient;
    try {
      client = mqttConnect(o.url, opts);
    } catch (err) {
      this.lastError = (err as Error).message;
      this.setState('disconnected', this.lastError);
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    noDelay(client);
    const gen = ++this.generation;
    client.on('connect', (connack) => {
      if (this.client !== client) return;
      noDelay(client);
      const receiveMaximum = connack?.properties?.receiveMaximum;
      this.window = Math.max(1, Math.min(Math.floor(o.window ?? 500), 65535, receiveMaximum ?? 65535));
      this.lastError = undefined;
      this.inflight = 0;
      this.journal.rewind();
      this.journal.liveGeneration = gen;
      this.setState('connected');
      this.pump();
    });
    client.on('error', (err) => {
      if (this.client !== client) return;
      this.lastError = err.message;
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.dropClient();
      this.setState('disconnected', this.lastError);
      this.scheduleReconnect();
    });
  }

  /** Forgets the current client (its pending callbacks are ignored) and rewinds the journal. */
  private dropClient(): void {
    const client = this.client;
    this.client = undefined;
    this.journal.liveGeneration = 0;
    this.journal.rewind();
    this.inflight = 0;
    this.flushDelivered();
    if (client) {
      client.removeAllListeners('connect');
      client.removeAllListeners('close');
      client.on('error', () => {}); // late socket errors of a dead client must not be unhandled
      try {
        client.end(true);
      } catch {
        /* already ended */
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => this.connect(), Math.max(10, this.options.reconnectMs ?? 5000));
  }

  /** Publishes as much as the window allows. Call it when records became durable. */
  pump(): void {
    if (this.pumpScheduled) {
      clearImmediate(this.pumpScheduled);
      this.pumpScheduled = undefined;
    }
    const client = this.client;
    if (!client || this.state !== 'connected' || this.stopped) return;
    const gen = this.generation;
    while (this.inflight < this.window) {
      const rec = this.journal.next();
      if (!rec) break;
      this.inflight++;
      const historical = rec.historical === true || rec.gen !== gen;
      const opts: IClientPublishOptions = { qos: 1, retain: rec.retain === true };
      if (this.options.protocolVersion === 5) {
        const userProperties: Record<string, string> = {};
        if (historical) userProperties.historical = 'true';
        if (rec.key !== undefined) userProperties.key = rec.key;
        opts.properties = {};
        // Never an empty userProperties object: that publish is never answered (mqtt.js 5.16 + mosquitto 2.0).
        if (Object.keys(userProperties).length > 0) opts.properties.userProperties = userProperties;
        if (rec.enc === 'json') opts.properties.contentType = 'application/json';
      }
      const seq = rec.seq;
      client.publish(rec.topic, wirePayload(rec, historical), opts, (err) => {
        // A broker's answer counts even if the connection has dropped since (mqtt.js may hand the
        // PUBACK over after 'close'; mosquitto 2.0 with max_queued_messages 0 closes the
        // connection right after refusing a publish): without that a refused record would be sent
        // again forever. Callbacks of a dropped client without a broker answer change nothing:
        // the journal was rewound and sends those records again.
        const current = this.client === client;
        if (current) this.inflight--;
        if (!err) {
          this.journal.ack(seq);
          this.deliveredBatch++;
          if (historical) this.historicalBatch++;
        } else {
          const code = (err as Error & { code?: unknown }).code;
          if (typeof code === 'number' && code >= 0x80) {
            if (TRANSIENT_REFUSALS.has(code)) {
              if (current) {
                this.lastError = err.message;
                client.end(true); // 'close' rewinds, the next connection retries
              }
              return;
            }
            this.journal.ack(seq, 'refused');
            try {
              this.events.onRefused?.(rec, code, err.message);
            } catch {
              /* ignore */
            }
          }
        }
        if (current) this.schedulePump();
        else if (this.deliveredBatch > 0 && !this.client) this.flushDelivered();
      });
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = setImmediate(() => {
      this.pumpScheduled = undefined;
      this.flushDelivered();
      this.pump();
    });
  }

  private flushDelivered(): void {
    if (this.deliveredBatch === 0) return;
    const n = this.deliveredBatch;
    const h = this.historicalBatch;
    this.deliveredBatch = this.historicalBatch = 0;
    try {
      this.events.onDelivered?.(n, h);
    } catch {
      /* ignore */
    }
  }

  /**
   * Stops publishing; waits up to `graceMs` for PUBACKs of what is in flight (so that less is sent
   * again next time), then closes the connection and clears every timer. Calls back when done.
   */
  stop(graceMs: number, callback: () => void): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const wasStopped = this.stopped;
    this.stopped = true;
    if (this.pumpScheduled) clearImmediate(this.pumpScheduled);
    this.pumpScheduled = undefined;
    if (wasStopped && !this.client) return callback();
    const deadline = Date.now() + Math.max(0, graceMs);
    const finish = () => {
      this.flushDelivered();
      this.dropClient();
      this.setState('stopped');
      callback();
    };
    const wait = () => {
      if (!this.client || this.state !== 'connected' || this.inflight <= 0 || Date.now() >= deadline) return finish();
      this.flushDelivered();
      setTimeout(wait, 10);
    };
    wait();
  }
}
