/**
 * Progress of envctl's steps: a live display on a terminal (listr2, with the bake timer), plain
 * timestamped lines in CI or when output is piped.
 */
import type { Progress } from "../release/ports/index.ts";

/** listr2 is loaded only for the live display on a terminal. */
const listr = async () => (await import("listr2")).Listr;

/** The release's Progress port: implemented here for the terminal and for CI. */
export type { Progress } from "../release/ports/index.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mmss = (s: number) => `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;

export class PlainProgress implements Progress {
  constructor(
    private readonly write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
    private readonly now = () => new Date(),
  ) {}

  private line(text: string) {
    this.write(`[${this.now().toISOString().slice(0, 19)}Z] ${text}`);
  }

  async step<T>(title: string, fn: (log: (line: string) => void) => Promise<T>): Promise<T> {
    const started = Date.now();
    this.line(`▶ ${title}`);
    try {
      const result = await fn((l) => this.line(`  │ ${l}`));
      this.line(`✔ ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return result;
    } catch (err) {
      this.line(`✖ ${title}`);
      throw err;
    }
  }

  async wait(title: string, seconds: number): Promise<void> {
    this.line(`⏳ ${title}: ${mmss(seconds)}`);
    for (let left = seconds; left > 0; left--) {
      if (left !== seconds && left % 30 === 0) this.line(`⏳ ${title}: ${mmss(left)} left`);
      await sleep(1000);
    }
    this.line(`✔ ${title}`);
  }

  info(text: string): void {
    this.line(text);
  }
}

export class TerminalProgress implements Progress {
  async step<T>(title: string, fn: (log: (line: string) => void) => Promise<T>): Promise<T> {
    let result: T | undefined;
    const Listr = await listr();
    await new Listr(
      [
        {
          title,
          task: async (_ctx, task) => {
            result = await fn((l) => {
              task.output = l;
            });
          },
        },
      ],
      {
        rendererOptions: { collapseErrors: false },
        exitOnError: true,
      },
    ).run();
    return result as T;
  }

  async wait(title: string, seconds: number): Promise<void> {
    const Listr = await listr();
    await new Listr([
      {
        title,
        task: async (_ctx, task) => {
          for (let left = seconds; left > 0; left--) {
            task.title = `${title}: ${mmss(left)} left`;
            await sleep(1000);
          }
          task.title = title;
        },
      },
    ]).run();
  }

  info(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}

/** Live display on an interactive terminal, plain lines in CI. */
export function defaultProgress(): Progress {
  return process.stderr.isTTY && !process.env.CI ? new TerminalProgress() : new PlainProgress();
}
