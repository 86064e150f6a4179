/**
 * checkov over the synthesized stacks: the pinned checkov (installed by `npm run setup:engine`
 * into `$ENVSTACK_CACHE/checkov-<version>/venv`) reads every `cdk.tf.json` with
 * `--framework terraform_json`, offline (`--skip-download`), and the resource-level exceptions
 * written by {@link skipCheck} are applied to its results (see lib/policy/checkov-skip.ts for why
 * this step is ours). Figures are per stack: passed, failed, skipped.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { cacheRoot } from "../engine/local.ts";
import { type CheckovSkip, skipsInConfig } from "./checkov-skip.ts";

const VERSIONS_ENV = resolve(import.meta.dirname, "../engine/versions.env");

/** The checkov version pinned in lib/engine/versions.env (`CHECKOV_VERSION`). */
export function checkovVersion(file = VERSIONS_ENV): string {
  const m = /^CHECKOV_VERSION=(\S+)$/m.exec(readFileSync(file, "utf8"));
  if (!m) throw new Error(`${file} does not pin CHECKOV_VERSION`);
  return m[1]!;
}

/** Path of the cached checkov, or an error telling how to install it. */
export function checkovBinary(env: NodeJS.ProcessEnv = process.env): string {
  const bin = join(cacheRoot(env), `checkov-${checkovVersion()}`, "venv", "bin", "checkov");
  if (!existsSync(bin))
    throw new Error(
      `checkov ${checkovVersion()} is not installed at ${bin}: run 'npm run setup:engine' (installs it from PyPI into a cached virtualenv)`,
    );
  return bin;
}

/** One check result as checkov's JSON report gives it (the fields read here). */
interface CheckovRecord {
  check_id: string;
  check_name: string;
  file_path: string;
  resource: string;
  check_result: { result: "PASSED" | "FAILED" | "SKIPPED"; suppress_comment?: string };
}

interface CheckovReport {
  check_type: string;
  results: { passed_checks?: CheckovRecord[]; failed_checks?: CheckovRecord[]; skipped_checks?: CheckovRecord[] };
}

export interface CheckResult {
  readonly stack: string;
  /** Terraform address, e.g. `aws_s3_bucket.state_bucket_99469A59`. */
  readonly address: string;
  /** Construct path, e.g. `bootstrap/state/bucket/bucket`. */
  readonly path: string;
  readonly check: string;
  readonly name: string;
  /** The reason of a skipped result. */
  readonly reason?: string;
}

export interface StaleSkip {
  readonly stack: string;
  readonly address: string;
  readonly path: string;
  readonly check: string;
  /** `passes`: the check passes at the resource now; `not evaluated`: it never ran on it. */
  readonly why: "passes" | "not evaluated";
}

export interface StackScan {
  readonly stack: string;
  readonly passed: number;
  readonly failed: CheckResult[];
  readonly skipped: CheckResult[];
  /** Exceptions written at a resource that no failure needed. */
  readonly stale: StaleSkip[];
}

type StackJson = {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
};

interface ResourceEntry {
  address: string;
  path: string;
  skips: CheckovSkip[];
}

/** Resources (and data sources) of a stack by logical name: checkov names them `<type>.<name>` or `resource.<name>`. */
function resourcesByName(json: StackJson): Map<string, ResourceEntry> {
  const map = new Map<string, ResourceEntry>();
  for (const [kind, blocks] of [
    ["", json.resource],
    ["data.", json.data],
  ] as const) {
    for (const [type, byName] of Object.entries(blocks ?? {})) {
      for (const [name, config] of Object.entries(byName)) {
        const path =
          (config["//"] as { metadata?: { path?: string } } | undefined)?.metadata?.path ?? `${kind}${type}.${name}`;
        if (!map.has(name)) map.set(name, { address: `${kind}${type}.${name}`, path, skips: skipsInConfig(config) });
      }
    }
  }
  return map;
}

/**
 * Applies resource-level exceptions to checkov's results, per stack. `stacks` maps each stack
 * name to its synthesized JSON; every stack gets a line, also those without any check.
 */
