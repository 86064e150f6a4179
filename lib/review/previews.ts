/**
 * Preview environments as data: entries of `environments/previews.json` plus a release file
 * each, edited under a lock and written atomically. Synthesis picks them up like any other
 * environment (lib/config/previews.ts).
 */
import { rmSync } from "node:fs";
import { ConfigError, zodProblems } from "../config/errors.ts";
import { loadProject } from "../config/load.ts";
import {
  allocatePreviewCidr,
  loadPreviews,
  type Preview,
  PreviewSchema,
  previewsFileOf,
  readPreviews,
} from "../config/previews.ts";
import { checkEnvironments } from "../config/rules.ts";
import { unknownEnvironmentMessage } from "../config/suggest.ts";
import { writeFileAtomic } from "../fsutil/atomic-write.ts";
import { assertLockHeld, withFileLock } from "../fsutil/file-lock.ts";
import { RefusedError } from "../release/model/errors.ts";
import { ReleaseSchema } from "../release/model/release.ts";
import { auditFileOf, loadRelease, releaseFileOf, releaseText } from "../release/store/index.ts";

export const DEFAULT_TTL_DAYS = 7;

function readOrFail(root: string): Preview[] {
  const r = readPreviews(root);
  if ("problems" in r) throw new ConfigError(r.problems, "invalid previews file");
  return r.previews;
}

function writePreviews(root: string, previews: Preview[]): void {
  const sorted = [...previews].sort((a, b) => a.name.localeCompare(b.name));
  // Always under the previews lock: still this process's right before the rename (never one taken over).
  writeFileAtomic(previewsFileOf(root), `${JSON.stringify({ previews: sorted }, null, 2)}\n`, {
    beforeRename: () => assertLockHeld(previewsFileOf(root), "previews.json"),
  });
}

/** The lock needs no file: a refused command must not leave an empty previews.json behind. */
async function withPreviewsLock<T>(root: string, wait: number, fn: () => Promise<T>): Promise<T> {
  return withFileLock(previewsFileOf(root), "previews.json", wait, fn);
}

export interface CreateResult {
  preview: Preview;
  created: boolean;
}

/**
 * Adds a preview derived from `base` (its live version, a free CIDR of the pool, an expiry),
 * or, when it exists, extends its expiry: safe to repeat on every push. Everything is validated
 * in memory first (the name, the project, the new previews list and release file): a refused
 * creation writes nothing.
 */
export async function createPreview(
  root: string,
  name: string,
  opts: { base?: string; ttlDays?: number; now: Date; wait?: number },
): Promise<CreateResult> {
  const named = PreviewSchema.shape.name.safeParse(name);
  if (!named.success) throw new ConfigError(zodProblems(name, named.error, ["name"]), "invalid preview");
  return withPreviewsLock(root, opts.wait ?? 30, async () => {
    const project = await loadProject(root);
    const previews = readOrFail(root);
    const expiresAt = new Date(opts.now.getTime() + (opts.ttlDays ?? DEFAULT_TTL_DAYS) * 86_400_000).toISOString();
    const existing = previews.find((p) => p.name === name);
    if (existing) {
      const updated = { ...existing, expiresAt };
      writePreviews(
        root,
        previews.map((p) => (p.name === name ? updated : p)),
      );
      return { preview: updated, created: false };
    }
    const baseName = opts.base ?? "dev";
    const base = project.environments.find((e) => e.config.name === baseName && !e.config.expiresAt);
    if (!base)
      throw new RefusedError(
        `preview base: ${unknownEnvironmentMessage(
          baseName,
          project.environments.filter((e) => !e.config.expiresAt).map((e) => e.config.name),
        )}`,
      );
    if (project.environments.some((e) => e.config.name === name))
      throw new RefusedError(`${name} is already an environment`);
    const cidr = allocatePreviewCidr(project.environments.map((e) => e.config.network.cidr));
    if (!cidr) throw new RefusedError("the preview CIDR pool is full: destroy old previews (envctl preview gc)");
    const parsed = PreviewSchema.safeParse({
      name,
      base: baseName,
      cidr,
      createdAt: opts.now.toISOString(),
      expiresAt,
    });
    if (!parsed.success) throw new ConfigError(zodProblems(name, parsed.error), "invalid preview");
    const version = base.release.slots[base.release.live].version!;
    const release = ReleaseSchema.safeParse({
      environment: name,
      live: "blue",
      slots: { blue: { version, weight: 100 }, green: { version: null, weight: 0 } },
      history: [version],
    });
    if (!release.success)
      throw new ConfigError(zodProblems(`environments/releases/${name}.json`, release.error), "invalid preview");
    // The whole project with the preview in, validated before anything is written.
    const next = [...previews, parsed.data];
    const permanent = project.environments.map((e) => e.config).filter((c) => c.expiresAt === undefined);
    const withPreview = loadPreviews(root, permanent, next);
    const problems = [...withPreview.problems, ...checkEnvironments([...permanent, ...withPreview.environments])];
    if (problems.length > 0) throw new ConfigError(problems, "invalid preview");
    // Release file first: a previews.json entry without its release file would break every load.
    writeFileAtomic(releaseFileOf(root, name), releaseText(release.data));
    try {
      writePreviews(root, next);
    } catch (err) {
      rmSync(releaseFileOf(root, name), { force: true });
      throw err;
    }
    return { preview: parsed.data, created: true };
  });
}

/** Removes a preview's entry, release file and audit history (after its stacks are destroyed). */
export async function forgetPreview(root: string, name: string, wait = 30): Promise<void> {
  await withPreviewsLock(root, wait, async () => {
    const previews = readOrFail(root);
    if (!previews.some((p) => p.name === name)) throw new RefusedError(`no preview named ${name}`);
    writePreviews(
      root,
      previews.filter((p) => p.name !== name),
    );
    rmSync(releaseFileOf(root, name), { force: true });
    rmSync(auditFileOf(root, name), { force: true });
  });
}

export function listPreviews(root: string, now: Date): (Preview & { expired: boolean; version: string | null })[] {
  return readOrFail(root).map((p) => {
    let version: string | null = null;
    try {
      const r = loadRelease(root, p.name);
      version = r.slots[r.live].version;
    } catch {
      // listed even when its release file is missing
    }
    return { ...p, expired: new Date(p.expiresAt) <= now, version };
  });
}

export function previewStacks(name: string): string[] {
  return [name, `${name}-traffic`];
}
