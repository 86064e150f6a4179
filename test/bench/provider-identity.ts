/**
 * `npm run bench:provider-identity`: shows that the trimmed AWS provider of the local engine plans
 * and applies exactly what the full one does. Needs both builds in the cache:
 * `npm run setup:engine` (trimmed, the default) and `ENVSTACK_AWS_PROVIDER=full npm run setup:engine`
 * (then `npm run setup:engine` again to make the trimmed one current).
 *
 * For every stack of the emulator target, in dependency order, against one moto:
 *  1. `plan` with each provider from the same state; the two plans' JSON (`tofu show -json`) must
 *     be equal once the engine's own timestamp is set aside;
 *  2. `apply` with the trimmed provider, for the stacks moto applies (bootstrap, dev, dev-traffic: the
 *     EC2 path the end-to-end tests deploy); a stack reading another's remote state is compared
 *     only when that one was applied;
 *  3. `plan` again with each provider against the state the trimmed one wrote: the same plan (no
 *     changes, or the same emulator-made perpetual diff for both), i.e. the full provider reads
 *     that state as its own.
 * Prints one line per stack and a verdict; exits non-zero when anything differs.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { playground } from "../../lib/demo/demo.ts";
import { Engine } from "../../lib/engine/engine.ts";
import { cacheRoot, engineEnv, localTargetEnv, readManifest, startEmulator } from "../../lib/engine/local.ts";
import { synthesizeProject } from "../../lib/stacks/synth.ts";

const manifest = readManifest();
if (manifest.awsProvider?.build !== "trimmed")
  throw new Error("the current engine is not the trimmed build: run 'npm run setup:engine'");
const fullMirror = join(cacheRoot(), "engine", "mirror-aws-full");
if (!existsSync(join(fullMirror, "registry.terraform.io/hashicorp/aws")))
  throw new Error(
    `no full AWS provider build at ${fullMirror}: run 'ENVSTACK_AWS_PROVIDER=full npm run setup:engine', then 'npm run setup:engine'`,
  );
const trimmedMirror = readFileSync(manifest.cliConfig, "utf8").match(/path\s*=\s*"([^"]*mirror-aws-[^"]*)"/)![1]!;
const fullConfig = join(cacheRoot(), "engine", "tofurc-full-aws");
writeFileSync(fullConfig, readFileSync(manifest.cliConfig, "utf8").replace(trimmedMirror, fullMirror));

const emulator = await startEmulator(manifest);
const dir = playground();
const stateDir = join(dir, ".state");
const env = {
  ...localTargetEnv(emulator.endpoint, engineEnv(manifest, { ...process.env, CI: "1" })),
  ENVSTACK_BACKEND: "local",
  ENVSTACK_STATE_DIR: stateDir,
};
const trimmed = new Engine(manifest.tofu, env);
const full = new Engine(manifest.tofu, { ...env, TF_CLI_CONFIG_FILE: fullConfig });

/** The stacks the emulator applies (the end-to-end tests' EC2 path); the others are compared by plan. */
const APPLIED = ["bootstrap-123456789012", "dev", "dev-traffic"];

/**
 * The plan as JSON minus what differs by run, not by provider: the engine's timestamp, the order
 * of `relevant_attributes` (a set, listed in map order: it differs between two runs of one
 * provider), and values the cloud reads from its clock.
 */
const comparable = (plan: any) => {
  const { timestamp: _t, relevant_attributes: relevant, ...rest } = plan;
  return {
    ...JSON.parse(JSON.stringify(rest), (k, v) => (CLOCK_VALUES.includes(k) ? "(read at refresh)" : v)),
    relevant_attributes: (relevant ?? []).map((r: unknown) => JSON.stringify(r)).sort(),
  };
};

/** Attributes the cloud reports from its clock at each read (RDS: "now"), so two refreshes seconds apart differ. */
const CLOCK_VALUES = ["latest_restorable_time"];

let failures = 0;
try {
  await synthesizeProject(dir, env);
  const order = [
    "bootstrap-123456789012",
    "bootstrap-222222222222",
    "bootstrap-333333333333",
    "dev",
    "dev-traffic",
    "staging",
    "staging-workloads",
    "staging-traffic",
    "production",
    "production-workloads",
    "production-traffic",
    "global",
  ];
  console.log(`trimmed: ${trimmedMirror}\nfull:    ${fullMirror}\n`);
  for (const stack of order) {
    const src = join(dir, "cdktf.out", "stacks", stack);
    if (!existsSync(src)) continue;
    const a = join(dir, "identity", stack, "trimmed");
    const b = join(dir, "identity", stack, "full");
    for (const d of [a, b]) {
      mkdirSync(d, { recursive: true });
      cpSync(join(src, "cdk.tf.json"), join(d, "cdk.tf.json"));
    }
    try {
      await trimmed.init(a);
      await full.init(b);
      const pa = await trimmed.planJson(a, "plan.bin", ["-lock=false"]);
      const pb = await full.planJson(b, "plan.bin", ["-lock=false"]);
      const samePlan = isDeepStrictEqual(comparable(pa.json), comparable(pb.json));
      const changes = (pa.json.resource_changes ?? []).length;
      let applied = "plan only (the EKS path is not applied on moto)";
      if (samePlan && APPLIED.includes(stack)) {
        const r = await trimmed.run(a, ["apply", "-auto-approve", "-input=false", "-no-color", "plan.bin"]);
        if (r.code === 0) {
          // Both providers plan again on the state the trimmed one wrote: the same plan (empty, or
          // the same perpetual diff the emulator causes for either).
          const again = await trimmed.planJson(a, "again.bin", ["-lock=false"]);
          const fullAgain = await full.planJson(b, "again.bin", ["-lock=false"]);
          const same = isDeepStrictEqual(comparable(again.json), comparable(fullAgain.json));
          const changed = (fullAgain.json.resource_changes ?? [])
            .filter((c: any) => !c.change.actions.every((x: string) => x === "no-op" || x === "read"))
            .map((c: any) => c.address);
          applied = `applied by trimmed; on its state the full provider plans ${changed.length === 0 ? "no changes" : `${changed.length} change(s) (${changed.join(", ")})`}, ${same ? "the same plan as the trimmed one" : "A DIFFERENT PLAN FROM THE TRIMMED ONE"}`;
          if (!same) failures++;
        } else {
          applied = `moto cannot apply it (${
            r.stderr
              .split("\n")
              .find((l) => /Error:/.test(l))
              ?.trim() ?? `exit ${r.code}`
          })`;
        }
      } else if (!samePlan) {
        failures++;
        writeFileSync(join(a, "plan.json"), JSON.stringify(pa.json, null, 1));
        writeFileSync(join(b, "plan.json"), JSON.stringify(pb.json, null, 1));
      }
      console.log(
        `${stack.padEnd(22)} plan of ${String(changes).padStart(3)} resources: ${samePlan ? "identical" : `DIFFERENT (see ${a}/plan.json, ${b}/plan.json)`}; ${applied}`,
      );
    } catch (err) {
      console.log(`${stack.padEnd(22)} not compared: ${(err as Error).message.split("\n").slice(0, 2).join(" ")}`);
    }
  }
} finally {
  await emulator.stop();
}
console.log(
  failures === 0
    ? "\nverdict: the trimmed provider plans and applies what the full one does, for every stack compared"
    : `\nverdict: ${failures} difference(s)`,
);
process.exit(failures === 0 ? 0 : 1);