export function applyResourceSkips(
  reports: readonly CheckovReport[],
  stacks: Readonly<Record<string, StackJson>>,
): StackScan[] {
  const resources = Object.fromEntries(Object.entries(stacks).map(([s, json]) => [s, resourcesByName(json)]));
  const scans = new Map(
    Object.keys(stacks)
      .sort()
      .map((s) => [
        s,
        { stack: s, passed: 0, failed: [] as CheckResult[], skipped: [] as CheckResult[], stale: [] as StaleSkip[] },
      ]),
  );
  const used = new Set<string>();
  const passedAt = new Set<string>();

  for (const report of reports) {
    const all = [
      ...(report.results.passed_checks ?? []),
      ...(report.results.failed_checks ?? []),
      ...(report.results.skipped_checks ?? []),
    ];
    for (const r of all) {
      const stack = r.file_path.split("/").filter(Boolean)[0]!;
      const scan = scans.get(stack);
      if (!scan) throw new Error(`checkov reported ${r.file_path}, which is not a synthesized stack`);
      const name = r.resource.slice(r.resource.lastIndexOf(".") + 1);
      const entry = resources[stack]!.get(name);
      const address = entry?.address ?? r.resource;
      const base = { stack, address, path: entry?.path ?? address, check: r.check_id, name: r.check_name };
      const key = `${stack} ${address} ${r.check_id}`;
      const skip = entry?.skips.find((s) => s.id === r.check_id);
      switch (r.check_result.result) {
        case "PASSED":
          scan.passed += 1;
          passedAt.add(key);
          break;
        case "SKIPPED":
          // A checkov that honours the comment block itself (or a future inline mechanism).
          if (skip) used.add(key);
          scan.skipped.push({ ...base, reason: r.check_result.suppress_comment ?? skip?.comment ?? "no reason given" });
          break;
        case "FAILED":
          if (skip) {
            used.add(key);
            scan.skipped.push({ ...base, reason: skip.comment });
          } else {
            scan.failed.push(base);
          }
          break;
      }
    }
  }

  for (const [stack, byName] of Object.entries(resources)) {
    for (const entry of byName.values()) {
      for (const s of entry.skips) {
        const key = `${stack} ${entry.address} ${s.id}`;
        if (!used.has(key))
          scans.get(stack)!.stale.push({
            stack,
            address: entry.address,
            path: entry.path,
            check: s.id,
            why: passedAt.has(key) ? "passes" : "not evaluated",
          });
      }
    }
  }
  return [...scans.values()];
}

const run = promisify(execFile);

/**
 * Runs checkov over `<outdir>/stacks/*` (a cdktf output directory) and returns the figures per
 * stack, with the resource-level exceptions applied. Never passes a skip list to checkov.
 */
export async function scanStacks(outdir: string, env: NodeJS.ProcessEnv = process.env): Promise<StackScan[]> {
  const stacksDir = join(outdir, "stacks");
  const stacks = Object.fromEntries(
    readdirSync(stacksDir).map((s) => [
      s,
      JSON.parse(readFileSync(join(stacksDir, s, "cdk.tf.json"), "utf8")) as StackJson,
    ]),
  );
  const { stdout } = await run(
    checkovBinary(env),
    ["--directory", stacksDir, "--framework", "terraform_json", "--skip-download", "--output", "json", "--compact"],
    {
      maxBuffer: 512 * 1024 * 1024,
      // Offline and quiet: no update check, no platform, no telemetry.
      env: { ...process.env, ...env, LOG_LEVEL: "ERROR", CHECKOV_NO_OUTPUT_UPDATE: "1", BC_SKIP_MAPPING: "TRUE" },
    },
  ).catch((e: { code?: number; stdout?: string; stderr?: string; message: string }) => {
    // checkov exits 1 when a check fails: its report is still on stdout.
    if (e.code === 1 && e.stdout) return { stdout: e.stdout };
    throw new Error(`checkov failed (${e.code ?? "?"}): ${e.stderr?.slice(-2000) ?? e.message}`);
  });
  const parsed = JSON.parse(stdout) as CheckovReport | CheckovReport[] | { passed: number; failed: number };
  const reports = (Array.isArray(parsed) ? parsed : [parsed]).filter((r): r is CheckovReport => "check_type" in r);
  return applyResourceSkips(reports, stacks);
}

/** A fixed-width table of the figures, one line per stack. */
export function formatScan(scans: readonly StackScan[]): string {
  const width = Math.max(5, ...scans.map((s) => s.stack.length));
  const line = (a: string, b: string, c: string, d: string) =>
    `${a.padEnd(width)}  ${b.padStart(6)}  ${c.padStart(6)}  ${d.padStart(7)}`;
  return [
    line("stack", "passed", "failed", "skipped"),
    ...scans.map((s) => line(s.stack, String(s.passed), String(s.failed.length), String(s.skipped.length))),
  ].join("\n");
}
