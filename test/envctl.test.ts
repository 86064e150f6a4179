import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EngineDeployer } from "../lib/deploy/runner.ts";
import { sandbox } from "./support/envctl.ts";

/** Adds `qa`, an EC2 environment dev promotes into, beside the shipped (EKS) staging. */
function withQa(dir: string) {
  writeFileSync(
    join(dir, "environments/qa.ts"),
    `import { defineEnvironment } from "../lib/index.ts";
import dev from "./dev.ts";
export default defineEnvironment({ ...dev, name: "qa", account: { id: "444444444444", deployRoleArn: "arn:aws:iam::444444444444:role/envstack-deploy" }, domain: "qa.webapp.example.com", network: { ...dev.network, cidr: "10.9.0.0/16" }, release: { ...dev.release, promotesTo: [] } });
`,
  );
  writeFileSync(
    join(dir, "environments/releases/qa.json"),
    JSON.stringify({
      environment: "qa",
      live: "blue",
      slots: { blue: { version: "1.4.0", weight: 100 }, green: { version: null, weight: 0 } },
    }),
  );
  const devFile = join(dir, "environments/dev.ts");
  writeFileSync(
    devFile,
    readFileSync(devFile, "utf8").replace('promotesTo: ["staging"]', 'promotesTo: ["staging", "qa"]'),
  );
}

/** Puts dev's 1.5.0 live in staging without deploying, so staging can promote it onwards. */
async function stagingRuns150(s: ReturnType<typeof sandbox>) {
  expect((await s.run(["promote", "dev", "staging", "--no-deploy"])).status).toBe(0);
  expect((await s.run(["shift", "staging", "--to", "green", "--percent", "100", "--no-deploy"])).status).toBe(0);
}

