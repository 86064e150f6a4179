/**
 * The synthesis cache: each unit's synthesized stacks (lib/stacks/units.ts), keyed by a content
 * hash of everything they are built from: the unit's inputs (its environment's validated
 * configuration and release file; for global every permanent environment's), the code (every file
 * under lib/, package-lock.json, cdktf.json, the Node version), the target and the environment
 * variables that steer synthesis (`ENVSTACK_*`, `CDKTF_*`). Hashing the validated configuration
 * covers the environment file and everything it imports: it is what the file produced.
 *
 * Fail safe: an entry is used only when its record parses and every file's hash matches; anything
 * else (missing, torn, edited) is a miss and the unit is rebuilt. Entries are written to a
 * temporary directory and renamed into place, so a reader never sees half an entry.
 *
 * Where: `ENVSTACK_SYNTH_CACHE`, else `<project>/.envstack/synth-cache` (ignored by git).
 */
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { libFingerprint } from "../config/load-cache.ts";
import type { Target } from "./target.ts";
import type { SynthUnit } from "./units.ts";

/** Bump when the entry layout or the key's parts change: every old entry becomes a miss. */
const FORMAT = 1;
const RECORD = "entry.json";

const REPO = resolve(import.meta.dirname, "../..");

/** Variables that never change the output (where it goes, how it is built). */
const NEUTRAL = new Set([
  "CDKTF_OUTDIR",
  "ENVSTACK_SYNTH_CACHE",
  "ENVSTACK_SYNTH_WORKERS",
  "ENVSTACK_SYNTH_LINK",
  "ENVSTACK_LOG_DIR",
]);

export function cacheDirOf(root: string, env: NodeJS.ProcessEnv): string {
  return resolve(root, env.ENVSTACK_SYNTH_CACHE || join(".envstack", "synth-cache"));
}

/** The cdktf manifest's serializer (sorted keys), so an assembled manifest.json is byte-identical to cdktf's. */
const stableStringify = createRequire(createRequire(import.meta.url).resolve("cdktf"))("json-stable-stringify") as (
  value: unknown,
  options: { space: number },
) => string;

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** The hash of the code that synthesizes (lib/config/load-cache.ts's, and cdktf.json) and of the variables that steer it. */
export function codeFingerprint(env: NodeJS.ProcessEnv): string {
  const h = createHash("sha256").update(`format ${FORMAT}\n${libFingerprint()}\n`);
  const cdktf = join(REPO, "cdktf.json");
  h.update("cdktf.json\n").update(existsSync(cdktf) ? readFileSync(cdktf) : "(none)");
  const steering = Object.keys(env)
    .filter((k) => /^(ENVSTACK|CDKTF)_/.test(k) && !NEUTRAL.has(k))
    .sort()
    .map((k) => [k, env[k]]);
  return h.update(JSON.stringify(steering)).digest("hex");
}

/**
 * The target as synthesis reads it: the local state directory only with the local backend
 * (lib/stacks/base-stack.ts) and the kubeconfig only on the emulator (lib/stacks/local-gaps.ts).
 * Both are absolute paths under the project: dropping them where they are not read lets two
 * checkouts (changed-stacks' base revision and the working tree) share their entries.
 */
export function targetKey(target: Target): unknown {
  return {
    ...target,
    stateDir: target.backend === "local" ? target.stateDir : null,
    kubeconfig: target.kind === "local" ? target.kubeconfig : null,
  };
}

/** A unit's key: its kind, stacks and inputs, the target and the code. */
export function unitKey(unit: SynthUnit, target: Target, fingerprint: string): string {
  return sha256(
    JSON.stringify({
      fingerprint,
      target: targetKey(target),
      kind: unit.kind,
      stacks: unit.stacks,
      inputs: unit.inputs,
    }),
  );
}

/** What an entry records: each stack's manifest entry, the cdktf version, each file's hash. */
interface Record {
  readonly version: string;
  readonly stacks: { [stack: string]: unknown };
  readonly files: { [path: string]: string };
}

export interface Entry extends Record {
  readonly dir: string;
}

function linkTree(from: string, to: string): void {
  for (const f of filesUnder(from)) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    linkSync(join(from, f), join(to, f));
  }
}

