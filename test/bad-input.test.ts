/**
 * The generated bad-input suite (issue 12, "Done when"): fast-check generates bad environment
 * files, bad release files and bad envctl arguments; every case must be refused with exit 1, a
 * message naming the environment (or file, or command), the field and the rule, no stack
 * trace, and no file changed or deployed. Most cases run in-process through `main(argv, deps)`;
 * a handful through a real subprocess (envctl and synth) prove the same end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CACHE_HOURLY, EC2_HOURLY, RDS_HOURLY } from "../lib/cost/prices.ts";
import { POSTGRES_VERSIONS, REDIS_VERSIONS } from "../lib/config/catalogue.ts";
import { LOG_RETENTION_DAYS } from "../lib/config/schema.ts";
import dev from "../environments/dev.ts";
import { REPO, tempProject } from "./support/project.ts";
import { inProcessCli, STACK_TRACE, treeDigest, type InProcessCli, type InProcessRun } from "./support/cli.ts";

/** Cases per property; the three properties together run 320 generated cases. */
const RUNS = { environmentFiles: 120, releaseFiles: 100, arguments: 100 };

interface Expected {
  /** Environment, file or command the message must name. */
  readonly subject: string;
  /** Field (dotted path or --flag); "" for the whole file. */
  readonly path: string;
  /** The rule, as it must appear after the path. */
  readonly rule: string | RegExp;
}

/** Exit 1, the expected problem line, no stack trace, no internal error. */
function expectRefused(r: InProcessRun, e: Expected, context: string): void {
  const report = `${context}\n--- stderr:\n${r.stderr}`;
  expect(r.code, report).toBe(1);
  expect(r.stderr, report).not.toMatch(STACK_TRACE);
  expect(r.stderr, report).not.toMatch(/internal error/);
  const lines = r.stderr.split("\n").map((l) => l.replace(/^\s*-\s*/, "").replace(/^error: /, ""));
  const head = e.path ? `${e.subject}: ${e.path} ` : `${e.subject}: `;
  const hit = lines.some((l) => l.startsWith(head) && (typeof e.rule === "string" ? l.slice(head.length).includes(e.rule) : e.rule.test(l.slice(head.length))));
  expect(hit, `expected a line "${head}…${String(e.rule)}"\n${report}`).toBe(true);
}

const TEMPLATE_RULE = "must not contain a Terraform template sequence";

// ---- generators -------------------------------------------------------------------------------

type Patch = readonly [path: readonly (string | number)[], value: unknown][];
interface EnvCase extends Omit<Expected, "subject"> {
  readonly patch: Patch;
}

const word = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,10}$/);
const notIn = (known: readonly string[]) => (s: string) => !known.includes(s);

/** Objects of the environment model and their keys: an extra key anywhere must be refused. */
const OBJECTS: [string[], string[]][] = [
  [[], Object.keys(dev).concat(["certificateArn", "expiresAt"])],
  [["network"], Object.keys(dev.network)],
  [["compute"], ["kind", "instanceType", "capacity", "autoScaling"]],
  [["compute", "capacity"], ["min", "desired", "max"]],
  [["compute", "autoScaling"], ["enabled", "targetCpuPercent"]],
  [["database"], Object.keys(dev.database).concat(["maxAllocatedStorageGb", "engineVersion"])],
  [["cache"], Object.keys(dev.cache)],
  [["monitoring"], Object.keys(dev.monitoring)],
  [["monitoring", "thresholds"], Object.keys(dev.monitoring.thresholds)],
  [["release"], Object.keys(dev.release)],
  [["image"], ["repository"]],
];

