/**
 * The console's operations: each action runs as one operation with an id, its progress lines and
 * its outcome, kept in memory (the release's own history is the record that lasts). Subscribers
 * (the server-sent events) hear every line and every end.
 */
import { randomBytes } from "node:crypto";
import type { Progress } from "../release/ports/index.ts";
import { type Action, type ActionOutcome, type ReleaseCore, targetOf } from "./core.ts";

export interface OperationView {
  readonly id: string;
  readonly action: Action;
  readonly environment: string;
  readonly by: string;
  readonly startedAt: string;
  status: "running" | "succeeded" | "failed";
  readonly lines: { at: string; text: string }[];
  outcome?: ActionOutcome;
  endedAt?: string;
}

export type OperationEvent =
  | { readonly type: "line"; readonly id: string; readonly environment: string; readonly text: string }
  | { readonly type: "end"; readonly id: string; readonly environment: string; readonly status: string };

/** The most operations kept (the oldest finished ones are dropped). */
const KEEP = 200;
/** The most lines one operation keeps. */
const MAX_LINES = 2000;

export class Operations {
  private readonly ops = new Map<string, { view: OperationView; controller: AbortController; done: Promise<void> }>();
  private readonly listeners = new Set<(e: OperationEvent) => void>();

  constructor(private readonly core: ReleaseCore) {}

  subscribe(fn: (e: OperationEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get(id: string): OperationView | undefined {
    return this.ops.get(id)?.view;
  }

  list(): OperationView[] {
    return [...this.ops.values()].map((o) => o.view).reverse();
  }

  /** The running rollout of `env` started here, if any. */
  runningRollout(env: string): OperationView | undefined {
    return this.list().find((o) => o.status === "running" && o.action.kind === "rollout" && o.environment === env);
  }

  /** Interrupts a running operation (Pause): the rollout leaves the traffic where it is. */
  interrupt(id: string): boolean {
    const op = this.ops.get(id);
    if (op?.view.status !== "running") return false;
    op.controller.abort(new Error("paused from the console"));
    return true;
  }

  /** Starts an action; resolves when it ends. */
  start(action: Action, confirmed: boolean): { view: OperationView; done: Promise<void> } {
    const id = randomBytes(8).toString("hex");
    const controller = new AbortController();
    const environment = targetOf(action);
    const view: OperationView = {
      id,
      action,
      environment,
      by: `${this.core.actor()} (console)`,
      startedAt: this.core.now().toISOString(),
      status: "running",
      lines: [],
    };
    const say = (text: string) => {
      if (view.lines.length < MAX_LINES) view.lines.push({ at: new Date().toISOString(), text });
      this.emit({ type: "line", id, environment, text });
    };
    const progress: Progress = {
      step: async (title, fn) => {
        say(`▶ ${title}`);
        try {
          const r = await fn((l) => say(`  │ ${l}`));
          say(`✔ ${title}`);
          return r;
        } catch (e) {
          say(`✖ ${title}`);
          throw e;
        }
      },
      wait: async (title, seconds) => {
        say(`⏳ ${title}: ${seconds} s`);
        await new Promise((r) => setTimeout(r, seconds * 1000));
      },
      info: (line) => say(line),
    };
    const done = this.core
      .run(action, { progress, signal: controller.signal, confirmed })
      .then((outcome) => {
        view.outcome = outcome;
        view.status = outcome.ok ? "succeeded" : "failed";
        if (!outcome.ok) say(`error: ${outcome.message}`);
      })
      .finally(() => {
        view.endedAt = new Date().toISOString();
        this.emit({ type: "end", id, environment, status: view.status });
      });
    this.ops.set(id, { view, controller, done });
    this.prune();
    return { view, done };
  }

  /** Interrupts every running operation (the server stops) and waits for them. */
  async close(): Promise<void> {
    for (const op of this.ops.values())
      if (op.view.status === "running") op.controller.abort(new Error("console stopped"));
    await Promise.allSettled([...this.ops.values()].map((o) => o.done));
  }

  private emit(e: OperationEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener that went away
      }
    }
  }

  private prune(): void {
    for (const [id, op] of this.ops) {
      if (this.ops.size <= KEEP) break;
      if (op.view.status !== "running") this.ops.delete(id);
    }
  }
}
