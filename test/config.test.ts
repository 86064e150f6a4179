import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import { defineEnvironment } from "../lib/config/define.ts";
import { ConfigError } from "../lib/config/errors.ts";
import { loadProblems, REPO, tempProject, writeEnvFile } from "./support/project.ts";
import { runAsync } from "./support/run.ts";

/** An environment file deriving from dev with a JSON patch. */
function derived(name: string, patch: Record<string, unknown>, from = "dev"): string {
  return `import { defineEnvironment } from "../lib/index.ts";
import base from "./${from}.ts";
const patch = ${JSON.stringify(patch)};
export default defineEnvironment({ ...base, ...patch, name: ${JSON.stringify(name)},
  network: { ...base.network, ...(patch.network ?? {}) }, compute: { ...base.compute, ...(patch.compute ?? {}) },
  database: { ...base.database, ...(patch.database ?? {}) }, release: { ...base.release, ...(patch.release ?? {}) } } as any);
`;
}

function release(env: string, extra = {}) {
  return JSON.stringify({
    environment: env,
    live: "blue",
    slots: { blue: { version: "1.0.0", weight: 100 }, green: { version: null, weight: 0 } },
    ...extra,
  });
}

function synth(dir: string) {
  return runAsync(process.execPath, [join(REPO, "node_modules/tsx/dist/cli.mjs"), "main.ts"], {
    cwd: dir,
    env: { ...process.env, ENVSTACK_BACKEND: "local" },
  });
}

describe("environment validation", () => {
  it("defineEnvironment returns a typed environment with defaults applied", () => {
    expect(dev.network.flowLogRetentionDays).toBe(7);
    expect(dev.healthCheckPath).toBe("/health");
    expect(dev.compute.kind).toBe("ec2");
  });

  it("defineEnvironment reports every problem of one environment at once", () => {
    const bad = { ...dev, name: "qa", appPort: 80, network: { ...dev.network, cidr: "10.0.0.1/16", azCount: 5 } };
    try {
      defineEnvironment(bad as any);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as Error).message;
      expect(text).toContain("qa: appPort");
      expect(text).toContain("qa: network.cidr is not a valid IPv4 network CIDR");
      expect(text).toContain("qa: network.azCount");
    }
  });

  it("reports overlapping CIDRs, capacity order, production rules and unknown fields in one report", async () => {
    const dir = tempProject((d) => {
      writeEnvFile(
        d,
        "qa",
        derived("qa", {
          network: { cidr: "10.1.0.0/16" },
          compute: { capacity: { min: 3, desired: 2, max: 1 } },
          typo: 1,
        }),
      );
      writeFileSync(join(d, "environments/releases/qa.json"), release("qa"));
      writeEnvFile(
        d,
        "prod2",
        derived("prod2", {
          tier: "production",
          network: { cidr: "10.9.0.0/16" },
          database: { multiAz: false, deletionProtection: false },
          release: { promotesTo: [], snapshotBeforePromote: true },
          certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/x",
        }),
      );
      writeFileSync(join(d, "environments/releases/prod2.json"), release("prod2"));
    });
    const found = await loadProblems(dir);
    expect(found).toEqual(
      expect.arrayContaining([
        "qa: has unknown field(s) typo",
        "qa: compute.capacity.min must be ≤ desired (3 > 2)",
        "qa: compute.capacity.desired must be ≤ max (2 > 1)",
      ]),
    );
    // qa failed its own schema, so it is not part of the cross checks; fix it and the overlap shows.
    writeEnvFile(dir, "qa", derived("qa", { network: { cidr: "10.1.0.0/16" } }));
    const again = await loadProblems(dir);
    expect(again).toEqual(
      expect.arrayContaining([
        "qa: network.cidr 10.1.0.0/16 overlaps staging (10.1.0.0/16)",
        "prod2: database.multiAz must be true in the production tier",
        "prod2: database.deletionProtection must be true in the production tier",
        "prod2: network.natGateways must be per-az (one NAT per AZ) in the production tier",
      ]),
    );
  });

  it("rejects promotion cycles and unknown promotion targets", async () => {
    const dir = tempProject((d) => {
      const prod = readFileSync(join(d, "environments/production.ts"), "utf8").replace(
        "promotesTo: []",
        'promotesTo: ["dev", "nowhere"]',
      );
      writeFileSync(join(d, "environments/production.ts"), prod);
    });
    const found = await loadProblems(dir);
    expect(found).toContain("production: release.promotesTo[1] names unknown environment nowhere");
    expect(found.some((p) => /promotion cycle: (dev|staging|production) → .* → .*/.test(p))).toBe(true);
  });

  it("validates release files: JSON, weights, versions, environment", async () => {
    const dir = tempProject((d) => {
      writeFileSync(join(d, "environments/releases/dev.json"), "{ not json");
      writeFileSync(
        join(d, "environments/releases/staging.json"),
        release("staging", { slots: { blue: { version: "1.0.0", weight: 60 }, green: { version: null, weight: 30 } } }),
      );
      writeFileSync(join(d, "environments/releases/production.json"), release("staging"));
    });
    const found = await loadProblems(dir);
    expect(found.find((p) => p.startsWith("environments/releases/dev.json: is not valid JSON"))).toBeDefined();
    expect(found).toContain(
      "environments/releases/staging.json: slots weights must sum to 100 (blue 60 + green 30 = 90)",
    );
    expect(found).toContain(
      "environments/releases/staging.json: slots.green.version is required: the slot has weight 30",
    );
    expect(found).toContain("environments/releases/production.json: environment must be production (found staging)");
  });

  it("requires each file's environment name to match the file name", async () => {
    const dir = tempProject((d) => writeEnvFile(d, "qa", derived("qa2", { network: { cidr: "10.5.0.0/16" } })));
    expect(await loadProblems(dir)).toContain("qa: name must match its file name (environments/qa.ts defines qa2)");
  });

  it("synth of a bad project exits 1 with one report, no stack trace and nothing in cdktf.out", async () => {
    const dir = tempProject((d) => {
      writeEnvFile(d, "qa", derived("qa", { network: { cidr: "10.1.0.0/16" } }));
      writeFileSync(join(d, "environments/releases/qa.json"), release("qa"));
    });
    const r = await synth(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("qa: network.cidr 10.1.0.0/16 overlaps staging");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, "cdktf.out"))).toBe(false);
  });

  it("synth of the shipped project writes every stack", async () => {
    const dir = tempProject();
    const r = await synth(dir);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, "cdktf.out/stacks/production-traffic/cdk.tf.json"))).toBe(true);
  });
});
