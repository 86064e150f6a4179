/**
 * `envctl ui` beside a demo, as a user starts it: a subprocess on the playground (a free port on
 * 127.0.0.1), and a small client of its HTTP API that signs in as a page would (the session's
 * cookie and CSRF token, the console's own Origin). `npm run demo -- --ui` runs its rollouts
 * through it, so the console shows them live; the end-to-end test of the console drives it the same way.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";

const ENVCTL = join(resolve(import.meta.dirname, "../.."), "lib/cli/envctl.js");

/** One operation of the console, as GET /api/operations/{id} gives it. */
export interface ConsoleOperation {
  readonly id: string;
  readonly status: "running" | "succeeded" | "failed";
  readonly lines: readonly { readonly at: string; readonly text: string }[];
  readonly outcome?: { readonly ok: boolean; readonly exitCode: number; readonly message?: string };
}

export interface ConsoleProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** POSTs an action (`/api/environments/<env>/<action>`); answers the status and the body. */
  act(env: string, action: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown }>;
  operation(id: string): Promise<ConsoleOperation>;
  /**
   * Runs an action and follows its operation until it ends, handing each new progress line to
   * `line`; resolves with envctl's exit code for it.
   */
  follow(env: string, action: string, body: Record<string, unknown>, line?: (text: string) => void): Promise<number>;
  /** SIGTERM, as Ctrl-C would; resolves when it exited. */
  stop(): Promise<void>;
}

/** Starts `envctl ui --port 0` (plus `args`) in `dir`; resolves once it printed its URL. */
export async function startConsoleProcess(
  dir: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
): Promise<ConsoleProcess> {
  const child = spawn(process.execPath, [ENVCTL, "ui", "--port", "0", ...args], {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => {
    out += b.toString("utf8");
  });
  child.stderr!.on("data", (b: Buffer) => {
    out += b.toString("utf8");
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`envctl ui printed no URL within 60 s:\n${out}`)), 60_000);
    const look = () => {
      const m = /envctl ui: (http:\/\/\S+?);? /.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!.replace(/;$/, ""));
      }
    };
    child.stdout!.on("data", look);
    child.once("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`envctl ui exited ${code} before listening:\n${out}`));
    });
  });
  // A session, as the page gets one: its cookie and its CSRF token.
  const first = await fetch(`${url}/api/session`);
  const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0]!;
  const { csrf } = (await first.json()) as { csrf: string };
  const headers = { cookie, origin: url, "x-csrf-token": csrf, "content-type": "application/json" };
  const operation = async (id: string) =>
    (await (await fetch(`${url}/api/operations/${id}`, { headers })).json()) as ConsoleOperation;
  const act = async (e: string, action: string, body: Record<string, unknown>) => {
    const r = await fetch(`${url}/api/environments/${encodeURIComponent(e)}/${action}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as unknown };
  };
  return {
    url,
    child,
    output: () => out,
    act,
    operation,
    follow: async (e, action, body, line = () => undefined) => {
      const r = await act(e, action, body);
      const started = r.body as ConsoleOperation & { operation?: string; exitCode?: number; error?: string };
      const id = started.id ?? started.operation;
      if (!id) {
        line(`${action} refused (${r.status}): ${started.error ?? JSON.stringify(r.body)}`);
        return started.exitCode ?? 1;
      }
      let shown = 0;
      for (;;) {
        const op = await operation(id);
        for (const l of op.lines.slice(shown)) line(l.text);
        shown = op.lines.length;
        if (op.status !== "running") return op.outcome?.exitCode ?? 1;
        await new Promise((res) => setTimeout(res, 500));
      }
    },
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