const dotted = (path: readonly (string | number)[]) => path.map((k) => (typeof k === "number" ? `[${k}]` : k)).join(".").replace(/\.\[/g, "[");
const one = (path: (string | number)[], value: unknown, rule: string | RegExp): EnvCase => ({ patch: [[path, value]], path: dotted(path), rule });

/** A string holding a Terraform template sequence somewhere. */
const templated = fc.tuple(fc.stringMatching(/^[a-z/ ]{0,6}$/), fc.constantFrom("${", "%{"), fc.constantFrom('file("/etc/passwd")', "var.x", "if true", "env.HOME", ""), fc.constantFrom("}", "")).map(([a, s, b, c]) => `${a}${s}${b}${c}`);

const tooSmallOrBig = (min: number, max: number) => fc.oneof(fc.integer({ min: -1e6, max: min - 1 }), fc.integer({ min: max + 1, max: 1e12 }));

const envCases: fc.Arbitrary<EnvCase> = fc.oneof(
  // Unknown keys at any depth (compute.capacity used to drop them).
  fc.tuple(fc.constantFrom(...OBJECTS), word).filter(([[, keys], k]) => !keys.includes(k)).map(([[path], k]): EnvCase => ({ patch: [[[...path, k], 1]], path: dotted(path), rule: `has unknown field(s) ${k}` })),
  // Capacities of 1e9 and other sizes past AWS's (or the project's) limits.
  fc.integer({ min: 101, max: 2 ** 31 }).map((n) => one(["compute", "capacity", "max"], n, "must be at most 100")),
  fc.double({ min: 0.01, max: 50, noNaN: true }).filter((d) => !Number.isInteger(d)).map((d) => one(["compute", "capacity", "min"], d, "expected int")),
  tooSmallOrBig(1024, 65535).map((n) => one(["appPort"], n, /^Too (small|big)/)),
  tooSmallOrBig(1, 35).map((n) => one(["database", "backupRetentionDays"], n, /^Too (small|big)/)),
  tooSmallOrBig(0, 5).map((n) => one(["cache", "replicas"], n, /^Too (small|big)/)),
  fc.integer({ min: 65537, max: 1e9 }).map((n) => one(["database", "allocatedStorageGb"], n, "must be at most 65536 GB")),
  fc.oneof(fc.constant(0), fc.integer({ min: 101, max: 1e6 })).map((n) => one(["monitoring", "thresholds", "cpuPercent"], n, "must be 1-100")),
  fc.integer({ min: 86_401, max: 1e9 }).map((n) => one(["release", "canary", 0, "bakeSeconds"], n, "expected number to be <=86400")),
  fc.integer({ min: 1, max: 4000 }).filter((d) => !(LOG_RETENTION_DAYS as readonly number[]).includes(d)).map((d) => one(["network", "flowLogRetentionDays"], d, "must be a CloudWatch Logs retention period")),
  // Types that do not exist (or are not in the one catalogue).
  fc.stringMatching(/^[a-z][a-z0-9]{1,4}\.[a-z0-9]{2,8}$/).filter(notIn(Object.keys(EC2_HOURLY))).map((t) => one(["compute", "instanceType"], t, "is not a known EC2 instance type")),
  fc.stringMatching(/^db\.[a-z0-9]{2,4}\.[a-z0-9]{2,8}$/).filter(notIn(Object.keys(RDS_HOURLY))).map((t) => one(["database", "instanceClass"], t, "is not a known RDS instance class")),
  fc.stringMatching(/^cache\.[a-z0-9]{2,4}\.[a-z0-9]{2,8}$/).filter(notIn(Object.keys(CACHE_HOURLY))).map((t) => one(["cache", "nodeType"], t, "is not a known ElastiCache node type")),
  // Free-form engine versions.
  fc.oneof(fc.stringMatching(/^\d{1,2}(\.\d{1,2}){0,2}$/), fc.string({ maxLength: 8 })).filter(notIn(POSTGRES_VERSIONS)).map((v) => one(["database", "engineVersion"], v, "is not an RDS for PostgreSQL version AWS supports")),
  fc.oneof(fc.stringMatching(/^\d(\.\d){0,2}$/), fc.string({ maxLength: 8 })).filter(notIn(REDIS_VERSIONS)).map((v) => one(["cache", "engineVersion"], v, "is not an ElastiCache Redis OSS version AWS supports")),
  // maxAllocatedStorageGb below allocatedStorageGb.
  fc.integer({ min: 21, max: 65536 }).chain((a) => fc.integer({ min: 20, max: a - 1 }).map((m) => ({
    patch: [[["database", "allocatedStorageGb"], a], [["database", "maxAllocatedStorageGb"], m]] as Patch,
    path: "database.maxAllocatedStorageGb",
    rule: `must be ≥ allocatedStorageGb (${m} < ${a})`,
  }))),
  // Non-canonical CIDRs (leading zeros), copied verbatim into the JSON before.
  fc.integer({ min: 3, max: 63 }).map((b) => one(["network", "cidr"], `10.0${b}.0.0/16`, `must be written canonically: 10.${b}.0.0/16`)),
  // Terraform template sequences in free text: tags, owner, cost centre, paths, repositories, e-mails.
  fc.tuple(fc.constantFrom<(string | number)[]>(["tags", "Team"], ["owner"], ["costCenter"], ["healthCheckPath"], ["image", "repository"], ["monitoring", "alarmEmails", 0]), templated)
    .map(([path, v]) => one(path, path[0] === "healthCheckPath" ? `/${v}` : v, TEMPLATE_RULE)),
  // Reserved aws: tag keys.
  fc.tuple(fc.constantFrom("aws:", "AWS:", "Aws:"), fc.stringMatching(/^[A-Za-z0-9]{1,10}$/)).map(([p, k]) => one(["tags", `${p}${k}`], "x", "must not start with aws: (reserved for AWS)")),
  // expiresAt on a permanent environment.
  fc.date({ min: new Date("2026-01-01"), max: new Date("2030-01-01"), noInvalidDate: true }).map((d) => one(["expiresAt"], d.toISOString(), "is only for preview environments")),
  // Wrong types.
  fc.constantFrom("yes", 1, null).map((v) => one(["database", "multiAz"], v, "expected boolean")),
  fc.constantFrom("20", true, null).map((v) => one(["database", "allocatedStorageGb"], v, "expected number")),
);

function patched(name: string, patch: Patch): Record<string, unknown> {
  const data: any = structuredClone({ ...dev, name, network: { ...dev.network, cidr: "10.9.0.0/16" }, release: { ...dev.release, promotesTo: [] } });
  for (const [path, value] of patch) {
    let at = data;
    for (const k of path.slice(0, -1)) at = at[k];
    at[path.at(-1)!] = value;
  }
  return data;
}

interface ReleaseCase extends Omit<Expected, "subject"> {
  /** Returns the file's new text from the shipped one. */
  readonly edit: (release: any, text: string) => string;
}
const asJson = (r: unknown) => `${JSON.stringify(r, null, 2)}\n`;
const withRelease = (f: (r: any) => void) => (r: any) => { f(r); return asJson(r); };

const releaseCases: fc.Arbitrary<ReleaseCase> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })).filter(([b, g]) => b + g !== 100).map(([b, g]) => ({
    edit: withRelease((r) => { r.slots.blue.weight = b; r.slots.green = { version: "1.6.0", weight: g }; }),
    path: "slots", rule: `weights must sum to 100 (blue ${b} + green ${g} = ${b + g})`,
  })),
  fc.tuple(fc.constantFrom("blue", "green"), fc.oneof(fc.integer({ min: 101, max: 1e9 }), fc.integer({ min: -1e9, max: -1 }))).map(([slot, w]) => ({
    edit: withRelease((r) => { r.slots[slot].weight = w; }), path: `slots.${slot}.weight`, rule: "must be 0-100",
  })),
  fc.double({ min: 0.01, max: 99.99, noNaN: true }).filter((w) => !Number.isInteger(w)).map((w) => ({
    edit: withRelease((r) => { r.slots.blue.weight = w; }), path: "slots.blue.weight", rule: "must be an integer",
  })),
  fc.oneof(templated, fc.stringMatching(/^[a-z0-9]{0,4}[ /:@"'][a-z0-9]{0,4}$/), fc.constant("")).map((v) => ({
    edit: withRelease((r) => { r.slots.blue.version = v; }), path: "slots.blue.version", rule: "must be a valid image tag",
  })),
  fc.tuple(fc.constantFrom<string[]>([], ["slots"], ["slots", "blue"]), word).filter(([p, k]) => !["environment", "live", "slots", "previousLive", "history", "rollout", "pending", "lastChange", "blue", "green", "version", "weight"].includes(k)).map(([path, k]) => ({
    edit: withRelease((r) => { let at = r; for (const p of path) at = at[p]; at[k] = true; }), path: path.join("."), rule: `has unknown field(s) ${k}`,
  })),
  fc.string({ maxLength: 6 }).filter((s) => s !== "blue" && s !== "green").map((s) => ({
    edit: withRelease((r) => { r.live = s; }), path: "live", rule: "expected one of",
  })),
  fc.stringMatching(/^[a-z][a-z0-9-]{1,10}[a-z0-9]$/).filter((n) => n !== "dev").map((n) => ({
    edit: withRelease((r) => { r.environment = n; }), path: "environment", rule: `must be dev (found ${n})`,
  })),
  // Syntax errors: the file cut short, or a character replaced; named by line and column.
  fc.tuple(fc.nat(), fc.constantFrom("", "}", ",", ":", "x", "'", "\u0001")).map(([at, insert]) => ({
    edit: (_r: any, text: string) => {
      const cut = 1 + (at % (text.length - 3));
      const replaced = text.slice(0, cut) + insert + (insert === "" ? "" : text.slice(cut + 1));
      try {
        JSON.parse(replaced);
        return text.slice(0, cut); // still JSON (e.g. a character inside a string): cut it short instead
      } catch {
        return replaced;
      }
    },
    path: "", rule: /^is not valid JSON: line \d+, column \d+: \S/,
  })),
);

