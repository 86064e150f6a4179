/**
 * The release store's lock and compare-and-swap with real processes (test/support/store-writer.ts,
 * the code path of `envctl shift --no-deploy`, bundled as test/store-kill.test.ts does):
 * - a holder is judged gone only when its identity proves it: in another PID namespace its pid means
 *   nothing here (never judged dead by it; only its lock going unrefreshed for the stale period
 *   counts), and a running pid with another start time is a reused pid (its holder is gone);
 * - a live holder stalled past the stale period is never taken over on its own host, and stops
 *   before writing when it wakes (its lock may have been judged abandoned elsewhere);
 * - a lock taken over or removed while held stops its holder with a clear error, never a crash
 *   (ENOENT), and the holder never removes the lock of the one that took it;
 * - a release file changed on disk after it was read (another writer, a git pull) is never
 *   overwritten: the commit compares the sequence number and state on disk under the lock.
 * Every refusal is checked to leave the release file and its history as they were.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { staleMs } from "../lib/fsutil/file-lock.ts";
import { judgeHolder, ownIdentity, startTicksOf } from "../lib/fsutil/process-identity.ts";
import * as core from "../lib/release/core.ts";
import { ReleaseSchema } from "../lib/release/model/release.ts";
import { commit, loadRelease, releaseText, withLock } from "../lib/release/store/index.ts";
import { REPO, tempProject } from "./support/project.ts";

const ENV = "dev";
let bundle = "";

function bundleWriter(): string {
  const esbuild = createRequire(createRequire(join(REPO, "package.json")).resolve("tsx/package.json"))(
    "esbuild",
  ) as typeof import("esbuild");
  const out = join(mkdtempSync(join(tmpdir(), "envstack-store-lock-")), "store-writer.cjs");
  esbuild.buildSync({
    entryPoints: [join(REPO, "test/support/store-writer.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: out,
    logLevel: "error",
  });
  return out;
}

interface Writer {
  readonly child: ChildProcess;
  /** Resolves once the writer printed `line` (or exited). */
  said(line: string): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
}

