import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { playground, run } from "./lib/demo/demo.ts";
import { engineEnv, localTargetEnv, readManifest, startEmulator } from "./lib/engine/local.ts";
const m = readManifest();
const em = await startEmulator(m, "/tmp/inv-moto.log");
const dir = playground();
const env = localTargetEnv(em.endpoint, engineEnv(m, { ...process.env, CI: "1" }));
const cdktf = "/work/main/node_modules/.bin/cdktf";
const t = async (label: string, cmd: string, args: string[], extra = {}) => {
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: dir, env: { ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on("line", (l) => lines.push(`${((performance.now() - t0) / 1000).toFixed(2)} ${l.replace(/\x1b\[[0-9;]*m/g, "")}`));
  const code = await new Promise((r) => child.on("close", r));
  console.log(`== ${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s (exit ${code})`);
  return lines;
};
try {
  await t("bootstrap", cdktf, ["deploy", "bootstrap", "--auto-approve", "--skip-provider-lock"], { ENVSTACK_BACKEND: "local" });
  await t("dev", cdktf, ["deploy", "dev", "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"]);
  await t("dev-traffic", cdktf, ["deploy", "dev-traffic", "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"]);
  const lines = await t("dev-traffic again (skip-synth)", cdktf, ["deploy", "dev-traffic", "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies", "--skip-synth"]);
  console.log(lines.filter((l) => l.trim().split(" ").length > 1).slice(0, 80).join("\n"));
  const d = join(dir, "cdktf.out/stacks/dev-traffic");
  const plan = await (async () => { const t0 = performance.now(); const c = spawn(m.tofu, ["plan", "-input=false", "-no-color"], { cwd: d, env: { ...env, TF_LOG: "DEBUG" }, stdio: ["ignore", "pipe", "pipe"] }); const ls: string[] = []; for (const s of [c.stdout!, c.stderr!]) createInterface({ input: s }).on("line", (l) => ls.push(`${((performance.now() - t0) / 1000).toFixed(2)} ${l}`)); await new Promise((r) => c.on("close", r)); console.log(`== tofu plan: ${((performance.now() - t0) / 1000).toFixed(1)} s`); return ls; })();
  console.log(plan.filter((l) => /Refresh|remote_state|GetProviderSchema|lock|backend|Reading|aws_lb_listener_rule|Plan:|No changes|starting plugin|plugin exited/i.test(l)).slice(0, 60).join("\n"));
} finally {
  for (const s of ["dev-traffic", "dev"]) await run(cdktf, ["destroy", s, "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"], dir, env, process.stderr);
  await em.stop();
}