/** Text that is not a whole number in decimal digits within [min, max]. */
const badNumber = (min: number, max: number) => fc.oneof(
  fc.constant(""), fc.constant(" "), fc.constant("1e2"), fc.constant("0x32"),
  fc.integer({ min: 0, max: 255 }).map((n) => `0x${n.toString(16)}`),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 9 })).map(([a, b]) => `${a}e${b}`),
  fc.integer({ min: 1, max: 1e6 }).map((n) => `-${n}`),
  fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 9 })).map(([a, b]) => `${a}.${b}`),
  fc.integer({ min: max + 1, max: 1e12 }).map(String),
  fc.integer({ min: 0, max: max }).map((n) => ` ${n}`),
  fc.integer({ min: 1, max: 99 }).map((n) => `0${n}`),
  fc.constantFrom("Infinity", "NaN", "+5", "٣", "1_000", "0b11", "0o7"),
  fc.string({ maxLength: 6 }),
).filter((s) => !(/^(0|[1-9]\d*)$/.test(s) && Number(s) >= min && Number(s) <= max));

interface ArgCase extends Expected {
  readonly argv: string[];
}

const argCases: fc.Arbitrary<ArgCase> = fc.oneof(
  badNumber(0, 100).map((v) => ({ argv: ["shift", "dev", "--to", "green", `--percent=${v}`], subject: "shift", path: "--percent", rule: "must be 0-100 (a whole number in decimal digits)" })),
  badNumber(0, 3600).map((v) => ({ argv: ["shift", "dev", "--to", "blue", "--percent", "100", `--wait=${v}`], subject: "shift", path: "--wait", rule: "must be 0-3600 seconds" })),
  badNumber(0, 86_400).map((v) => ({ argv: ["rollout", "staging", `--bake=${v}`], subject: "rollout", path: "--bake", rule: "must be 0-86400 seconds" })),
  badNumber(1, 90).map((v) => ({ argv: ["preview", "create", "pr-7-feature", `--ttl-days=${v}`, "--no-deploy"], subject: "preview create", path: "--ttl-days", rule: "must be 1-90 days" })),
  fc.string({ maxLength: 8 }).filter((s) => s !== "blue" && s !== "green").map((v) => ({ argv: ["shift", "dev", `--to=${v}`, "--percent", "10"], subject: "shift", path: "--to", rule: "must be blue or green" })),
  fc.oneof(templated, fc.stringMatching(/^[a-z0-9]{0,3}[ /:@"'$][a-z0-9]{0,3}$/)).map((v) => ({ argv: ["stage", "dev", `--version=${v}`], subject: "stage", path: "--version", rule: "must be a valid image tag" })),
);

// ---- the suite ---------------------------------------------------------------------------------

describe("generated bad input: refused with a clear message, exit 1, nothing changed", () => {
  let dir: string;
  let cli: InProcessCli;
  let pristineRelease: string;
  let counter = 0;
  const started = Date.now();
  let cases = 0;

  beforeAll(() => {
    dir = tempProject();
    cli = inProcessCli(dir);
    pristineRelease = readFileSync(join(dir, "environments/releases/dev.json"), "utf8");
  });

  afterAll(() => {
    // Figures for the report (the suite's duration is part of the done-when).
    console.log(`bad-input suite: ${cases} generated cases in-process in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  /** Runs one case: nothing may change on disk and nothing may deploy. */
  async function refused(argv: string[], expected: Expected, context: string): Promise<void> {
    const before = treeDigest(dir);
    const r = await cli.run(argv);
    expectRefused(r, expected, `${context}\nenvctl ${argv.join(" ")}`);
    expect(treeDigest(dir), context).toEqual(before);
    expect(cli.deployed, context).toEqual([]);
    cases++;
  }

  it(`environment files (${RUNS.environmentFiles} cases)`, async () => {
    await fc.assert(fc.asyncProperty(envCases, fc.constantFrom("status", "status-one", "cost", "shift"), async (c, command) => {
      const name = `qa${++counter}`;
      const file = join(dir, "environments", `${name}.ts`);
      const data = patched(name, c.patch);
      writeFileSync(file, `import { defineEnvironment } from "../lib/index.ts";\nexport default defineEnvironment(${JSON.stringify(data)} as any);\n`);
      try {
        const argv = command === "status" ? ["status"] : command === "status-one" ? ["status", name] : command === "cost" ? ["cost", name] : ["shift", name, "--to", "blue", "--percent", "100"];
        await refused(argv, { subject: name, path: c.path, rule: c.rule }, `environments/${name}.ts: ${JSON.stringify(c.patch)}`);
      } finally {
        rmSync(file, { force: true });
      }
    }), { numRuns: RUNS.environmentFiles });
  });

  it(`release files (${RUNS.releaseFiles} cases)`, async () => {
    const file = join(dir, "environments/releases/dev.json");
    await fc.assert(fc.asyncProperty(releaseCases, fc.constantFrom<string[]>(["status"], ["status", "dev"], ["shift", "dev", "--to", "blue", "--percent", "100"], ["rollback", "dev"]), async (c, argv) => {
      const text = c.edit(JSON.parse(pristineRelease), pristineRelease);
      writeFileSync(file, text);
      try {
        await refused(argv, { subject: "environments/releases/dev.json", path: c.path, rule: c.rule }, `dev.json:\n${text}`);
      } finally {
        writeFileSync(file, pristineRelease);
      }
    }), { numRuns: RUNS.releaseFiles });
  });

  it(`envctl arguments (${RUNS.arguments} cases)`, async () => {
    await fc.assert(fc.asyncProperty(argCases, async (c) => {
      await refused(c.argv, c, JSON.stringify(c.argv));
      expect(existsSync(join(dir, "environments/previews.json"))).toBe(false);
    }), { numRuns: RUNS.arguments });
  });
});

describe("the same, end to end in real processes", () => {
  /** Runs a node script in `cwd`; resolves with its exit code and output. */
  const run = (cwd: string, args: string[], env: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { cwd, env: { ...process.env, CI: "1", ENVSTACK_BACKEND: "local", ...env } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => { stdout += d; });
      child.stderr.on("data", (d) => { stderr += d; });
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  const tsx = join(REPO, "node_modules/tsx/dist/cli.mjs");
  const envctl = join(REPO, "lib/cli/envctl.js");

  it('envctl --percent "", an environment file throwing a string, and synth of a tag ${file("/etc/passwd")}', async () => {
    const a = tempProject();
    const b = tempProject((d) => writeFileSync(join(d, "environments/qa.ts"), `throw "not today";\n`));
    const c = tempProject((d) => {
      writeFileSync(join(d, "environments/qa.ts"), `import { defineEnvironment } from "../lib/index.ts";\nimport dev from "./dev.ts";\nexport default defineEnvironment({ ...dev, name: "qa", network: { ...dev.network, cidr: "10.9.0.0/16" }, release: { ...dev.release, promotesTo: [] }, tags: { Team: '\${file("/etc/passwd")}' } });\n`);
      writeFileSync(join(d, "environments/releases/qa.json"), pristine());
    });
    const digests = [a, b, c].map(treeDigest);
    const [percent, thrown, synth] = await Promise.all([
      run(a, [envctl, "shift", "dev", "--to", "green", "--percent", ""]),
      run(b, [envctl, "status"]),
      run(c, [tsx, "main.ts"]),
    ]);
    expect(percent.status, percent.stderr).toBe(1);
    expect(percent.stderr).toContain("shift: --percent must be 0-100 (a whole number in decimal digits)");
    expect(thrown.status, thrown.stderr).toBe(1);
    expect(thrown.stderr).toContain("qa: cannot be loaded (environments/qa.ts): not today");
    expect(synth.status, synth.stderr).toBe(1);
    expect(synth.stderr).toContain('qa: tags.Team must not contain a Terraform template sequence ("${" or "%{"): the engine would evaluate it');
    for (const r of [percent, thrown, synth]) expect(r.stderr).not.toMatch(STACK_TRACE);
    expect([a, b, c].map(treeDigest)).toEqual(digests);
    expect(existsSync(join(c, "cdktf.out"))).toBe(false);
  });
});

function pristine(): string {
  return JSON.stringify({ environment: "qa", live: "blue", slots: { blue: { version: "1.0.0", weight: 100 }, green: { version: null, weight: 0 } } });
}
