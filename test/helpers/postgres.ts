/**
 * A throwaway PostgreSQL cluster from Debian's binaries, on a free loopback port, for tests and
 * benchmarks: `initdb -A trust -U postgres` into a temporary directory, `pg_ctl start` listening
 * on 127.0.0.1 only with its socket in that directory, `pg_ctl stop -m immediate` to end it.
 *
 * initdb refuses to run as root (CI runs as root): then the binaries run with the uid/gid of the
 * `postgres` system user, who owns the directory. Missing binaries are an error, never a skip:
 * .ci/run installs them.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool, type PoolConfig } from 'pg';

/** The newest /usr/lib/postgresql/<version>/bin that has initdb. */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql; .ci/run does it)');
  return path.join(base, versions[0], 'bin');
}

/** uid/gid of the postgres user when we are root (initdb refuses root), else undefined. */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no postgres system user to run initdb as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], logFile: string, user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // Output to a file, not a pipe: the postmaster outlives pg_ctl and would hold a pipe open.
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, ...(user ?? {}) });
    child.once('error', (err) => {
      fs.closeSync(fd);
      reject(err);
    });
    child.once('exit', (code) => {
      fs.closeSync(fd);
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${code}:\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`));
    });
  });
}

/** Clusters still running, stopped at once if the test process exits without its after hook. */
const running = new Set<PgCluster>();
process.on('exit', () => {
  for (const cluster of running) cluster.stopNow();
});

export interface ClusterOptions {
  /** Durability settings as shipped (fsync on) instead of the test default (off). */
  durable?: boolean;
  /** Serve TLS with this certificate and key (PEM files; copied into the cluster's directory). */
  ssl?: { certFile: string; keyFile: string };
}

export class PgCluster {
  private running = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly user: { uid: number; gid: number } | undefined,
    private readonly durable: boolean,
    private readonly ssl: boolean,
  ) {}

  readonly host = '127.0.0.1';
  get dataDir(): string {
    return path.join(this.dir, 'data');
  }
  get logFile(): string {
    return path.join(this.dir, 'server.log');
  }

  /** initdb + start on a free port. */
  static async create(options: ClusterOptions = {}): Promise<PgCluster> {
    const bin = postgresBinDir();
    const user = runAs();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-pg-'));
    if (user) fs.chownSync(dir, user.uid, user.gid);
    const cluster = new PgCluster(dir, await freePort(), bin, user, options.durable === true, options.ssl !== undefined);
    if (options.ssl) {
      // The server reads its key only when the key belongs to it and nobody else can read it.
      for (const [from, name] of [[options.ssl.certFile, 'server.crt'], [options.ssl.keyFile, 'server.key']] as const) {
        fs.copyFileSync(from, path.join(dir, name));
        fs.chmodSync(path.join(dir, name), 0o600);
        if (user) fs.chownSync(path.join(dir, name), user.uid, user.gid);
      }
    }
    await run(path.join(bin, 'initdb'), ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'], path.join(dir, 'initdb.log'), user);
    await cluster.start();
    return cluster;
  }

  async start(): Promise<void> {
    const settings = [`-c listen_addresses=${this.host}`, `-p ${this.port}`, `-k ${this.dir}`, '-c max_connections=50'];
    // fsync off is safe for a test whose OS never crashes; synchronous_commit stays on, because an
    // immediate stop (a simulated outage) would lose commits the server had already confirmed.
    if (this.ssl) settings.push('-c ssl=on', `-c ssl_cert_file=${path.join(this.dir, 'server.crt')}`, `-c ssl_key_file=${path.join(this.dir, 'server.key')}`);
    if (!this.durable) settings.push('-c fsync=off', '-c full_page_writes=off');
    await run(path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-l', this.logFile, '-o', settings.join(' '), '-w', '-t', '60', 'start'], path.join(this.dir, 'pg_ctl.log'), this.user);
    this.running = true;
    running.add(this);
  }

  /** Synchronous immediate stop, for the exit handler. */
  stopNow(): void {
    if (!this.running) return;
    spawnSync(path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore', ...(this.user ?? {}) });
    this.running = false;
    running.delete(this);
  }

  /** Kills the server at once (no checkpoint), like a crash or a pulled cable. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await run(path.join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop'], path.join(this.dir, 'pg_ctl.log'), this.user);
    this.running = false;
    running.delete(this);
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    try {
      await this.stop();
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  connection(database = 'postgres'): PoolConfig {
    return { host: this.host, port: this.port, user: 'postgres', database };
  }

  pool(extra: PoolConfig = {}): Pool {
    const pool = new Pool({ ...this.connection(), max: 4, ...extra });
    pool.on('error', () => {}); // idle clients die when a test stops the server
    return pool;
  }
}
