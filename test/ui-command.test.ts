/**
 * `envctl ui` itself: refuses a non-loopback address without a token (saying so), refuses a bad
 * token file, and serves the console on loopback until stopped.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../lib/cli/envctl.ts";
import { startConsoleProcess } from "../lib/demo/console.ts";
import { consoleHarness } from "./support/console.ts";

describe("envctl ui", () => {
  it("refuses another address than loopback without a token, and a token file that is too short; starts nothing", async () => {
    const h = await consoleHarness();
    await h.ui.close();
    const err: string[] = [];
    const deps = { ...h.deps, stderr: (t: string) => err.push(t) };
    expect(await main(["node", "envctl", "ui", "--host", "0.0.0.0", "--port", "0"], deps)).toBe(1);
    expect(err.join("\n")).toMatch(/not a loopback address[\s\S]*--token-file/);
    writeFileSync(join(h.dir, "short-token"), "abc\n");
    err.length = 0;
    expect(await main(["node", "envctl", "ui", "--host", "0.0.0.0", "--token-file", "short-token"], deps)).toBe(1);
    expect(err.join("\n")).toMatch(/--token-file must hold one token of 32-512 printable characters/);
    err.length = 0;
    expect(await main(["node", "envctl", "ui", "--port", "70000"], deps)).toBe(1);
    expect(err.join("\n")).toMatch(/--port must be 0-65535/);
  });

  it("serves the console on 127.0.0.1 until stopped", async () => {
    const h = await consoleHarness();
    await h.ui.close();
    const out: string[] = [];
    const stop = new AbortController();
    const running = main(["node", "envctl", "ui", "--port", "0", "--read-only"], {
      ...h.deps,
      signal: stop.signal,
      stdout: (t) => out.push(t),
    });
    await expect.poll(() => out.join(""), { timeout: 10_000 }).toMatch(/http:\/\/127\.0\.0\.1:\d+/);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out.join(""))![0];
    expect(out.join("")).toMatch(/read-only/);
    const res = await fetch(`${url}/api/environments`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { environments: unknown[] }).environments).toHaveLength(3);
    stop.abort(new Error("SIGINT"));
    expect(await running).toBe(0);
  });

  it("runs as a subprocess the way a user starts it (lib/demo/console.ts): its URL, a session, an action refused with its words", async () => {
    const h = await consoleHarness();
    await h.ui.close();
    const ui = await startConsoleProcess(h.dir, { ...process.env, ...h.deps.env });
    try {
      expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${ui.url}/api/environments`)).status).toBe(200);
      // production without its name typed: refused before anything runs (400), the words handed on
      const lines: string[] = [];
      expect(await ui.follow("production", "rollback", {}, (l) => lines.push(l))).toBe(1);
      expect(lines).toEqual([expect.stringMatching(/^rollback refused \(400\): .*type its name \(production\)/)]);
      expect((await ui.act("dev", "rollout", { rps: -1 })).status).toBe(400);
    } finally {
      await ui.stop();
    }
    expect(ui.child.exitCode).toBe(0);
  });
});
