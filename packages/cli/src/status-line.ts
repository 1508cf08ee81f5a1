/**
 * Status on stderr: permanent lines (`say`), and on a terminal one progress line redrawn in
 * place while a transfer runs. `-q` silences both. Nothing here writes to stdout.
 */
import type { Writable } from 'node:stream';

/** How often the progress line is redrawn (terminal only). */
export const PROGRESS_INTERVAL_MS = 250;

export class StatusLine {
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(
    private readonly stream: Writable & { isTTY?: boolean },
    private readonly prefix: string,
    private readonly quiet: boolean,
  ) {}

  /** True if progress is drawn (a terminal, not quiet). */
  get live(): boolean {
    return !this.quiet && this.stream.isTTY === true;
  }

  /** A line that stays. */
  say(line: string): void {
    if (this.quiet) return;
    this.clear();
    this.stream.write(`${this.prefix}: ${line}\n`);
  }

  /** Redraw `render()` in place until stop() (a terminal only; elsewhere nothing is drawn). */
  startProgress(render: () => string): void {
    if (!this.live || this.timer !== undefined) return;
    this.timer = setInterval(() => this.draw(render()), PROGRESS_INTERVAL_MS);
    this.timer.unref();
  }

  /** Draw one progress frame now (what the timer does). */
  draw(text: string): void {
    if (!this.live) return;
    this.stream.write(`\r\x1b[2K${this.prefix}: ${text}`);
    this.drawn = true;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private clear(): void {
    if (!this.drawn) return;
    this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