const entryDir = (cacheDir: string, key: string) => join(cacheDir, key.slice(0, 2), key);

/** The entry of `key` when it is whole and untouched; undefined otherwise (a miss). */
export function readEntry(cacheDir: string, key: string, stacks: readonly string[]): Entry | undefined {
  const dir = entryDir(cacheDir, key);
  try {
    const record = JSON.parse(readFileSync(join(dir, RECORD), "utf8")) as Record;
    if (typeof record.version !== "string" || stacks.some((s) => record.stacks?.[s] === undefined)) return undefined;
    const files = Object.entries(record.files ?? {});
    if (files.length === 0) return undefined;
    for (const [path, hash] of files) if (sha256(readFileSync(join(dir, path))) !== hash) return undefined;
    return { ...record, dir };
  } catch {
    return undefined;
  }
}

/** Stores the unit's stacks from a synthesized output directory (its manifest.json and stacks/<name>/). */
export function writeEntry(cacheDir: string, key: string, unit: SynthUnit, outdir: string): Entry {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    version: string;
    stacks: { [s: string]: unknown };
  };
  const dir = entryDir(cacheDir, key);
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const files: { [path: string]: string } = {};
  for (const s of unit.stacks) {
    cpSync(join(outdir, "stacks", s), join(tmp, "stacks", s), { recursive: true });
    for (const f of filesUnder(join(tmp, "stacks", s))) {
      files[join("stacks", s, f)] = sha256(readFileSync(join(tmp, "stacks", s, f)));
    }
  }
  const record: Record = {
    version: manifest.version,
    stacks: Object.fromEntries(unit.stacks.map((s) => [s, manifest.stacks[s]])),
    files,
  };
  writeFileSync(join(tmp, RECORD), JSON.stringify(record));
  // Another synthesis (changed-stacks runs two at once) stored the same key meanwhile: same inputs,
  // same output; keep its entry, which it may be reading. Only a broken entry is replaced.
  const existing = readEntry(cacheDir, key, unit.stacks);
  if (existing) {
    rmSync(tmp, { recursive: true, force: true });
    return existing;
  }
  rmSync(dir, { recursive: true, force: true });
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, RECORD))) throw err;
  }
  return { ...record, dir };
}

/**
 * Writes the entries' stacks into `outdir` (stacks/<name>/…) and a manifest.json listing them,
 * serialized as cdktf serializes it. `merge`: keep the manifest's other stacks (a partial synthesis).
 * `link`: hard links to the cache's files instead of copies, for an output that is only read and
 * then removed (changed-stacks' two syntheses): writing into a linked file would change the cache.
 */
export function assemble(entries: readonly Entry[], outdir: string, merge = false, link = false): void {
  mkdirSync(join(outdir, "stacks"), { recursive: true });
  const manifestFile = join(outdir, "manifest.json");
  let stacks: { [s: string]: unknown } = {};
  if (merge && existsSync(manifestFile)) {
    try {
      stacks = (JSON.parse(readFileSync(manifestFile, "utf8")) as { stacks?: { [s: string]: unknown } }).stacks ?? {};
    } catch {
      stacks = {};
    }
  }
  let version = "";
  for (const e of entries) {
    version = e.version;
    for (const s of Object.keys(e.stacks)) {
      const target = join(outdir, "stacks", s);
      const staged = `${target}.tmp-${process.pid}`;
      rmSync(staged, { recursive: true, force: true });
      if (link) linkTree(join(e.dir, "stacks", s), staged);
      else cpSync(join(e.dir, "stacks", s), staged, { recursive: true });
      rmSync(target, { recursive: true, force: true });
      renameSync(staged, target);
      stacks[s] = e.stacks[s];
    }
  }
  // The serializer calls util.isArray, whose deprecation warning would be this command's only stderr.
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    writeFileSync(manifestFile, stableStringify({ version, stacks }, { space: 2 }));
  } finally {
    process.noDeprecation = quiet;
  }
}
