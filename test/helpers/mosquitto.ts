/**
 * Debian's mosquitto as a separate process on a loopback port, for the integration tests and
 * benchmarks that need a real broker (toolchain.md §6).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../pack/support';

export function mosquittoBinary(): string | undefined {
  return [process.env.PDM_MOSQUITTO, '/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => p && fs.existsSync(p));
}

export const MOSQUITTO_MISSING = 'mosquitto not found: install it with `apt-get install -y mosquitto` (as root) or set PDM_MOSQUITTO';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

export interface MosquittoOptions {
  /** Keep messages in `dir` across restarts (mosquitto saves them on SIGTERM). */
  persistence: boolean;
  /** More mosquitto.conf lines. */
  extra?: string[];
  /** Remove `dir` on stop() (for a folder the broker made itself). */
  removeDir?: boolean;
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  /** Everything mosquitto printed (for failure messages). */
  text = '';

  /** Writes `dir`/mosquitto.conf; start() may be called again after stop() (a restart). */
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: MosquittoOptions,
  ) {
    const conf = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      ...(options.persistence ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']),
      'max_queued_messages 0',
      'set_tcp_nodelay true',
      'log_dest stdout',
      ...(options.extra ?? []),
    ];
    fs.writeFileSync(path.join(dir, 'mosquitto.conf'), conf.join('\n') + '\n');
    // Started as root, mosquitto drops to the mosquitto user: it must own its folder.
    if (process.getuid?.() === 0) {
      try {
        const uid = Number(execFileSync('id', ['-u', 'mosquitto'], { encoding: 'utf8' }).trim());
        const gid = Number(execFileSync('id', ['-g', 'mosquitto'], { encoding: 'utf8' }).trim());
        fs.chownSync(dir, uid, gid);
        for (const f of fs.readdirSync(dir)) fs.chownSync(path.join(dir, f), uid, gid);
      } catch {
        /* no mosquitto user: it keeps running as root */
      }
    }
  }

  /** A started broker without persistence, on a free port, in a temporary folder removed on stop(). */
  static async start(): Promise<Mosquitto> {
    if (!mosquittoBinary()) throw new Error(MOSQUITTO_MISSING);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdm-mosquitto-'));
    const broker = new Mosquitto(await freePort(), dir, { persistence: false, removeDir: true });
    await broker.start();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const bin = mosquittoBinary();
    if (!bin) throw new Error(MOSQUITTO_MISSING);
    const child = spawn(bin, ['-c', path.join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    children.add(child);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.text += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.text += d));
    child.once('exit', () => children.delete(child));
    // Its log is block-buffered on a pipe: wait for the listener instead.
    const deadline = Date.now() + 10_000;
    while (child.exitCode === null && !(await accepts(this.port))) {
      if (Date.now() > deadline) throw new Error(`timed out after 10000 ms waiting for mosquitto listening on ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}):\n${this.text}`);
  }

  /** SIGTERM: mosquitto saves its persistence database and exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(hard);
    }
    if (this.options.removeDir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
