/**
 * The release store under kill -9 at random moments: writers making committed changes
 * (test/support/store-writer.ts: withLock → loadRelease → core.shift → commit, the path of
 * `envctl shift --no-deploy`) are killed with SIGKILL after a random delay, and after every kill:
 * - the release file parses, validates and is in its canonical form (no torn file), and no
 *   temporary file is left but the killed writer's own (removed by the next commit);
 * - every change on disk has its history record: the log holds seq 1..n exactly once, in order,
 *   where n is the file's `lastChange.seq` or, after a kill between the rename and the append,
 *   n - 1 (the next writer appends it under the lock), and readAudit() always shows 1..n;
 * - no lost update: each acknowledged change is on disk with its weight, the seq on disk is at most
 *   one past the acknowledged ones, and every record starts from the state the one before left;
 * - a lock left by the killed writer is taken over by the next one, whose message names its pid.
 * The delays come from a seeded generator: the seed is printed, `STORE_KILL_SEED=<n>` replays it.
 */
import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ReleaseSchema } from "../lib/release/model/release.ts";
import { loadRelease, readAudit, releaseText } from "../lib/release/store/index.ts";
import { sandbox } from "./support/envctl.ts";
import { REPO, tempProject } from "./support/project.ts";
import { seeded } from "./support/seeded.ts";

const KILLS = 100;
const RACES = 8;
/**
 * Kill delays are drawn from [0, WINDOW_MS) from the writer's start (or from its takeover of the lock
 * a kill left): taking the lock, then commits of a few milliseconds each, releasing it in between.
 */
const WINDOW_MS = 60;
const ENV = "dev";

