/**
 * Preview environments: data in `environments/previews.json` (never code edits), each derived
 * from a base environment (dev) with its own CIDR from a reserved pool, name and expiry.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { cidrContains, cidrsOverlap, formatCidr, parseCidr } from "./cidr.ts";
import { zodProblems, type Problem } from "./errors.ts";
import { EnvironmentSchema, NameSchema, type Environment } from "./schema.ts";

/** CIDR pool reserved for previews; permanent environments must stay outside it. */
export const PREVIEW_POOL = "10.64.0.0/12";
/** Size of one preview VPC. */
export const PREVIEW_PREFIX = 20;

export const PreviewSchema = z.strictObject({
  name: NameSchema.regex(/^pr-\d+(-[a-z0-9]+)*$/, "must look like pr-<number>-<branch-slug>"),
  base: NameSchema,
  cidr: z.string(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});
export const PreviewsFileSchema = z.strictObject({ previews: z.array(PreviewSchema) });
export type Preview = z.infer<typeof PreviewSchema>;

export function previewsFileOf(root: string): string {
  return join(root, "environments", "previews.json");
}

export function readPreviews(root: string): { previews: Preview[] } | { problems: Problem[] } {
  const file = previewsFileOf(root);
  if (!existsSync(file)) return { previews: [] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    return { problems: [{ subject: "environments/previews.json", path: "", message: `is not valid JSON: ${(err as Error).message}` }] };
  }
  const parsed = PreviewsFileSchema.safeParse(json);
  if (!parsed.success) return { problems: zodProblems("environments/previews.json", parsed.error) };
  return { previews: parsed.data.previews };
}

/** The environment a preview synthesizes as: its base, renamed, re-addressed and labelled. */
export function previewEnvironment(p: Preview, base: Environment): Environment {
  return EnvironmentSchema.parse({
    ...base,
    name: p.name,
    domain: `${p.name}.${base.domain}`,
    network: { ...base.network, cidr: p.cidr, natGateways: "single" },
    release: { ...base.release, promotesTo: [], rollbackTo: [] },
    tags: { ...base.tags, Preview: "true", ExpiresAt: p.expiresAt },
    expiresAt: p.expiresAt,
  });
}

export function loadPreviews(root: string, permanent: readonly Environment[]): { environments: Environment[]; problems: Problem[] } {
  const read = readPreviews(root);
  if ("problems" in read) return { environments: [], problems: read.problems };
  const problems: Problem[] = [];
  const environments: Environment[] = [];
  const pool = parseCidr(PREVIEW_POOL)!;
  for (const p of read.previews) {
    const base = permanent.find((e) => e.name === p.base);
    const c = parseCidr(p.cidr);
    if (!base) problems.push({ subject: p.name, path: "base", message: `names unknown environment ${p.base}` });
    if (!c || c.prefix !== PREVIEW_PREFIX || !cidrContains(pool, c)) {
      problems.push({ subject: p.name, path: "cidr", message: `${p.cidr} must be a /${PREVIEW_PREFIX} inside the preview pool ${PREVIEW_POOL}` });
    }
    if (base && c) environments.push(previewEnvironment(p, base));
  }
  for (const e of permanent) {
    const c = parseCidr(e.network.cidr);
    if (c && cidrsOverlap(c, pool)) {
      problems.push({ subject: e.name, path: "network.cidr", message: `${e.network.cidr} overlaps the preview pool ${PREVIEW_POOL}` });
    }
  }
  return { environments, problems };
}

/** The lowest free /20 of the pool that overlaps none of `taken`; undefined when the pool is full. */
export function allocatePreviewCidr(taken: readonly string[]): string | undefined {
  const pool = parseCidr(PREVIEW_POOL)!;
  const used = taken.map(parseCidr).filter((c) => c !== undefined);
  const count = 2 ** (PREVIEW_PREFIX - pool.prefix);
  for (let i = 0; i < count; i++) {
    const candidate = { base: pool.base + i * 2 ** (32 - PREVIEW_PREFIX), prefix: PREVIEW_PREFIX };
    if (!used.some((u) => cidrsOverlap(u, candidate))) return formatCidr(candidate);
  }
  return undefined;
}
