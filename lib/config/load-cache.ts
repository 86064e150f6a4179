/**
 * Loading hundreds of environment files costs an import and a validation each. A file that is
 * plain data — and whose local imports are too — gives the same configuration for the same
 * sources and the same lib/ code, so its validated configuration is kept, keyed by a hash of
 * those sources (paths relative to the project) and of the code under lib/, and reused without
 * importing the file.
 *
 * Plain data, checked on the source with comments and strings removed (conservative: anything
 * else is imported as always): no template with `${`, no `/` (division or regular expression), no
 * `?` (conditionals), no `import.meta`, no call but of `defineEnvironment` / `defineAccountGroup`
 * imported from lib/, no call on a call's result, every name either declared in the file (an
 * import or a `const`), a keyword of declarations, or a property (after `.`, or a key before
 * `:`); imports only of lib/ (the code, in the key) and of local files that are plain data.
 * `Date`, `Math`, `process`, `globalThis`… are names the file does not declare: never plain data.
 *
 * Where: `<synthesis cache>/load/` (lib/stacks/synth-cache.ts's directory). Fail safe: an entry
 * that does not parse is a miss.
 */

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { Environment } from "./schema.ts";
import { codeOf, inside } from "./source-text.ts";

const FORMAT = 1;
const LIB = resolve(import.meta.dirname, "..");
const REPO = dirname(LIB);
const PURE_CALLS = new Set(["defineEnvironment", "defineAccountGroup"]);
const KEYWORDS = new Set(["import", "from", "export", "default", "const", "as", "true", "false", "null", "undefined"]);

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

let libHash: string | undefined;
/** A hash of every file under lib/, package-lock.json and the Node version: the code that loads and validates. */
export function libFingerprint(): string {
  if (libHash) return libHash;
  const h = createHash("sha256").update(`node ${process.version}\n`);
  const files = readdirSync(LIB, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(LIB, join(d.parentPath, d.name)))
    .sort();
  for (const f of files) h.update(`lib/${f}\n`).update(readFileSync(join(LIB, f)));
  const lock = join(REPO, "package-lock.json");
  h.update("package-lock.json\n").update(existsSync(lock) ? readFileSync(lock) : "(none)");
  libHash = h.digest("hex");
  return libHash;
}

/** Whether the stripped code is plain data (see the file's comment); `fromLib`: names imported from lib/. */
export function isPlainData(code: string, fromLib: ReadonlySet<string>): boolean {
  if (code.includes("?") || /\bimport\s*\./.test(code) || /[)\]]\s*\(/.test(code)) return false;
  const declared = new Set<string>();
  for (const m of code.matchAll(/\bimport\s+([^;]*?)\s+from\b/g)) {
    for (const name of m[1]!.matchAll(/[A-Za-z_$][\w$]*/g)) declared.add(name[0]);
  }
  for (const m of code.matchAll(/\bconst\s+([A-Za-z_$][\w$]*)/g)) declared.add(m[1]!);
  for (const m of code.matchAll(/(?<![\w$])[A-Za-z_$][\w$]*/g)) {
    const name = m[0];
    const at = m.index;
    const before = code.slice(0, at).trimEnd();
    const after = code.slice(at + name.length).trimStart();
    const property = before.endsWith(".") && !before.endsWith("...");
    if (after.startsWith("(")) {
      if (property || !PURE_CALLS.has(name) || !fromLib.has(name)) return false;
      continue;
    }
    if (property || after.startsWith(":") || KEYWORDS.has(name) || declared.has(name)) continue;
    return false;
  }
  return true;
}

/**
 * The cache key of an environment file when it and every local module it imports are plain data;
 * undefined otherwise (the file is imported). `memo` spares re-reading shared modules (dev.ts, _defaults.ts).
 */
export function plainDataKey(file: string, root: string, memo = new Map<string, string | null>()): string | undefined {
  const own = fileHash(file, root, memo, new Set());
  return own ? sha256(`format ${FORMAT}\n${libFingerprint()}\n${own}`) : undefined;
}

function fileHash(file: string, root: string, memo: Map<string, string | null>, seen: Set<string>): string | undefined {
  const known = memo.get(file);
  if (known !== undefined) return known ?? undefined;
  if (seen.has(file)) return undefined; // an import cycle: not worth the trouble
  seen.add(file);
  const result = computeHash(file, root, memo, seen);
  memo.set(file, result ?? null);
  return result;
}

function computeHash(file: string, root: string, memo: Map<string, string | null>, seen: Set<string>) {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const code = codeOf(source);
  if (code === undefined) return undefined;
  const parts = [`${relative(root, file)}\n${sha256(source)}`];
  const fromLib = new Set<string>();
  // The specifiers, from the source (the stripped code has no strings).
  for (const m of source.matchAll(/\bimport\s+([^;]*?)\s+from\s*["']([^"']+)["']/g)) {
    const spec = m[2]!;
    if (!spec.startsWith(".")) return undefined;
    const target = resolve(dirname(file), spec);
    if (inside(LIB, target) || inside(join(root, "lib"), target)) {
      for (const n of m[1]!.matchAll(/[A-Za-z_$][\w$]*/g)) fromLib.add(n[0]);
      continue;
    }
    const found = [target, `${target}.ts`].find((f) => existsSync(f) && f.endsWith(".ts"));
    const imported = found ? fileHash(found, root, memo, seen) : undefined;
    if (!imported) return undefined;
    parts.push(imported);
  }
  if (/\bimport\s*["']/.test(source)) return undefined; // a bare import for its effects
  return isPlainData(code, fromLib) ? sha256(parts.join("\n")) : undefined;
}

export function loadCacheDir(root: string, env: NodeJS.ProcessEnv): string {
  return join(resolve(root, env.ENVSTACK_SYNTH_CACHE || join(".envstack", "synth-cache")), "load");
}

export function readCachedConfig(dir: string, key: string): Environment | undefined {
  try {
    const value = JSON.parse(readFileSync(join(dir, `${key}.json`), "utf8")) as { config?: Environment };
    return typeof value.config === "object" && value.config !== null ? value.config : undefined;
  } catch {
    return undefined;
  }
}

export function writeCachedConfig(dir: string, key: string, config: Environment): void {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${key}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify({ config }));
    renameSync(tmp, join(dir, `${key}.json`));
  } catch {
    // A cache that cannot be written only costs the next load its imports.
  }
}