function startWriter(root: string, count: string, waitSeconds: number, env: NodeJS.ProcessEnv = {}): Writer {
  const child = spawn(process.execPath, [bundle, root, ENV, count, String(waitSeconds)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters: { line: string; resolve: () => void }[] = [];
  const check = () => {
    for (const w of waiters) if (out.includes(`${w.line}\n`)) w.resolve();
  };
  child.stdout!.on("data", (d) => {
    out += d;
    check();
  });
  child.stderr!.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      for (const w of waiters) w.resolve();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    said: (line) =>
      new Promise<void>((resolve) => {
        waiters.push({ line, resolve });
        check();
      }),
    exited,
    stdout: () => out,
    stderr: () => err,
  };
}

/** A dev release with versions in both slots (shift moves weight between them). */
function project(): string {
  return tempProject((dir) => {
    const file = join(dir, "environments/releases", `${ENV}.json`);
    const r = JSON.parse(readFileSync(file, "utf8"));
    r.slots.green.version = "1.6.0";
    writeFileSync(file, releaseText(ReleaseSchema.parse(r)));
  });
}

const releaseFile = (root: string) => join(root, "environments/releases", `${ENV}.json`);
const lockDir = (root: string) => `${releaseFile(root)}.lock`;
const ownerFile = (root: string) => `${releaseFile(root)}.lock-owner.json`;
const auditFile = (root: string) => join(root, "environments/releases", `${ENV}.audit.jsonl`);
const stored = (root: string) => ({
  release: readFileSync(releaseFile(root), "utf8"),
  audit: existsSync(auditFile(root)) ? readFileSync(auditFile(root), "utf8") : "",
});

/** A lock as another envctl holds it: its directory, its holder record, refreshed while `refresh` runs. */
function foreignLock(root: string, holder: object): { stop: () => void } {
  mkdirSync(lockDir(root));
  writeFileSync(
    ownerFile(root),
    JSON.stringify({ since: new Date().toISOString(), command: "envctl rollout dev", token: "f00d", ...holder }),
  );
  const timer = setInterval(() => utimesSync(lockDir(root), new Date(), new Date()), 250);
  return { stop: () => clearInterval(timer) };
}

describe("the release store's lock and compare-and-swap, between real processes", () => {
  beforeAll(() => {
    bundle = bundleWriter();
  });

  it("the holder record names host, boot, PID namespace and start time, as /proc says", async () => {
    const root = project();
    const holder = startWriter(root, "hold", 0);
    await holder.said("holding");
    const owner = JSON.parse(readFileSync(ownerFile(root), "utf8"));
    expect(owner).toMatchObject({
      pid: holder.child.pid,
      host: hostname(),
      bootId: readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(),
      pidNamespace: readlinkSync("/proc/self/ns/pid"),
      startTicks: startTicksOf(holder.child.pid!),
      token: expect.stringMatching(/^[0-9a-f]{24}$/),
    });
    holder.child.kill("SIGKILL");
    await holder.exited;
  });

  it("a holder in another PID namespace is never judged dead by its pid: only an unrefreshed lock is taken over", async () => {
    const root = project();
    const before = stored(root);
    const self = ownIdentity();
    // A pid that does not exist here, in another namespace of this host, refreshing its lock: alive.
    const lock = foreignLock(root, { ...self, pid: 4_000_000, pidNamespace: "pid:[4026531999]", startTicks: 1 });
    try {
      const w = startWriter(root, "1", 2, { ENVSTACK_LOCK_STALE_SECONDS: "3" });
      expect(await w.exited).toEqual({ code: 1, signal: null });
      expect(w.stderr()).toMatch(
        /^LockedError: dev is locked by another envctl \(pid 4000000 on .*, 'envctl rollout dev', held for \d+ s\)/,
      );
      expect(stored(root)).toEqual(before);
    } finally {
      lock.stop();
    }
    // Once it stops refreshing for the stale period, it is taken over, with why.
    const w = startWriter(root, "1", 10, { ENVSTACK_LOCK_STALE_SECONDS: "3" });
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.stderr()).toMatch(
      /^dev: the lock was left by pid 4000000 on .*; envctl cannot check that process \(it runs in another PID namespace \(pid:\[4026531999\]; this one is pid:\[\d+\]\), where its pid means nothing here\) and the lock was not refreshed for [34] s \(its holder refreshes it every second\); taking the lock over$/m,
    );
    expect(loadRelease(root, ENV).lastChange?.seq).toBe(1);
  });

  it("a running pid with another start time is a reused pid: its holder is gone, taken over at once; with its own start time it is alive", async () => {
    const self = ownIdentity();
    const alive = project();
    const lock = foreignLock(alive, { ...self });
    try {
      const w = startWriter(alive, "1", 1);
      expect(await w.exited).toEqual({ code: 1, signal: null });
      expect(w.stderr()).toContain(`LockedError: dev is locked by another envctl (pid ${process.pid}`);
    } finally {
      lock.stop();
    }
    const reused = project();
    const stale = foreignLock(reused, { ...self, startTicks: self.startTicks! - 100 });
    stale.stop();
    const w = startWriter(reused, "1", 0);
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.stderr()).toContain(`(pid ${process.pid} now belongs to a process started later); taking the lock over`);
    expect(judgeHolder({ ...self, pid: process.pid }, self)).toEqual({ state: "alive" });
    expect(judgeHolder({ ...self, host: "elsewhere" }, self)).toMatchObject({ state: "unknown" });
  });

  it("a holder stalled past the stale period is not taken over on its host, and stops before writing when it wakes", async () => {
    const root = project();
    const stale = { ENVSTACK_LOCK_STALE_SECONDS: "2" };
    const a = startWriter(root, "stall:4000", 0, stale);
    await a.said("loaded");
    const b = startWriter(root, "1", 20, stale);
    const endA = await a.exited;
    expect(endA).toEqual({ code: 1, signal: null });
    expect(a.stderr()).toMatch(
      /^LockLostError: dev: stopped before writing: its lock was not refreshed for \d s \(this process stalled\), so another envctl may have judged it abandoned; this command wrote nothing more/,
    );
    expect(await b.exited).toEqual({ code: 0, signal: null });
    expect(b.stderr()).not.toContain("taking the lock over");
    // Only b's change: a's never reached the disk.
    expect(b.stdout()).toContain("committed 1 ");
    expect(loadRelease(root, ENV).lastChange).toMatchObject({
      seq: 1,
      command: expect.stringContaining(`store-writer ${b.child.pid}`),
    });
  });

  it("a lock taken over while held stops the holder with a clear error, never a crash, and the new holder keeps its lock", async () => {
    const root = project();
    const before = stored(root);
    const a = startWriter(root, "pause", 0);
    await a.said("loaded");
    // Another host's envctl judged it abandoned: its lock removed, then taken.
    rmSync(ownerFile(root));
    rmSync(lockDir(root), { recursive: true });
    const b = startWriter(root, "hold", 0);
    await b.said("holding");
    await new Promise((r) => setTimeout(r, 1_500)); // a's refresh finds the lock is no longer its own
    a.child.stdin!.end("go\n");
    expect(await a.exited).toEqual({ code: 1, signal: null });
    expect(a.stderr()).toMatch(/^LockLostError: dev: stopped before writing: its lock was (taken over|removed)/);
    expect(a.stderr()).not.toMatch(/ENOENT|\n\s+at /);
    expect(stored(root)).toEqual(before);
    expect(JSON.parse(readFileSync(ownerFile(root), "utf8")).pid).toBe(b.child.pid);
    expect(existsSync(lockDir(root))).toBe(true);
    b.child.kill("SIGKILL");
    await b.exited;
  });

  it("compare-and-swap: a release file changed on disk after it was read is never overwritten", async () => {
    const root = project();
    const a = startWriter(root, "pause", 0);
    await a.said("loaded");
    // While a holds the lock, the file changes under it (a git pull, a writer that ignored the lock).
    const current = loadRelease(root, ENV);
    const theirs = { ...core.shift(current, "green", 40), lastChange: null };
    writeFileSync(
      releaseFile(root),
      releaseText(
        ReleaseSchema.parse({
          ...theirs,
          lastChange: {
            ...(current.lastChange ?? {}),
            seq: 1,
            by: "bob",
            at: "2026-11-22T10:00:00.000Z",
            command: "envctl shift dev --to green --percent 40",
            outcome: "edited",
            from: {
              live: "blue",
              slots: { blue: { version: "1.4.2", weight: 100 }, green: { version: "1.6.0", weight: 0 } },
            },
            to: {
              live: "blue",
              slots: { blue: { version: "1.4.2", weight: 60 }, green: { version: "1.6.0", weight: 40 } },
            },
          },
        }),
      ),
    );
    const after = stored(root);
    a.child.stdin!.end("go\n");
    expect(await a.exited).toEqual({ code: 1, signal: null });
    expect(a.stderr()).toBe(
      "ConflictError: dev: the release file changed on disk since this command read it (it read record 0; the file now holds record 1 by bob, 'envctl shift dev --to green --percent 40'); nothing was written. Run the command again: it starts from the file as it is\n",
    );
    expect(stored(root)).toEqual(after);
  });

  it("pure: who may be judged gone, and the stale period's bounds", () => {
    const self = { host: "h1", pid: 10, bootId: "b1", pidNamespace: "pid:[1]", startTicks: 500 };
    const probe = (running: boolean, ticks?: number) => ({ running: () => running, startTicks: () => ticks });
    expect(judgeHolder({ ...self, pid: 20 }, self, probe(false))).toEqual({
      state: "dead",
      why: "which is no longer running",
    });
    expect(judgeHolder({ ...self, pid: 20, startTicks: 400 }, self, probe(true, 450)).state).toBe("dead");
    expect(judgeHolder({ ...self, pid: 20, startTicks: 400 }, self, probe(true, 400))).toEqual({ state: "alive" });
    // Never by pid alone: another host, another boot (or a host of the same name), another namespace, a record without them.
    for (const other of [
      { host: "h2" },
      { bootId: "b2" },
      { pidNamespace: "pid:[2]" },
      { bootId: undefined },
      { pidNamespace: undefined },
    ]) {
      expect(judgeHolder({ ...self, pid: 20, ...other }, self, probe(false)).state, JSON.stringify(other)).toBe(
        "unknown",
      );
    }
    expect(staleMs({})).toBe(30_000);
    expect(staleMs({ ENVSTACK_LOCK_STALE_SECONDS: "5" })).toBe(5_000);
    for (const bad of ["1", "x", "2.5", "3601"]) {
      expect(() => staleMs({ ENVSTACK_LOCK_STALE_SECONDS: bad })).toThrow(
        `ENVSTACK_LOCK_STALE_SECONDS must be a whole number of seconds from 2 to 3600 (found '${bad}')`,
      );
    }
  });

  it("in process: a commit without the lock, or from a stale read, writes nothing", async () => {
    const root = project();
    const before = loadRelease(root, ENV);
    const change: core.Change = { by: "t", at: new Date().toISOString(), command: "envctl shift dev" };
    expect(() => commit(root, before, core.shift(before, "blue", 50), { change, outcome: "edited" })).toThrow(
      "dev: stopped before writing: this envctl does not hold the lock of",
    );
    const first = await withLock(root, ENV, 0, async () =>
      commit(root, before, core.shift(before, "blue", 50), { change, outcome: "edited" }),
    );
    expect(first.lastChange?.seq).toBe(1);
    await expect(
      withLock(root, ENV, 0, async () =>
        commit(root, before, core.shift(before, "blue", 60), { change, outcome: "edited" }),
      ),
    ).rejects.toThrow(
      "dev: the release file changed on disk since this command read it (it read record 0; the file now holds record 1 by t, 'envctl shift dev')",
    );
    expect(loadRelease(root, ENV).slots.blue.weight).toBe(50);
  });
});
