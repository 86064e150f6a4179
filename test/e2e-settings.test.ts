/**
 * Settings and secrets end to end: OpenTofu + the real AWS provider deploy dev to moto once; a
 * secret value is set with envctl and found nowhere Terraform keeps anything (state, plan,
 * synthesized JSON); a settings change is staged into the idle slot, receives the traffic
 * (envctl shift) and is rolled back, and the SSM parameters on the emulator say which settings each
 * slot holds; the launch template's boot script, as the engine evaluated it, turns those parameters
 * into the container's environment. Never skipped: needs `npm run setup:engine` (CI runs it).
 */

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeLaunchTemplateVersionsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParametersByPathCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import { awsClientConfig } from "../lib/aws/clients.ts";
import { settingsText } from "../lib/config/settings.ts";
import { readWeights, users, useShortWindows } from "../lib/demo/demo.ts";
import { SyntheticAlbTraffic } from "../lib/demo/synthetic-traffic.ts";
import { stackDir } from "../lib/engine/engine.ts";
import { type SlotSettings, slotSettings } from "../lib/release/model/slots.ts";
import { slotSettingsPath } from "../lib/settings/names.ts";
import {
  ENVCTL,
  type HealthStandIn,
  healthStandIn,
  LOG,
  type LocalLoop,
  localLoop,
  rolloutUnderTraffic,
} from "./support/e2e.ts";

let loop: LocalLoop;
let smoke: HealthStandIn;
const started = Date.now();
/** A value no file, plan or state may ever contain. */
const SECRET = `e2e-${randomBytes(18).toString("base64url")}`;
const S1: SlotSettings = slotSettings(dev.app.settings);

const aws = () => awsClientConfig({ region: "eu-west-1", endpoint: loop.emulator.endpoint });
const release = () => JSON.parse(readFileSync(join(loop.dir, "environments/releases/dev.json"), "utf8"));

/** The settings parameters of one slot on the emulator, as `KEY → value`. */
async function slotParameters(slot: "blue" | "green"): Promise<Record<string, string>> {
  const ssm = new SSMClient(aws());
  const r = await ssm.send(new GetParametersByPathCommand({ Path: slotSettingsPath("webapp", "dev", slot) }));
  return Object.fromEntries(
    (r.Parameters ?? []).map((p) => [p.Name!.split("/").pop()!, p.Value!]).sort(([a], [b]) => a!.localeCompare(b!)),
  );
}

