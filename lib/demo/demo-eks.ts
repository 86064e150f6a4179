/**
 * `npm run demo:eks`: the EKS path, told as a story, on a throw-away copy of the project. Start moto
 * and the local Kubernetes control plane (lib/engine/control-plane.ts: a real API server, simulated
 * nodes) → deploy staging (its cluster as moto serves it), staging-workloads (onto the API server)
 * and staging-traffic → promote dev's 1.5.0 into staging's idle slot: its Deployment becomes Ready →
 * `envctl status staging --live` shows the Deployments beside the ALB → roll it out under healthy
 * synthetic users → destroy → stop both.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { accounts } from "../../environments/_defaults.ts";
import { bootstrapStackName } from "../constructs/naming.ts";
import { startControlPlane } from "../engine/control-plane.ts";
import { controlPlaneBinaries, engineEnv, localTargetEnv, startEmulator } from "../engine/local.ts";
import { demoDeploy, demoStage, readWeights, run, USERS_RPS, users } from "./demo.ts";
import { SyntheticAlbTraffic } from "./synthetic-traffic.ts";

const REPO = resolve(import.meta.dirname, "../..");

async function main(): Promise<number> {
  const stage = await demoStage("staging", ["production"]);
  const { since, say, manifest, dir, logFile, log, smoke } = stage;
  // The demo destroys staging at its end: the playground's database without deletion protection.
  const stagingFile = join(dir, "environments", "staging.ts");
  writeFileSync(
    stagingFile,
    readFileSync(stagingFile, "utf8").replace("deletionProtection: true", "deletionProtection: false"),
  );
  const emulator = await startEmulator(manifest, join(dir, "moto.log"));
  // The control plane stands for staging's EKS cluster: moto reports it as the cluster's endpoint,
  // and its token webhook lets envctl in with the token it makes with staging's deploy role, as on AWS.
  const plane = await startControlPlane(controlPlaneBinaries(manifest), {
    dir: join(dir, "kube"),
    say: (line) => say(`control plane: ${line}`),
    tokenWebhook: { emulator: emulator.endpoint, clusters: ["staging-eks"] },
  });
  emulator.serveKubernetesApi({ server: plane.server, caPem: readFileSync(plane.ca, "utf8") });
  const base = localTargetEnv(
    emulator.endpoint,
    engineEnv(manifest, {
      ...process.env,
      CI: process.env.CI ?? "1",
      ENVSTACK_KUBECONFIG: plane.kubeconfig,
      ENVSTACK_KUBE_AUTH: "eks",
    }),
  );
  const cdktf = join(REPO, "node_modules/.bin/cdktf");
  const envctl = (...args: string[]) => run(process.execPath, [join(REPO, "lib/cli/envctl.js"), ...args], dir, base);
  // staging's resources live in staging's account on the emulator too (moto's accounts by access key).
  const account = accounts.staging.id;
  const weights = async () =>
    JSON.stringify(await readWeights(emulator.endpoint, "staging", account)).replace(/"/g, "");
  const deploy = demoDeploy(stage, base);
  // staging's state bucket is its own account's: that account's bootstrap stack (local state)
  const bootstrap = bootstrapStackName(account);
  let code = 0;
  try {
    say(
      `moto on ${emulator.endpoint}; the workloads stack's Kubernetes provider reads ${plane.kubeconfig}; ` +
        "envctl reads the cluster with its own EKS token (ENVSTACK_KUBE_AUTH=eks)",
    );
    await deploy(bootstrap, { ...base, ENVSTACK_BACKEND: "local" });
    for (const stack of ["staging", "staging-workloads", "staging-traffic"]) await deploy(stack);
    const nodes = (await plane.api("GET", "/api/v1/nodes")).body.items.length;
    const pods = (await plane.api("GET", "/api/v1/namespaces/staging/pods")).body.items.map(
      // biome-ignore lint/suspicious/noExplicitAny: Kubernetes API JSON, untyped on the wire
      (p: any) => `${p.metadata.name} (${p.status.phase} on ${p.spec.nodeName})`,
    );
    say(`the API server runs ${pods.length} pods on ${nodes} simulated nodes: ${pods.join(", ")}`);

    say(
      "envctl promote dev staging (dev's live 1.5.0 into staging's idle slot, green; the workloads stack waits for its Deployment)",
    );
    if (await envctl("promote", "dev", "staging")) throw new Error("promote failed");
    await envctl("status", "staging", "--live");
    say(
      `envctl rollout staging — its Deployment must be Ready before smoke checks and traffic; synthetic users at ${USERS_RPS} requests a second`,
    );
    const traffic = new SyntheticAlbTraffic(emulator.endpoint, "staging", "eu-west-1", account);
    const healthy = traffic.run((w) => users(w));
    const rolled = await envctl("rollout", "staging", "--rps", String(USERS_RPS), "--error-rate", "0.5");
    await healthy.stop();
    say(`rollout exit code ${rolled} (0: complete); the ALB serves ${await weights()}`);
    await envctl("status", "staging", "--live");
    code = rolled === 0 ? 0 : 1;
  } finally {
    say(`destroying staging-traffic, staging-workloads, staging and ${bootstrap}`);
    for (const stack of ["staging-traffic", "staging-workloads", "staging"])
      await run(
        cdktf,
        ["destroy", stack, "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"],
        dir,
        base,
        log,
      );
    await run(
      cdktf,
      ["destroy", bootstrap, "--auto-approve", "--skip-provider-lock"],
      dir,
      { ...base, ENVSTACK_BACKEND: "local" },
      log,
    );
    await emulator.stop();
    await plane.stop();
    smoke.close();
    log.end();
    say(`done in ${since().trim()}; engine log: ${logFile}`);
  }
  return code;
}

process.exitCode = await main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  return 1;
});
