/**
 * Preview environments: data in `environments/previews.json` (never code edits), each derived
 * from a base environment (dev) with its own CIDR from a reserved pool, name and expiry.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { cidrContains, cidrsOverlap, formatCidr, isCanonicalCidr, parseCidr } from "./cidr.ts";
import { type Problem, zodProblems } from "./errors.ts";
import { readJsonFile } from "./json.ts";
import { type Environment, EnvironmentSchema, NameSchema } from "./schema.ts";

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

/** Subject of the problems of the previews file as a whole. */
export const PREVIEWS_SUBJECT = "environments/previews.json";

export function previewsFileOf(root: string): string {
  return join(root, "environments", "previews.json");
}

export function readPreviews(root: string): { previews: Preview[] } | { problems: Problem[] } {
  const file = previewsFileOf(root);
  if (!existsSync(file)) return { previews: [] };
  const json = readJsonFile(file);
  if ("error" in json) return { problems: [{ subject: PREVIEWS_SUBJECT, path: "", message: json.error }] };
  return parsePreviews(json.value);
}

/** Validates the contents of a previews file (e.g. one about to be written). */
export function parsePreviews(json: unknown): { previews: Preview[] } | { problems: Problem[] } {
  const parsed = PreviewsFileSchema.safeParse(json);
  if (!parsed.success) return { problems: zodProblems(PREVIEWS_SUBJECT, parsed.error) };
  return { previews: parsed.data.previews };
}

/** The environment a preview synthesizes as: its base, renamed, re-addressed and labelled. */
export function previewEnvironment(p: Preview, base: Environment): Environment {
  return EnvironmentSchema.parse(previewInput(p, base));
}

function previewInput(p: Preview, base: Environment): unknown {
  return {
    ...base,
    name: p.name,
    domain: `${p.name}.${base.domain}`,
    network: { ...base.network, cidr: p.cidr, natGateways: "single" },
    release: { ...base.release, promotesTo: [], rollbackTo: [] },
    tags: { ...base.tags, Preview: "true", ExpiresAt: p.expiresAt },
    expiresAt: p.expiresAt,
  };
}

/**
 * The previews as environments. `names` lists every preview the file names (also those with
 * problems); `override` replaces the file's contents (validating a change before writing it).
 */
export function loadPreviews(
  root: string,
  permanent: readonly Environment[],
  override?: readonly Preview[],
): { environments: Environment[]; problems: Problem[]; names: string[] } {
  const read = override ? { previews: [...override] } : readPreviews(root);
  if ("problems" in read) return { environments: [], problems: read.problems, names: [] };
  const problems: Problem[] = [];
  const environments: Environment[] = [];
  const pool = parseCidr(PREVIEW_POOL)!;
  for (const p of read.previews) {
    const base = permanent.find((e) => e.name === p.base);
    const c = parseCidr(p.cidr);
    if (!base) problems.push({ subject: p.name, path: "base", message: `names unknown environment ${p.base}` });
    if (!c || !isCanonicalCidr(p.cidr) || c.prefix !== PREVIEW_PREFIX || !cidrContains(pool, c)) {
      problems.push({
        subject: p.name,
        path: "cidr",
        message: `${p.cidr} must be a canonical /${PREVIEW_PREFIX} inside the preview pool ${PREVIEW_POOL}`,
      });
    }
    if (!base || problems.some((x) => x.subject === p.name)) continue;
    // Validated like any environment (a derived name or domain may break a rule): a problem, never a throw.
    const env = EnvironmentSchema.safeParse(previewInput(p, base));
    if (env.success) environments.push(env.data);
    else problems.push(...zodProblems(p.name, env.error));
  }
  for (const e of permanent) {
    const c = parseCidr(e.network.cidr);
    if (c && cidrsOverlap(c, pool)) {
      problems.push({
        subject: e.name,
        path: "network.cidr",
        message: `${e.network.cidr} overlaps the preview pool ${PREVIEW_POOL}`,
      });
    }
  }
  return { environments, problems, names: read.previews.map((p) => p.name) };
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
