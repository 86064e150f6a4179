/**
 * `npm run engine:types`: rewrites lib/engine/aws-provider-types.txt, the AWS types the local
 * engine's trimmed provider must serve (lib/engine/provider-types.ts), from every environment's
 * stacks synthesized for both targets.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { awsTypesOfOutput, TYPES_FILE, typesFileText } from "../engine/provider-types.ts";
import { synthesizeProject } from "./synth.ts";

/** Synthesizes every environment for the `aws` and `local` targets and lists their AWS types. */
export async function projectAwsTypes(root: string): Promise<string[]> {
  const types = new Set<string>();
  const targets: NodeJS.ProcessEnv[] = [
    {},
    { ENVSTACK_TARGET: "local", ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:1", ENVSTACK_BACKEND: "local" },
  ];
  for (const target of targets) {
    const out = mkdtempSync(join(tmpdir(), "envstack-types-"));
    try {
      await synthesizeProject(root, target, out);
      for (const t of awsTypesOfOutput(out)) types.add(t);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  return [...types].sort();
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const types = await projectAwsTypes(resolve(import.meta.dirname, "../.."));
  writeFileSync(TYPES_FILE, typesFileText(types));
  console.log(`wrote ${types.length} types to ${TYPES_FILE}`);
}