/** Every file of the playground except engine plugin directories. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isSymbolicLink() || e.name === ".terraform" || e.name === "node_modules") return [];
    if (e.isDirectory()) return files(p);
    return statSync(p).size < 50_000_000 ? [p] : [];
  });
}

beforeAll(async () => {
  smoke = await healthStandIn();
  loop = await localLoop();
  useShortWindows(loop.dir, smoke.url);
  // Precondition: blue runs 1.5.0 with dev's settings (S1), as after an earlier 'envctl stage dev'.
  const r = release();
  writeFileSync(
    join(loop.dir, "environments/releases/dev.json"),
    JSON.stringify({ ...r, slots: { ...r.slots, blue: { ...r.slots.blue, settings: S1 } } }, null, 2),
  );
  await loop.deploy("bootstrap", "dev", "dev-traffic");
}, 1_200_000);

afterAll(async () => {
  await loop?.stop();
  smoke?.close();
  process.stdout.write(`e2e-settings: ${Math.round((Date.now() - started) / 1000)} s\n`);
});

describe.sequential("settings and secrets against the engine and the emulator", () => {
  it("envctl sets a secret from stdin; its value is in Secrets Manager and nowhere else: not in the state, the plan or any file", async () => {
    // The value reaches envctl on stdin only (from the environment here, never an argument).
    const set = await loop.sh(
      "bash",
      [
        "-c",
        `printf %s "$E2E_SECRET" | ${JSON.stringify(process.execPath)} ${JSON.stringify(ENVCTL)} secret set dev SMTP_PASSWORD`,
      ],
      { E2E_SECRET: SECRET },
    );
    expect(set.out).toMatch(
      /dev: SMTP_PASSWORD set \(webapp\/dev\/SMTP_PASSWORD, version [0-9a-f-]{36}\); the value is not shown anywhere/,
    );
    expect(set.status).toBe(0);
    const sm = new SecretsManagerClient(aws());
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "webapp/dev/SMTP_PASSWORD" }))).SecretString).toBe(
      SECRET,
    );

    const list = await loop.envctl("secret", "list", "dev", "--json");
    expect(list.status).toBe(0);
    const listed = JSON.parse(list.out.slice(list.out.indexOf("{")));
    expect(listed.secrets).toEqual([
      expect.objectContaining({
        name: "SMTP_PASSWORD",
        id: "webapp/dev/SMTP_PASSWORD",
        state: "set",
        versions: 1,
        lastChanged: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      }),
    ]);

    // A plan after the value was set: nothing to change, and the value nowhere in it.
    await loop.synth();
    const d = stackDir(loop.dir, "dev");
    await loop.engine.init(d);
    const { json } = await loop.engine.planJson(d, "after-secret.tfplan");
    const changed_ = (c: any) =>
      Object.keys(c.change.after ?? {})
        .filter((k) => JSON.stringify(c.change.before?.[k]) !== JSON.stringify(c.change.after?.[k]))
        .map((k) => `${k}: ${JSON.stringify(c.change.before?.[k])} → ${JSON.stringify(c.change.after?.[k])}`);
    const changes = (json.resource_changes ?? []).filter(
      (c: any) => !c.change.actions.includes("no-op") && !c.change.actions.includes("read"),
    );
    // Nothing of the secrets and settings changes (other updates here are moto read-backs, see the log).
    const ours = /^aws_(secretsmanager_|ssm_parameter|kms_|iam_role_policy)/;
    appendFileSync(
      LOG,
      `\nplan of dev after 'secret set':\n${changes.map((c: any) => `${c.address} ${c.change.actions} ${changed_(c).join("; ")}`).join("\n")}\n`,
    );
    expect(
      changes
        .filter((c: any) => ours.test(c.type))
        .map((c: any) => `${c.address} ${c.change.actions} ${changed_(c).join("; ")}`),
    ).toEqual([]);
    expect(JSON.stringify(json)).not.toContain(SECRET);
    expect(json.planned_values.root_module.resources.map((r: any) => r.type)).toContain("aws_secretsmanager_secret");

    // The state (S3 backend on the emulator), as the engine reads it.
    const state = await loop.engine.ok(d, ["state", "pull"]);
    const parsed = JSON.parse(state.stdout);
    const types = parsed.resources.map((r: any) => r.type);
    expect(types).toEqual(
      expect.arrayContaining(["aws_secretsmanager_secret", "aws_secretsmanager_secret_policy", "aws_ssm_parameter"]),
    );
    expect(types).not.toContain("aws_secretsmanager_secret_version");
    expect(state.stdout).not.toContain(SECRET);

    // No file of the playground (synthesized JSON, release files, audit, plans, local states, logs).
    const leaked = files(loop.dir).filter((f) => readFileSync(f).includes(SECRET));
    expect(leaked).toEqual([]);
    expect(list.out + set.out).not.toContain(SECRET);
  }, 900_000);

  it("a settings change is staged into the idle slot, canaried by the rollout's analysis to 100 %, and rolled back; SSM shows what each slot holds", async () => {
    expect(await slotParameters("blue")).toEqual(settingsText(S1.values));
    expect(await slotParameters("green")).toEqual({});

    loop.edit("dev.ts", (t) =>
      t
        .replace("REQUEST_TIMEOUT_MS: 10000", "REQUEST_TIMEOUT_MS: 20000")
        .replace("FEATURE_NEW_CHECKOUT: true", "FEATURE_NEW_CHECKOUT: false"),
    );
    const S2 = slotSettings({ ...dev.app.settings, REQUEST_TIMEOUT_MS: 20000, FEATURE_NEW_CHECKOUT: false });
    const staged = await loop.envctl("stage", "dev");
    expect(staged.status, staged.out.slice(-3000)).toBe(0);
    expect(release().slots.green).toEqual({ version: "1.5.0", weight: 0, settings: S2 });
    expect(await slotParameters("green")).toEqual(settingsText(S2.values));
    expect(await slotParameters("blue")).toEqual(settingsText(S1.values)); // the live slot untouched

    // The same version with other settings is a canary like any other: judged on its metrics step by step.
    const rolled = await rolloutUnderTraffic(loop, new SyntheticAlbTraffic(loop.emulator.endpoint, "dev"), (w) =>
      users(w),
    );
    expect(rolled.status, rolled.out.slice(-3000)).toBe(0);
    expect(rolled.out).toContain(
      `dev: rollout complete: green (1.5.0, settings ${S2.checksum}) is live; 'envctl rollback dev' returns to blue (1.5.0, settings ${S1.checksum})`,
    );
    expect(await readWeights(loop.emulator.endpoint, "dev")).toEqual({ blue: 0, green: 100 });
    expect(release()).toMatchObject({ live: "green", rollout: null });
    const verdicts = readFileSync(join(loop.dir, "environments/releases/dev.audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((a) => a.outcome === "analysis")
      .map((a) => [a.analysis.percent, a.analysis.verdict]);
    expect(verdicts).toEqual([
      [50, "pass"],
      [100, "pass"],
    ]);

    const back = await loop.envctl("rollback", "dev");
    expect(back.status, back.out.slice(-3000)).toBe(0);
    expect(await readWeights(loop.emulator.endpoint, "dev")).toEqual({ blue: 100, green: 0 });
    expect(release()).toMatchObject({
      live: "blue",
      slots: {
        blue: { version: "1.5.0", weight: 100, settings: S1 },
        green: { version: "1.5.0", weight: 0, settings: S2 },
      },
    });
    // Rollback moved traffic only: each slot still holds the settings it was promoted with.
    expect(await slotParameters("blue")).toEqual(settingsText(S1.values));
    expect(await slotParameters("green")).toEqual(settingsText(S2.values));

    const show = await loop.envctl("config", "show", "dev", "--slot", "green");
    expect(show.status).toBe(0);
    expect(show.out).toContain(`dev green: 1.5.0, settings ${S2.checksum}`);
    expect(show.out).toMatch(/SMTP_PASSWORD\s+set\s+\d{4}-/);
  }, 900_000);

  it("the boot script of the green launch template, as the engine wrote it, puts exactly the slot's parameters into the container's environment", async () => {
    const ec2 = new EC2Client(aws());
    // the slot's one template; its latest version is the one the release file's settings made
    const v = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: "dev-app-green", Versions: ["$Latest"] }),
    );
    const script = Buffer.from(v.LaunchTemplateVersions![0]!.LaunchTemplateData!.UserData!, "base64").toString("utf8");
    const ssm = new SSMClient(aws());
    const listing = async (path: string) =>
      ((await ssm.send(new GetParametersByPathCommand({ Path: path }))).Parameters ?? [])
        .map((p) => `${p.Name}\t${p.Value}\n`)
        .join("");
    const answers = {
      "/webapp/dev/slots/green/": await listing("/webapp/dev/slots/green/"),
      "/webapp/dev/secrets/": await listing("/webapp/dev/secrets/"),
    };

    const dir = mkdtempSync(join(tmpdir(), "envstack-boot-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    for (const [path, text] of Object.entries(answers)) writeFileSync(join(dir, path.replaceAll("/", "_")), text);
    const fake = (n: string, body: string) => {
      writeFileSync(join(bin, n), `#!/bin/bash\necho "${n} $*" >> ${dir}/calls\n${body}\n`);
      chmodSync(join(bin, n), 0o755);
    };
    for (const n of ["dnf", "systemctl", "docker"]) fake(n, "");
    // `aws ssm get-parameters-by-path ... --path P ...` answers what the emulator holds under P.
    fake(
      "aws",
      `while [ $# -gt 0 ]; do if [ "$1" = --path ]; then cat "${dir}/$(echo "$2" | tr / _)"; fi; shift; done`,
    );
    const env = join(dir, "app.env");
    const r = spawnSync("bash", ["-c", script.replaceAll("/etc/app.env", env)], {
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const S2 = release().slots.green.settings as SlotSettings;
    const expected = Object.entries(settingsText(S2.values)).map(([k, val]) => `${k}=${val}`);
    const written = readFileSync(env, "utf8").trim().split("\n");
    expect(written.filter((l) => !l.includes("_SECRET_ARN=")).sort()).toEqual(expected.sort());
    expect(written.filter((l) => l.includes("_SECRET_ARN="))).toEqual([
      expect.stringMatching(
        /^SMTP_PASSWORD_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:\d{12}:secret:webapp\/dev\/SMTP_PASSWORD-\w+$/,
      ),
    ]);
    expect(readFileSync(join(dir, "calls"), "utf8")).toContain(`-e APP_SETTINGS_CHECKSUM=${S2.checksum}`);
  }, 300_000);
});