const SEED = process.env.STORE_KILL_SEED ? Number(process.env.STORE_KILL_SEED) : randomInt(2 ** 31);
console.log(`store-kill: seed ${SEED} (replay with STORE_KILL_SEED=${SEED})`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The writer, bundled once per run (with its dependencies) by the esbuild that tsx itself uses:
 * the same sources and transform, but it starts in ~0.2 s here where the tsx loader takes ~1.3 s.
 */
let bundle = "";
function bundleWriter(): string {
  const esbuild = createRequire(createRequire(join(REPO, "package.json")).resolve("tsx/package.json"))(
    "esbuild",
  ) as typeof import("esbuild");
  const out = join(mkdtempSync(join(tmpdir(), "envstack-store-writer-")), "store-writer.cjs");
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
  readonly pid: number;
  readonly ready: Promise<void>;
  /** Resolves once it says it takes over a lock a dead holder left (or once it exits). */
  readonly takingOver: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** `committed <seq> <weight>` lines so far. */
  acks(): { seq: number; weight: number }[];
  stdout(): string;
  stderr(): string;
  kill(): void;
  go(): void;
}

/** Starts a writer; `gated`, it loads and then waits for {@link Writer.go}. */
function startWriter(root: string, count: number | "hold", waitSeconds = 30, gated = false): Writer {
  const child = spawn(
    process.execPath,
    [bundle, root, ENV, String(count), String(waitSeconds), ...(gated ? ["gated"] : [])],
    { cwd: root, stdio: [gated ? "pipe" : "ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  let onReady: () => void;
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  child.stdout!.on("data", (d) => {
    out += d;
    if (out.includes(count === "hold" ? "holding\n" : "ready\n")) onReady();
  });
  let onTakeover: () => void;
  const takingOver = new Promise<void>((r) => {
    onTakeover = r;
  });
  child.stderr!.on("data", (d) => {
    err += d;
    if (err.includes("taking the lock over")) onTakeover();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      onReady();
      onTakeover();
      resolve({ code, signal });
    }),
  );
  return {
    pid: child.pid!,
    ready,
    takingOver,
    exited,
    acks: () =>
      [...out.matchAll(/^committed (\d+) (\d+)$/gm)].map((m) => ({ seq: Number(m[1]), weight: Number(m[2]) })),
    stdout: () => out,
    stderr: () => err,
    kill: () => child.kill("SIGKILL"),
    go: () => child.stdin?.end("go\n"),
  };
}

/** A project copy whose dev release has versions in both slots (shift moves weight between them). */
function project(): string {
  return tempProject((dir) => {
    const file = join(dir, "environments/releases", `${ENV}.json`);
    const r = JSON.parse(readFileSync(file, "utf8"));
    r.slots.green.version = "1.6.0";
    writeFileSync(file, releaseText(ReleaseSchema.parse(r)));
  });
}

const releasesDir = (root: string) => join(root, "environments/releases");
const lockDir = (root: string) => join(releasesDir(root), `${ENV}.json.lock`);
const ownerFile = (root: string) => join(releasesDir(root), `${ENV}.json.lock-owner.json`);
const tempFiles = (root: string) =>
  readdirSync(releasesDir(root)).filter((f) => f.startsWith(`.${ENV}.json.`) && f.endsWith(".tmp"));
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** The log's lines as written (a line cut short by a kill, without its newline, is reported apart). */
function rawLog(root: string): { seqs: number[]; tornTail: boolean } {
  const file = join(releasesDir(root), `${ENV}.audit.jsonl`);
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const lines = text.split("\n");
  const tornTail = lines.at(-1) !== "";
  return { seqs: lines.slice(0, -1).map((l) => JSON.parse(l).seq as number), tornTail };
}

/**
 * The invariants that hold after any kill. `weights`: the acknowledged weight of each seq.
 * Returns the seq on disk and whether its record is still missing from the log.
 */
function checkStore(
  root: string,
  weights: ReadonlyMap<number, number>,
): { seq: number; unlogged: boolean; tornTail: boolean } {
  const text = readFileSync(join(releasesDir(root), `${ENV}.json`), "utf8");
  const release = loadRelease(root, ENV); // throws on a torn or invalid file
  expect(releaseText(release)).toBe(text);
  const seq = release.lastChange?.seq ?? 0;
  expect(release.slots.blue.weight).toBe(release.lastChange?.to.slots.blue.weight ?? 100);

  const raw = rawLog(root);
  expect([seq - 1, seq]).toContain(raw.seqs.length);
  expect(raw.seqs).toEqual(range(raw.seqs.length));

  const history = readAudit(root, ENV);
  expect(history.map((e) => e.seq)).toEqual(range(seq));
  expect(history.at(-1)).toEqual(seq ? { environment: ENV, ...release.lastChange } : undefined);
  history.forEach((e, i) => {
    if (weights.has(e.seq)) expect(e.to.slots.blue.weight, `record ${e.seq}`).toBe(weights.get(e.seq));
    // Each change starts from the state the one before left: none was lost in between.
    if (i > 0) expect(e.from, `record ${e.seq}`).toEqual(history[i - 1]!.to);
  });
  for (const s of weights.keys()) expect(s, "an acknowledged change is on disk").toBeLessThanOrEqual(seq);
  return { seq, unlogged: raw.seqs.length === seq - 1, tornTail: raw.tornTail };
}

/** The lock's holder record; a kill while it was written may leave it empty (then it names nobody). */
function holderOf(root: string): { pid: number } | undefined {
  try {
    return JSON.parse(readFileSync(ownerFile(root), "utf8")) as { pid: number };
  } catch {
    return undefined;
  }
}

const takeoverOf = (pid: number) => `${ENV}: the lock was left by pid ${pid} on ${hostname()}`;

describe("release store under kill -9 at random moments", () => {
  beforeAll(() => {
    bundle = bundleWriter();
  });

  it(`keeps every change with its record, whole and in order, through ${KILLS} kills`, async () => {
    const root = project();
    const random = seeded(SEED);
    const weights = new Map<number, number>();
    const stats = { acked: 0, unlogged: 0, tornTails: 0, tempFiles: 0, locksLeft: 0, unlabelledLocks: 0, takeovers: 0 };
    let seq = 0;
    /** The holder of a lock a kill left behind, until a writer takes it over. */
    let stale: { pid: number; labelled: boolean } | undefined;
    /** Writers killed since the last one that committed: only their temporary files may remain. */
    let uncleaned: number[] = [];

    /** What the last kill left of the lock, for the failure messages. */
    let lockInfo = "none";
    // The next writer loads while the current one runs, and starts when told.
    let next = startWriter(root, 1_000_000, 30, true);
    for (let k = 0; k < KILLS; k++) {
      const w = next;
      w.go();
      next = startWriter(root, 1_000_000, 30, true);
      await w.ready;
      // Facing a lock a kill left, the writer first takes it over (the kill window starts then).
      if (stale) await w.takingOver;
      await sleep(random() * WINDOW_MS);
      w.kill();
      const end = await w.exited;
      const context = `kill ${k + 1} (seed ${SEED}), writer ${w.pid}, lock before: ${lockInfo}\n${w.stdout().slice(0, 200)}\n${w.stderr()}`;
      expect(end, context).toEqual({ code: null, signal: "SIGKILL" });

      // No lost update: the acknowledged changes follow on from the seq before, the one on disk
      // is at most one past them (the change in flight when the kill came).
      const acks = w.acks();
      expect(
        acks.map((a) => a.seq),
        context,
      ).toEqual(acks.map((_, i) => seq + 1 + i));
      for (const a of acks) weights.set(a.seq, a.weight);
      const after = checkStore(root, weights);
      expect(after.seq - seq - acks.length, context).toBeGreaterThanOrEqual(0);
      expect(after.seq - seq - acks.length, context).toBeLessThanOrEqual(1);

      // A lock the previous kill left is taken over by this writer, naming the dead holder.
      if (stale)
        expect(w.stderr(), context).toContain(
          stale.labelled ? takeoverOf(stale.pid) : `${ENV}: the lock carried no holder record`,
        );
      if (w.stderr().includes("taking the lock over")) stats.takeovers++;
      const previous = stale;
      stale = undefined;
      lockInfo = "none";
      if (existsSync(lockDir(root))) {
        const owner = holderOf(root);
        // The lock a kill leaves is the killed writer's, or still the one before's (unlabelled:
        // the kill came while taking or releasing it).
        if (owner) expect([w.pid, previous?.pid], context).toContain(owner.pid);
        stale = owner ? { pid: owner.pid, labelled: true } : { pid: w.pid, labelled: false };
        stats.locksLeft++;
        lockInfo = `${JSON.stringify(owner)} mtime ${statSync(lockDir(root)).mtimeMs} at ${Date.now()}`;
        if (!owner) stats.unlabelledLocks++;
      }

      if (after.seq > seq) uncleaned = [];
      uncleaned.push(w.pid);
      const temps = tempFiles(root);
      stats.tempFiles += temps.length;
      for (const t of temps)
        expect(
          uncleaned.map((pid) => `.${ENV}.json.${pid}.tmp`),
          context,
        ).toContain(t);

      stats.acked += acks.length;
      if (after.unlogged) stats.unlogged++;
      if (after.tornTail) stats.tornTails++;
      seq = after.seq;
    }

    // A writer left alone finishes, clears what the last kill left and leaves nothing behind.
    next.kill();
    await next.exited;
    const last = startWriter(root, 3);
    expect(await last.exited).toEqual({ code: 0, signal: null });
    if (stale?.labelled) expect(last.stderr()).toContain(takeoverOf(stale.pid));
    for (const a of last.acks()) weights.set(a.seq, a.weight);
    const final = checkStore(root, weights);
    expect(last.acks().map((a) => a.seq)).toEqual([final.seq - 2, final.seq - 1, final.seq]);
    expect(rawLog(root)).toEqual({ seqs: range(final.seq), tornTail: false });
    expect(tempFiles(root)).toEqual([]);
    expect(existsSync(lockDir(root)) || existsSync(ownerFile(root))).toBe(false);
    console.log(
      `store-kill: ${KILLS} kills, ${stats.acked} acknowledged changes, ${final.seq} on disk; kills between rename and append ${stats.unlogged}, torn log tails ${stats.tornTails}, temporary files left ${stats.tempFiles}, locks left ${stats.locksLeft} (unlabelled ${stats.unlabelledLocks}), takeovers ${stats.takeovers}`,
    );
    // The kills must have hit the interesting moments, or the test proves little.
    expect(stats.locksLeft).toBeGreaterThan(0);
    expect(stats.takeovers).toBeGreaterThan(0);
  });

  it(`two writers racing, one killed: the survivor loses no update (${RACES} races)`, async () => {
    const root = project();
    const random = seeded(SEED + 1);
    const weights = new Map<number, number>();
    let takeovers = 0;
    for (let k = 0; k < RACES; k++) {
      const before = checkStore(root, weights).seq;
      const victim = startWriter(root, 1_000_000);
      const survivor = startWriter(root, 10);
      await Promise.all([victim.ready, survivor.ready]);
      await sleep(random() * WINDOW_MS);
      victim.kill();
      const context = `race ${k + 1} (seed ${SEED}), victim ${victim.pid}, survivor ${survivor.pid}:\n${survivor.stderr()}`;
      expect(await victim.exited, context).toEqual({ code: null, signal: "SIGKILL" });
      expect(await survivor.exited, context).toEqual({ code: 0, signal: null });
      const acks = [...victim.acks(), ...survivor.acks()];
      expect(survivor.acks(), context).toHaveLength(10);
      for (const a of acks) weights.set(a.seq, a.weight);
      const after = checkStore(root, weights);
      // Every acknowledged change has its own seq; the victim's change in flight may be on disk too.
      expect(new Set(acks.map((a) => a.seq)).size, context).toBe(acks.length);
      expect(after.seq - before - acks.length, context).toBeGreaterThanOrEqual(0);
      expect(after.seq - before - acks.length, context).toBeLessThanOrEqual(1);
      if (survivor.stderr().includes(takeoverOf(victim.pid))) takeovers++;
    }
    console.log(`store-kill: ${RACES} races, the survivor took the killed writer's lock over in ${takeovers}`);
  });

  it("envctl itself takes over the lock of a killed holder, naming it, and commits with its record", async () => {
    const s = sandbox();
    const holder = startWriter(s.dir, "hold");
    await holder.ready;
    holder.kill();
    await holder.exited;
    const owner = JSON.parse(readFileSync(ownerFile(s.dir), "utf8"));
    expect(owner).toMatchObject({ pid: holder.pid, host: hostname() });
    const r = await s.run(["stage", ENV, "--version", "1.6.0", "--no-deploy"]);
    expect(r.stderr).toContain(
      `${takeoverOf(holder.pid)}, 'envctl shift ${ENV} (store-writer ${holder.pid}, holding)', held for`,
    );
    expect(r.stderr).toContain("which is no longer running; taking the lock over");
    expect(r.status).toBe(0);
    expect(s.release(ENV).slots.green.version).toBe("1.6.0");
    expect(s.audit(ENV).map((e) => [e.seq, e.command])).toEqual([[1, `envctl stage ${ENV} --version 1.6.0`]]);
    expect(existsSync(lockDir(s.dir)) || existsSync(ownerFile(s.dir))).toBe(false);
  });

  it("a lock without its holder record is taken over once it goes unrefreshed, never while it is refreshed", async () => {
    // What a kill between taking the lock and writing its record leaves: taken over after 3 s.
    const left = project();
    mkdirSync(lockDir(left));
    // A live holder whose record could not be written keeps refreshing its lock: never taken over.
    const live = project();
    mkdirSync(lockDir(live));
    const refresh = setInterval(() => utimesSync(lockDir(live), new Date(), new Date()), 300);
    try {
      const [a, b] = [startWriter(left, 1, 0), startWriter(live, 1, 0)];
      const [endA, endB] = await Promise.all([a.exited, b.exited]);
      expect(endA).toEqual({ code: 0, signal: null });
      expect(a.stderr()).toMatch(
        /^dev: the lock carried no holder record and was not refreshed for 3 s \(its holder died while taking or releasing it\); taking the lock over$/m,
      );
      expect(checkStore(left, new Map(a.acks().map((x) => [x.seq, x.weight]))).seq).toBe(1);
      expect(endB).toEqual({ code: 1, signal: null });
      expect(b.stderr()).toBe(
        "LockedError: dev is locked by another envctl; wait for it to finish, or pass --wait <seconds>\n",
      );
      expect(checkStore(live, new Map()).seq).toBe(0);
      expect(existsSync(lockDir(live))).toBe(true);
    } finally {
      clearInterval(refresh);
    }
  });
});
