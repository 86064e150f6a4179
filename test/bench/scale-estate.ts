/**
 * A generated estate for the scale bench and tests: the shipped three environments plus generated
 * ones derived from dev (each with its own VPC /20 and its own account), and previews of dev in
 * environments/previews.json. Always in a temporary directory (tempProject), never in the repo.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempProject } from "../support/project.ts";

export interface EstateShape {
  /** Environments in all, the shipped three included. */
  readonly total: number;
  /** How many of them are previews of dev. @default a fifth of the total beyond the shipped three */
  readonly previews?: number;
}

/** Name of the i-th generated permanent environment. */
export const generatedName = (i: number) => `team-${String(i).padStart(3, "0")}`;

/** A /20 of 10.128.0.0/9 (outside the preview pool and the shipped environments' /16s). */
const cidrOf = (i: number) => `10.${128 + (i >> 4)}.${(i & 15) << 4}.0/20`;

/** Writes the generated environments into `dir` (a project copy). */
export function writeEstate(dir: string, shape: EstateShape): { permanent: number; previews: number } {
  const extra = Math.max(0, shape.total - 3);
  const previews = Math.min(shape.previews ?? Math.floor(extra / 5), extra, 256);
  const permanent = extra - previews;
  const release = JSON.parse(readFileSync(join(dir, "environments/releases/dev.json"), "utf8"));
  for (let i = 0; i < permanent; i++) {
    const name = generatedName(i);
    const id = String(500000000000 + i);
    writeFileSync(
      join(dir, "environments", `${name}.ts`),
      `import { defineEnvironment } from "../lib/index.ts";
import dev from "./dev.ts";

export default defineEnvironment({
  ...dev,
  name: "${name}",
  account: { id: "${id}", deployRoleArn: "arn:aws:iam::${id}:role/envstack-deploy" },
  domain: "${name}.webapp.example.com",
  network: { ...dev.network, cidr: "${cidrOf(i)}" },
  release: { ...dev.release, promotesTo: [] },
});
`,
    );
    writeFileSync(
      join(dir, "environments/releases", `${name}.json`),
      `${JSON.stringify({ ...release, environment: name }, null, 2)}\n`,
    );
  }
  const list = Array.from({ length: previews }, (_, i) => ({
    name: `pr-${1000 + i}-feature`,
    base: "dev",
    cidr: `10.${64 + (i >> 4)}.${(i & 15) << 4}.0/20`,
    createdAt: "2026-12-01T00:00:00Z",
    expiresAt: "2027-01-01T00:00:00Z",
  }));
  writeFileSync(join(dir, "environments/previews.json"), `${JSON.stringify({ previews: list }, null, 2)}\n`);
  for (const p of list)
    writeFileSync(
      join(dir, "environments/releases", `${p.name}.json`),
      `${JSON.stringify({ ...release, environment: p.name }, null, 2)}\n`,
    );
  return { permanent: permanent + 3, previews };
}

/** A temporary project copy holding the estate. */
export function estate(shape: EstateShape): string {
  return tempProject((dir) => writeEstate(dir, shape));
}
