/**
 * checkov (pinned in lib/engine/versions.env, installed by `npm run setup:engine`) over every
 * synthesized stack. Exceptions live at the resource (lib/policy/checkov-skip.ts), each with a
 * reason; a global skip list is never passed. Needs the setup; never skipped.
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { App, TerraformStack } from "cdktf";
import { beforeAll, describe, expect, it } from "vitest";
import { formatScan, type StackScan, scanStacks } from "../lib/policy/checkov.ts";
import { checkSkips, skipCheck } from "../lib/policy/checkov-skip.ts";
import { localBackend, synthRepo } from "./support/project.ts";

/** Stacks that must be clean: no failed check, every exception justified at its resource. */
const STRICT = [
  "bootstrap-123456789012",
  "bootstrap-222222222222",
  "bootstrap-333333333333",
  "staging",
  "staging-traffic",
  "staging-workloads",
  "production",
  "production-traffic",
  "production-workloads",
];

describe("checkov over every synthesized stack", () => {
  let scans: StackScan[];
  let outdir: string;
  beforeAll(async () => {
    const s = await synthRepo({ target: localBackend });
    outdir = s.outdir;
    const started = Date.now();
    scans = await scanStacks(outdir);
    console.log(
      `checkov ${((Date.now() - started) / 1000).toFixed(1)} s over ${scans.length} stacks\n${formatScan(scans)}`,
    );
    for (const s of scans) {
      for (const f of s.failed) console.log(`FAILED ${s.stack}: ${f.check} ${f.path} (${f.name})`);
      for (const x of s.stale) console.log(`STALE ${s.stack}: ${x.check} at ${x.path} (${x.why})`);
    }
  }, 300_000);

  it("scans every stack", () => {
    expect(scans.map((s) => s.stack)).toEqual(expect.arrayContaining([...STRICT, "dev", "dev-traffic", "global"]));
    expect(scans.find((s) => s.stack === "production")!.passed).toBeGreaterThan(100);
  });

  it.each(STRICT)("%s: 0 failed checks", (stack) => {
    const scan = scans.find((s) => s.stack === stack)!;
    expect(scan.failed.map((f) => `${f.check} ${f.path}: ${f.name}`)).toEqual([]);
  });

  it("dev: 0 failed checks (its cost-driven exceptions are skips with a reason, like every other)", () => {
    const scan = scans.find((s) => s.stack === "dev")!;
    expect(scan.failed.map((f) => `${f.check} ${f.path}: ${f.name}`)).toEqual([]);
  });

  it("every exception is used: none names a check that passes or does not run at its resource", () => {
    expect(scans.flatMap((s) => s.stale.map((x) => `${x.stack}: ${x.check} at ${x.path} (${x.why})`))).toEqual([]);
  });

  it("every skipped result carries a one-line reason", () => {
    const skipped = scans.flatMap((s) => s.skipped);
    expect(skipped.length).toBeGreaterThan(0);
    for (const s of skipped) expect(s.reason).toMatch(/^\S[^\n]{9,}$/);
  });
});

describe("resource-level exceptions", () => {
  it("are written into the resource's cdktf comment block and applied to checkov's results; unused ones are reported", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "envstack-checkov-"));
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "fixture");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    const logged = new S3Bucket(stack, "plain", { bucket: "fixture-plain" });
    skipCheck(logged, "CKV_AWS_18", "fixture: access logging is not the point here");
    // Versioned: CKV_AWS_21 passes, so an exception for it is stale.
    const versioned = new S3Bucket(stack, "versioned", { bucket: "fixture-versioned" });
    new S3BucketVersioningA(stack, "versioning", {
      bucket: versioned.id,
      versioningConfiguration: { status: "Enabled" },
    });
    skipCheck(versioned, "CKV_AWS_21", "fixture: stale exception");
    app.synth();

    expect(checkSkips(logged)).toEqual([
      { id: "CKV_AWS_18", comment: "fixture: access logging is not the point here" },
    ]);
    const [scan] = await scanStacks(outdir);
    expect(scan!.stack).toBe("fixture");
    expect(scan!.skipped.map((s) => [s.check, s.path, s.reason])).toEqual([
      ["CKV_AWS_18", "fixture/plain", "fixture: access logging is not the point here"],
    ]);
    expect(scan!.failed.map((f) => `${f.check} ${f.path}`)).toContain("CKV_AWS_18 fixture/versioned");
    expect(scan!.stale).toEqual([
      {
        stack: "fixture",
        address: expect.stringMatching(/^aws_s3_bucket\.versioned/),
        path: "fixture/versioned",
        check: "CKV_AWS_21",
        why: "passes",
      },
    ]);
  }, 120_000);

  it("refuse an id that is not a checkov check, an empty or multi-line reason, and a duplicate", () => {
    const stack = new TerraformStack(new App({ outdir: mkdtempSync(join(tmpdir(), "envstack-checkov-")) }), "s");
    const b = new S3Bucket(stack, "b", {});
    expect(() => skipCheck(b, "S3_LOGGING", "x")).toThrow(/not a checkov check id/);
    expect(() => skipCheck(b, "CKV_AWS_18", " ")).toThrow(/one non-empty line/);
    expect(() => skipCheck(b, "CKV_AWS_18", "a\nb")).toThrow(/one non-empty line/);
    skipCheck(b, "CKV_AWS_18", "reason");
    expect(() => skipCheck(b, "CKV_AWS_18", "again")).toThrow(/already skipped/);
  });
});