describe("envctl (subprocess, stand-in engine)", () => {
  it("status shows live slot, versions, weights and last change; --json for machines", async () => {
    const s = sandbox();
    const text = await s.run(["status"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/production \(production\)\s+live: blue/);
    const json = JSON.parse((await s.run(["status", "dev", "--json"])).stdout);
    expect(json).toMatchObject({
      environment: "dev",
      live: "blue",
      slots: { blue: { version: "1.5.0", weight: 100 }, green: { version: null, weight: 0 } },
      rollout: null,
    });
  });

  it("promote into an EC2 environment deploys its infrastructure stack (slot versions live there)", async () => {
    const s = sandbox(withQa);
    const r = await s.run(["promote", "dev", "qa"]);
    expect(r.status).toBe(0);
    expect(s.calls()).toEqual([`deploy qa`]);
    // the slot carries qa's own settings (the target's values), with their checksum
    expect(s.release("qa").slots.green).toEqual({
      version: "1.5.0",
      weight: 0,
      settings: {
        checksum: expect.stringMatching(/^[0-9a-f]{16}$/),
        values: expect.objectContaining({ PUBLIC_BASE_URL: "http://dev.webapp.example.com", SMTP_PORT: 1025 }),
      },
    });
  });

  it("promote into an EKS environment puts the version in the idle slot at 0 % and deploys the workloads stack", async () => {
    const s = sandbox();
    const r = await s.run(["promote", "dev", "staging"]);
    expect(r.stderr).toContain("deploy staging-workloads");
    expect(r.status).toBe(0);
    expect(s.release("staging").slots).toEqual({
      blue: { version: "1.4.2", weight: 100 },
      green: {
        version: "1.5.0",
        weight: 0,
        settings: expect.objectContaining({
          values: expect.objectContaining({ PUBLIC_BASE_URL: "https://staging.webapp.example.com" }),
        }),
      },
    });
    expect(s.release("staging").pending).toBeNull();
    expect(s.calls()).toEqual([`deploy staging-workloads`]);
    // the deploy is recorded when it starts and when it succeeded, each record naming the whole change
    expect(s.audit("staging").map((a) => [a.seq, a.outcome])).toEqual([
      [1, "deploying"],
      [2, "deployed"],
    ]);
    const entry = s.audit("staging")[1];
    expect(entry).toMatchObject({
      environment: "staging",
      by: "tester",
      command: "envctl promote dev staging",
      outcome: "deployed",
    });
    expect(entry.from.slots.green.version).toBeNull();
    expect(entry.to.slots.green.version).toBe("1.5.0");
  });

  it("the deploy runner synthesizes first and runs the engine only when synthesis succeeded", async () => {
    const s = sandbox();
    const env = { ...process.env, PATH: `${join(s.dir, ".stub")}:${process.env.PATH}` };
    const lines: string[] = [];
    const failing = new EngineDeployer(s.dir, env, () =>
      Promise.reject(new Error("qa: network.cidr overlaps staging")),
    );
    await expect(failing.deploy(["dev", "dev-traffic"], (l) => lines.push(l))).rejects.toThrow(
      "synthesis before 'deploy dev dev-traffic' failed, nothing was deployed:\nqa: network.cidr overlaps staging",
    );
    expect(s.calls()).toEqual([]);
    let synthesized = 0;
    const ok = new EngineDeployer(s.dir, { ...env, TERRAFORM_BINARY_NAME: "stub-engine" }, async () => {
      synthesized++;
      for (const stack of ["dev", "dev-traffic"]) {
        mkdirSync(join(s.dir, "cdktf.out/stacks", stack), { recursive: true });
        writeFileSync(join(s.dir, "cdktf.out/stacks", stack, "cdk.tf.json"), "{}");
      }
    });
    await ok.deploy(["dev", "dev-traffic"], (l) => lines.push(l));
    expect(synthesized).toBe(1);
    expect(s.calls()).toEqual([`deploy dev`, `deploy dev-traffic`]);
    // the story only: the plan's summary and the timing; the engine's own lines go to the stack's log
    expect(lines).toContain("dev-traffic: Plan: 0 to add, 1 to change, 0 to destroy.");
    expect(lines.some((l) => /stand-in engine/.test(l))).toBe(false);
    expect(readFileSync(join(s.dir, ".envstack/logs/dev-traffic.log"), "utf8")).toMatch(
      /\$ stub-engine apply -auto-approve -input=false -no-color\nstand-in engine: apply -auto-approve/,
    );
  });

  it("the deploy runner runs init only when what init depends on changed, and refuses a type the engine's provider lacks", async () => {
    const s = sandbox();
    // a stand-in engine that writes a lock file on init and records which commands ran where
    const engine = join(s.dir, ".stub", "lock-engine");
    writeFileSync(
      engine,
      `#!/bin/sh\necho "$1 $(basename "$PWD") $TF_DATA_DIR" >> "${join(s.dir, "engine.log")}"\n[ "$1" = init ] && echo 'provider "x" {}' > .terraform.lock.hcl\nexit 0\n`,
    );
    chmodSync(engine, 0o755);
    const stack =
      (backend: object, extra: object = {}) =>
      async () => {
        mkdirSync(join(s.dir, "cdktf.out/stacks/dev-traffic"), { recursive: true });
        writeFileSync(
          join(s.dir, "cdktf.out/stacks/dev-traffic/cdk.tf.json"),
          JSON.stringify({ terraform: { backend }, ...extra }),
        );
      };
    const env = { ...process.env, TERRAFORM_BINARY_NAME: engine, ENVSTACK_ENGINE_MANIFEST: "" };
    const ran = () =>
      readFileSync(join(s.dir, "engine.log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" ").slice(0, 2).join(" "));
    const s3 = { s3: { bucket: "b", key: "dev-traffic" } };
    await new EngineDeployer(s.dir, env, stack(s3)).deploy(["dev-traffic"], () => undefined);
    await new EngineDeployer(s.dir, env, stack(s3)).deploy(["dev-traffic"], () => undefined);
    expect(ran()).toEqual(["init dev-traffic", "apply dev-traffic", "apply dev-traffic"]);
    // the lock file is put back beside the freshly synthesized stack; the data directory is outside cdktf.out
    expect(readFileSync(join(s.dir, "cdktf.out/stacks/dev-traffic/.terraform.lock.hcl"), "utf8")).toContain(
      'provider "x"',
    );
    expect(readFileSync(join(s.dir, "engine.log"), "utf8")).toContain(join(s.dir, ".envstack/tf/dev-traffic"));
    // another backend: init again, in a fresh data directory
    await new EngineDeployer(s.dir, env, stack({ s3: { bucket: "other", key: "dev-traffic" } })).deploy(
      ["dev-traffic"],
      () => undefined,
    );
    expect(ran().slice(3)).toEqual(["init dev-traffic", "apply dev-traffic"]);

    // a trimmed engine that does not serve a type of the stack: refused before the engine runs
    const manifest = join(s.dir, "manifest.json");
    writeFileSync(
      manifest,
      JSON.stringify({ awsProvider: { build: "trimmed", servedTypes: ["aws_lb_listener_rule"] } }),
    );
    const refused = new EngineDeployer(
      s.dir,
      { ...env, ENVSTACK_ENGINE_MANIFEST: manifest },
      stack(s3, { resource: { aws_lb_listener_rule: {}, aws_sagemaker_domain: {} } }),
    );
    await expect(refused.deploy(["dev-traffic"], () => undefined)).rejects.toThrow(
      /stack dev-traffic uses aws_sagemaker_domain, which the local engine's trimmed AWS provider does not serve/,
    );
    expect(ran()).toHaveLength(5);
  });

  it("shift deploys only the traffic stack; rollback returns to 100 % on the live slot", async () => {
    const s = sandbox();
    await s.run(["promote", "dev", "staging"]);
    const shifted = await s.run(["shift", "staging", "--to", "green", "--percent", "25"]);
    expect(shifted.status).toBe(0);
    expect(s.release("staging").slots).toMatchObject({ blue: { weight: 75 }, green: { weight: 25 } });
    expect(s.calls().at(-1)).toBe(`deploy staging-traffic`);
    // cdktf deploys with --skip-synth what envctl synthesized just before: the new weights
    const traffic = JSON.parse(readFileSync(join(s.dir, "cdktf.out/stacks/staging-traffic/cdk.tf.json"), "utf8"));
    const [rule] = Object.values(traffic.resource.aws_lb_listener_rule) as any[];
    expect(rule.action[0].forward.target_group.map((g: { weight: number }) => g.weight)).toEqual([75, 25]);
    expect((await s.run(["rollback", "staging"])).status).toBe(0);
    expect(s.release("staging")).toMatchObject({
      live: "blue",
      slots: { blue: { weight: 100 }, green: { weight: 0, version: "1.5.0" } },
    });
    expect(
      s
        .audit("staging")
        .map((a) => a.outcome)
        .filter((o) => o !== "deploying"),
    ).toEqual(["deployed", "deployed", "rolled-back"]);
  });

  it("--no-deploy only edits the file; --dry-run shows the diff and changes nothing", async () => {
    const s = sandbox();
    const before = s.releaseText("dev");
    const dry = await s.run(["stage", "dev", "--version", "1.6.0", "--dry-run"]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain("--- environments/releases/dev.json");
    expect(dry.stdout).toContain('+      "version": "1.6.0",');
    expect(dry.stdout).toContain("would deploy: dev");
    expect(s.releaseText("dev")).toBe(before);
    const noop = await s.run(["shift", "dev", "--to", "blue", "--percent", "100"]);
    expect(noop.status).toBe(0);
    expect(noop.stderr).toContain("dev: nothing to change");
    expect(s.releaseText("dev")).toBe(before);
    await stagingRuns150(s);
    const edited = await s.run(["promote", "staging", "production", "--no-deploy"]);
    expect(edited.status).toBe(0);
    expect(edited.stderr).toContain(
      "production takes a database snapshot before promotion; the pipeline deploying this change takes it ('envctl snapshot production')",
    );
    expect(s.calls()).toEqual([]);
    expect(s.release("production").slots.green).toEqual({
      version: "1.5.0",
      weight: 0,
      settings: expect.objectContaining({
        values: expect.objectContaining({ PUBLIC_BASE_URL: "https://webapp.example.com", FEATURE_NEW_CHECKOUT: false }),
      }),
    });
    expect(s.audit("production").map((a) => a.outcome)).toEqual(["edited"]);
  });

  it("refuses bad input with a clear message, exit 1, files untouched and nothing deployed", async () => {
    const s = sandbox();
    const texts = () => ["dev", "staging", "production"].map((e) => s.releaseText(e));
    const before = texts();
    const cases: [string[], RegExp][] = [
      [["shift", "qa", "--to", "green", "--percent", "10"], /unknown environment qa/],
      [["shift", "dev", "--to", "purple", "--percent", "10"], /shift: --to must be blue or green/],
      [["shift", "dev", "--to", "green", "--percent", "101"], /shift: --percent must be 0-100/],
      [["shift", "dev", "--to", "green", "--percent", "10"], /slot green has no version/],
      [
        ["promote", "dev", "production"],
        /dev → production is not on the promotion graph \(dev promotes into staging\)/,
      ],
      [["promote", "production", "staging"], /rollback path only: pass --rollback/],
      [["promote", "dev", "staging", "--version", "0.0.1"], /dev never ran version 0.0.1/],
      [["rollback", "dev"], /nothing to roll back to/],
      [["abort", "dev"], /no rollout in progress/],
      [["frobnicate"], /unknown command/],
    ];
    for (const [args, message] of cases) {
      const r = await s.run(args);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(texts()).toEqual(before);
    expect(s.calls()).toEqual([]);
  });

  it("refuses a hand-edited release file naming the file and field", async () => {
    const s = sandbox((d) => {
      writeFileSync(
        join(d, "environments/releases/staging.json"),
        JSON.stringify({
          environment: "staging",
          live: "blue",
          slots: { blue: { version: "1.0.0", weight: 90 }, green: { version: "1.1.0", weight: 20 } },
        }),
      );
    });
    const r = await s.run(["shift", "staging", "--to", "blue", "--percent", "100"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "environments/releases/staging.json: slots weights must sum to 100 (blue 90 + green 20 = 110)",
    );
    // another environment's command goes through, warning about the broken file
    const other = await s.run(["shift", "dev", "--to", "blue", "--percent", "100"]);
    expect(other.status).toBe(0);
    expect(other.stderr).toContain(
      "environments/releases/staging.json: slots weights must sum to 100 (blue 90 + green 20 = 110)",
    );
    const broken = sandbox((d) => writeFileSync(join(d, "environments/releases/dev.json"), "{ oops"));
    const b = await broken.run(["status"]);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/environments\/releases\/dev.json: is not valid JSON/);
  });

  it("a failed deploy marks the file pending; later commands refuse until reconcile", async () => {
    const s = sandbox();
    const failed = await s.run(["promote", "dev", "staging"], { ENGINE_STUB_EXIT: "3" });
    expect(failed.status).toBe(4);
    expect(failed.stderr).toMatch(/deploy of staging-workloads failed \(exit 3\)/);
    // the engine's error, and where its whole output is
    expect(failed.stderr).toContain("Error: stand-in failure");
    expect(failed.stderr).toMatch(/full output: .*\.envstack\/logs\/staging-workloads\.log/);
    expect(failed.stderr).toContain("envctl reconcile staging");
    const pending = s.release("staging").pending;
    expect(pending).toMatchObject({ stacks: ["staging-workloads"], command: "envctl promote dev staging" });
    expect(pending.previous.slots.green.version).toBeNull();
    expect(s.audit("staging").map((a) => a.outcome)).toEqual(["deploying", "deploy-failed"]);
    expect((await s.run(["status", "staging"])).stdout).toContain("PENDING");

    const refused = await s.run(["shift", "staging", "--to", "green", "--percent", "10"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("did not finish; run 'envctl reconcile staging' first");

    const reverted = await s.run(["reconcile", "staging", "--revert"]);
    expect(reverted.status).toBe(0);
    expect(s.release("staging")).toMatchObject({ pending: null, slots: { green: { version: null } } });
    expect(s.calls().at(-1)).toBe(`deploy staging-workloads`);
  });

  it("production changes need two recorded approvals by others than the author (--yes is none), then --yes off a terminal", async () => {
    const s = sandbox();
    await stagingRuns150(s);
    await s.run(["promote", "staging", "production", "--no-deploy"]);
    const shift = ["shift", "production", "--to", "green", "--percent", "10"];
    // --yes answers the prompt; it never counts as an approval. The refusal names the change's id.
    const refused = await s.run([...shift, "--yes"], { AWS_ACCESS_KEY_ID: "carol" });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      "needs 2 approval(s) from someone other than the author arn:aws:iam::999999999999:user/carol; has 0",
    );
    const id = /change ([0-9a-f]{16}) needs/.exec(refused.stderr)![1]!;
    expect(refused.stderr).toContain(`envctl approve production ${id}`);
    expect(s.calls()).toEqual([]);
    expect(s.release("production").slots.green.weight).toBe(0);
    // The author cannot approve their own change; an unknown change cannot be approved.
    const own = await s.run(["approve", "production", id], { AWS_ACCESS_KEY_ID: "carol" });
    expect(own.status).toBe(1);
    expect(own.stderr).toContain(
      "arn:aws:iam::999999999999:user/carol is the change's author: this approval would not count; nothing was recorded",
    );
    expect(
      (await s.run(["approve", "production", "0123456789abcdef"], { AWS_ACCESS_KEY_ID: "alice" })).stderr,
    ).toContain("no change 0123456789abcdef waits for approval in production");
    // One approver is too few.
    const alice = await s.run(["approve", "production", id], { AWS_ACCESS_KEY_ID: "alice" });
    expect(alice.status).toBe(0);
    expect(alice.stdout).toContain("approved as arn:aws:iam::999999999999:user/alice: needs 2 approval(s)");
    expect(alice.stdout).toContain("has 1 (arn:aws:iam::999999999999:user/alice)");
    const again = await s.run([...shift, "--yes"], { AWS_ACCESS_KEY_ID: "carol" });
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`change ${id} needs 2 approval(s)`);
    // Approving twice counts once.
    await s.run(["approve", "production", id], { AWS_ACCESS_KEY_ID: "alice" });
    expect((await s.run([...shift, "--yes"], { AWS_ACCESS_KEY_ID: "carol" })).status).toBe(1);
    expect((await s.run(["approve", "production", id], { AWS_ACCESS_KEY_ID: "bob" })).stdout).toContain(
      "approved by arn:aws:iam::999999999999:user/alice, arn:aws:iam::999999999999:user/bob; the author can now run the command again",
    );
    // Approved: off a terminal it still needs --yes (the prompt), then it goes through.
    const prompt = await s.run(shift, { AWS_ACCESS_KEY_ID: "carol" });
    expect(prompt.status).toBe(1);
    expect(prompt.stderr).toContain("pass --yes to confirm");
    expect(s.release("production").slots.green.weight).toBe(0);
    expect((await s.run([...shift, "--yes"], { AWS_ACCESS_KEY_ID: "carol" })).status).toBe(0);
    expect(s.release("production").slots.green.weight).toBe(10);
    expect(s.calls()).toEqual(["deploy production-traffic"]);
    // The history says who approved the change.
    const notes = s.audit("production").filter((x) => x.kind === "approval");
    expect(notes.at(-1)).toMatchObject({
      changeId: id,
      author: "arn:aws:iam::999999999999:user/carol",
      approvers: ["arn:aws:iam::999999999999:user/alice", "arn:aws:iam::999999999999:user/bob"],
      source: "envctl approve",
    });
    // The approvals were for that change: the next one (the file moved on) needs its own.
    const next = await s.run(["shift", "production", "--to", "green", "--percent", "20", "--yes"], {
      AWS_ACCESS_KEY_ID: "carol",
    });
    expect(next.status).toBe(1);
    expect(next.stderr).toContain("has 0");
  });

  it("refuses a change with another account's credentials, naming both accounts, before anything is written", async () => {
    // dev has no deploy role here: the credentials are used as they are, and they are production's.
    const s = sandbox((d) => {
      const f = join(d, "environments/dev.ts");
      writeFileSync(
        f,
        readFileSync(f, "utf8").replace(
          "account: accounts.dev,",
          'account: { id: "123456789012", hostsGlobal: true },',
        ),
      );
    });
    const before = s.releaseText("dev");
    const r = await s.run(["stage", "dev", "--version", "1.6.0"], { AWS_ACCESS_KEY_ID: "333333333333" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "refusing to change dev: it deploys into account 123456789012, but the credentials are of account 333333333333 (arn:aws:iam::333333333333:user/333333333333). Nothing was changed.",
    );
    expect(s.calls()).toEqual([]);
    expect(s.releaseText("dev")).toBe(before);
    expect((await s.run(["stage", "dev", "--version", "1.6.0"], { AWS_ACCESS_KEY_ID: "123456789012" })).status).toBe(0);
    expect(s.calls()).toEqual(["deploy dev"]);
  });

  it("diff shows a side-by-side matrix with differences marked", async () => {
    const s = sandbox();
    const r = await s.run(["diff", "staging", "production"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/≠ tier\s+staging\s+production/);
    expect(r.stdout).toMatch(/≠ database\s+db\.t3\.small, 50 GB, single-AZ\s+db\.t3\.medium, 100 GB, multi-AZ/);
    expect(r.stdout).toMatch(/ {2}region\s+eu-west-1\s+eu-west-1/);
    const json = JSON.parse((await s.run(["diff", "dev", "staging", "--json"])).stdout);
    expect(json.rows.find((x: any) => x.aspect === "TLS")).toEqual({
      aspect: "TLS",
      values: ["HTTP only", "HTTPS (TLS 1.2+)"],
      differs: true,
    });
  });
});

describe("envctl parallel writers", () => {
  it("never loses an update: the second waits for the lock (--wait)", async () => {
    const s = sandbox();
    await s.run(["promote", "dev", "staging"]);
    const [a, b] = await Promise.all([
      s.spawn(["shift", "staging", "--to", "green", "--percent", "10", "--wait", "30"], { ENGINE_STUB_SLEEP: "1" }),
      s.spawn(["shift", "staging", "--to", "green", "--percent", "20", "--wait", "30"], { ENGINE_STUB_SLEEP: "1" }),
    ]);
    expect([a.status, b.status]).toEqual([0, 0]);
    const audit = s
      .audit("staging")
      .filter((a) => a.outcome === "deployed")
      .slice(1);
    expect(audit).toHaveLength(2);
    // Each change starts from the state the other one left: no lost update.
    expect(audit[1].from.slots.green.weight).toBe(audit[0].to.slots.green.weight);
    expect(s.release("staging").slots.green.weight).toBe(audit[1].to.slots.green.weight);
  });

  it("fails the second writer with a clear message when it may not wait", async () => {
    const s = sandbox();
    await s.run(["promote", "dev", "staging"]);
    const slow = s.spawn(["shift", "staging", "--to", "green", "--percent", "10"], { ENGINE_STUB_SLEEP: "3" });
    await new Promise((r) => setTimeout(r, 1500));
    const second = await s.run(["shift", "staging", "--to", "green", "--percent", "20"]);
    expect(second.status).toBe(5);
    expect(second.stderr).toContain("staging is locked by another envctl");
    expect((await slow).status).toBe(0);
    expect(s.release("staging").slots.green.weight).toBe(10);
  });
});
