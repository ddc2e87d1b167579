/**
 * Coalesces status updates: at most one render per interval, so a busy node does not
 * flood the editor's websocket. The timer is the only resource; stop() releases it.
 */
export class StatusThrottle {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastRender = 0;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly render: () => void,
  ) {}

  update(): void {
    if (this.stopped || this.timer) return;
    const wait = this.lastRender + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.fire();
      return;
    }
    this.timer = setTimeout(() => this.fire(), wait);
  }

  /** True while a render is scheduled (lets tests see that close() cleared it). */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    this.lastRender = Date.now();
    this.render();
  }
}
