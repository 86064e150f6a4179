/** Issue 12: nothing bad gets in. Schema rules, load errors, focused loading, strict CLI numbers. */

import { existsSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import staging from "../environments/staging.ts";
import { intArg, PercentArg, WaitArg } from "../lib/cli/args.ts";
import { fileSystemError } from "../lib/cli/envctl.ts";
import { EKS_VERSIONS } from "../lib/config/catalogue.ts";
import { ConfigError, formatWarnings } from "../lib/config/errors.ts";
import { lineAndColumn, parseJson, syntaxErrorOffset } from "../lib/config/json.ts";
import { loadProject } from "../lib/config/load.ts";
import type { EnvironmentInput } from "../lib/config/schema.ts";
import { findTemplateSequences } from "../lib/config/template.ts";
import { inProcessCli, STACK_TRACE, treeDigest } from "./support/cli.ts";
import { problemsOf, tempProject, writeEnvFile } from "./support/project.ts";

/** dev's data with a deep patch applied (objects merged, anything else replaced). */
function variant(patch: Record<string, unknown>, from: object = dev): EnvironmentInput {
  const merge = (a: any, b: any): any => {
    if (
      typeof a !== "object" ||
      a === null ||
      Array.isArray(a) ||
      typeof b !== "object" ||
      b === null ||
      Array.isArray(b)
    )
      return b;
    const out: any = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = v === undefined ? undefined : merge(a[k], v);
    return out;
  };
  return merge(structuredClone({ ...from, name: "qa" }), patch);
}

async function loadProblems(dir: string, focus?: string[]): Promise<string[]> {
  try {
    await loadProject(dir, focus ? { focus } : {});
  } catch (err) {
    if (err instanceof ConfigError)
      return err.message
        .split("\n")
        .slice(1)
        .map((l) => l.replace(/^ {2}- /, ""));
    throw err;
  }
  return [];
}

describe("environment schema: strict, bounded, catalogued", () => {
  it("the shipped environments pass", () => {
    expect(problemsOf(dev)).toEqual([]);
    expect(problemsOf(staging)).toEqual([]);
  });

  it("refuses unknown keys at every depth, compute.capacity included", () => {
    const found = problemsOf(
      variant({
        compute: { capacity: { min: 1, desired: 1, max: 2, maximum: 3 } },
        database: { iops: 3000 },
        monitoring: { thresholds: { p50: 1 } },
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        "qa: compute.capacity has unknown field(s) maximum",
        "qa: database has unknown field(s) iops",
        "qa: monitoring.thresholds has unknown field(s) p50",
      ]),
    );
  });

  it("bounds sizes by AWS's limits (or a stated project limit): no fleet of 1e9 instances", () => {
    const found = problemsOf(
      variant({
        compute: { capacity: { min: 1, desired: 1, max: 1e9 } },
        database: { allocatedStorageGb: 70000, backupRetentionDays: 36 },
        cache: { replicas: 6 },
        network: { flowLogRetentionDays: 8 },
        release: { canary: [{ percent: 100, bakeSeconds: 1e7 }] },
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        "qa: compute.capacity.max must be at most 100 (project limit; EC2 Auto Scaling has no per-group maximum)",
        "qa: database.allocatedStorageGb must be at most 65536 GB (RDS gp3 maximum, 64 TiB)",
        "qa: database.backupRetentionDays Too big: expected number to be <=35",
        "qa: cache.replicas Too big: expected number to be <=5",
        expect.stringMatching(
          /^qa: network.flowLogRetentionDays must be a CloudWatch Logs retention period: 1, 3, 5, 7, 14/,
        ),
        "qa: release.canary[0].bakeSeconds Too big: expected number to be <=86400",
      ]),
    );
  });

  it("checks instance, node-group, database and cache types against the one catalogue, naming near matches", () => {
    const found = problemsOf(
      variant({
        compute: { instanceType: "t3.mirco" },
        database: { instanceClass: "db.t3.mediun" },
        cache: { nodeType: "cache.t3.smal" },
      }),
    );
    expect(found.find((p) => p.startsWith("qa: compute.instanceType"))).toMatch(
      /is not a known EC2 instance type: "t3\.mirco" \(nearest: t3\.micro,/,
    );
    expect(found.find((p) => p.startsWith("qa: database.instanceClass"))).toMatch(
      /is not a known RDS instance class: "db\.t3\.mediun" \(nearest: db\.t3\.medium,/,
    );
    expect(found.find((p) => p.startsWith("qa: cache.nodeType"))).toMatch(
      /is not a known ElastiCache node type: "cache\.t3\.smal" \(nearest: cache\.t3\.small,.*lib\/cost\/prices\.ts/,
    );
    const eks = problemsOf(
      variant(
        {
          compute: {
            nodeGroups: [
              {
                name: "general",
                instanceTypes: ["t3.medium", "m6g.large"],
                capacity: { min: 1, desired: 1, max: 500 },
              },
            ],
          },
        },
        staging,
      ),
    );
    expect(eks).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^qa: compute\.nodeGroups\[0\]\.instanceTypes\[1\] is not a known EC2 instance type: "m6g\.large"/,
        ),
        "qa: compute.nodeGroups[0].capacity.max must be at most 450 (Amazon EKS quota: nodes per managed node group)",
      ]),
    );
  });

  it("checks engine versions against the supported lists (EKS keeps 1.32-1.35)", () => {
    const found = problemsOf(variant({ database: { engineVersion: "16.4" }, cache: { engineVersion: "7.9" } }));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^qa: database\.engineVersion is not an RDS for PostgreSQL version AWS supports: "16\.4" \(supported as of 2026-11-01: 14, /,
        ),
        expect.stringMatching(/^qa: cache\.engineVersion is not an ElastiCache Redis OSS version AWS supports: "7\.9"/),
      ]),
    );
    for (const v of ["1.32", "1.33", "1.34", "1.35"]) {
      expect(Object.keys(EKS_VERSIONS)).toContain(v);
      expect(problemsOf(variant({ compute: { kubernetesVersion: v } }, staging)), v).toEqual([]);
    }
    expect(problemsOf(variant({ compute: { kubernetesVersion: "1.99" } }, staging))).toEqual([
      expect.stringMatching(/^qa: compute\.kubernetesVersion is not an EKS Kubernetes version AWS supports: "1\.99"/),
    ]);
  });

  it("accepts canonical CIDRs only", () => {
    expect(problemsOf(variant({ network: { cidr: "10.03.0.0/16" } }))).toEqual([
      "qa: network.cidr must be written canonically: 10.3.0.0/16",
    ]);
    expect(problemsOf(variant({ network: { cidr: "10.3.0.0/016" } }))).toEqual([
      "qa: network.cidr is not a valid IPv4 network CIDR (a.b.c.d/n, no host bits)",
    ]);
    expect(
      problemsOf(variant({ compute: { publicAccessCidrs: ["203.0.113.7/32", "203.0.113.000/24"] } }, staging)),
    ).toEqual(["qa: compute.publicAccessCidrs[1] must be written canonically: 203.0.113.0/24"]);
  });

  it("maxAllocatedStorageGb ≥ allocatedStorageGb, reported with the other problems", () => {
    expect(
      problemsOf(variant({ database: { allocatedStorageGb: 100, maxAllocatedStorageGb: 50 }, appPort: 80 })),
    ).toEqual([
      "qa: appPort Too small: expected number to be >=1024",
      "qa: database.maxAllocatedStorageGb must be ≥ allocatedStorageGb (50 < 100)",
    ]);
    expect(problemsOf(variant({ database: { allocatedStorageGb: 100, maxAllocatedStorageGb: 100 } }))).toEqual([]);
  });

  it('refuses Terraform template sequences in every string and key: a tag value ${file("/etc/passwd")} is refused', () => {
    const found = problemsOf(
      variant({
        tags: { Team: '${file("/etc/passwd")}', "%{if true}x%{endif}": "v" },
        healthCheckPath: "/health${x}",
        image: { repository: "ghcr.io/${var.x}/webapp" },
        monitoring: { alarmEmails: ["ops@example.com"] },
      }),
    );
    const rule = 'must not contain a Terraform template sequence ("${" or "%{"): the engine would evaluate it';
    expect(found).toEqual(
      expect.arrayContaining([
        `qa: tags.Team ${rule}`,
        // A key is refused by its own rules first (AWS tag characters).
        "qa: tags.%{if true}x%{endif} may contain only letters, digits, spaces and _ . : / = + - @ (AWS tag rules)",
        `qa: healthCheckPath ${rule}`,
        `qa: image.repository ${rule}`,
      ]),
    );
    // One generic check over the data: it finds sequences wherever they are.
    expect(findTemplateSequences({ a: [{ b: "x%{y}" }], "${k}": 1, c: "$x {y}" })).toEqual([
      { path: ["a", 0, "b"], inKey: false },
      { path: ["${k}"], inKey: true },
    ]);
  });

  it("refuses reserved aws: tag keys, keys the project sets, and tags AWS would refuse", () => {
    const found = problemsOf(
      variant({ tags: { "aws:createdBy": "me", Environment: "prod", "a#b": "x", Long: "v".repeat(257) } }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        "qa: tags.aws:createdBy must not start with aws: (reserved for AWS)",
        expect.stringMatching(/^qa: tags\.Environment is set by the project itself/),
        "qa: tags.a#b may contain only letters, digits, spaces and _ . : / = + - @ (AWS tag rules)",
        "qa: tags.Long must be at most 256 characters (AWS tag value limit)",
      ]),
    );
  });

  it("an ACM certificate must be of the environment's region", () => {
    expect(problemsOf(variant({ certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc" }))).toEqual([
      "qa: certificateArn must be a certificate of the environment's region eu-west-1 (found us-east-1): an ALB uses certificates of its own region",
    ]);
  });
});

describe("loading environment files", () => {
  it("names the file for a missing default export, a bad name, thrown strings and non-Errors", async () => {
    const dir = tempProject((d) => {
      writeEnvFile(d, "qa", `export const env = {};\n`);
      writeEnvFile(
        d,
        "qb",
        `import { defineEnvironment } from "../lib/index.ts";\nimport dev from "./dev.ts";\nexport default defineEnvironment({ ...dev, name: "Bad Name!", network: { ...dev.network, cidr: "10.7.0.0/16" } });\n`,
      );
      writeEnvFile(d, "qc", `throw "the vault is sealed";\n`);
      writeEnvFile(d, "qd", `throw { code: 42 };\n`);
      writeEnvFile(d, "qe", `throw undefined;\n`);
    });
    const found = await loadProblems(dir);
    expect(found).toEqual(
      expect.arrayContaining([
        "qa: has no default export: environments/qa.ts must end with export default defineEnvironment({ ... })",
        "qb (environments/qb.ts): name must be 2-32 chars of a-z, 0-9 and '-', starting with a letter",
        "qc: cannot be loaded (environments/qc.ts): the vault is sealed",
        "qd: cannot be loaded (environments/qd.ts): { code: 42 } was thrown",
        "qe: cannot be loaded (environments/qe.ts): undefined was thrown",
      ]),
    );
  });

  it("refuses expiresAt on a permanent environment (only previews expire)", async () => {
    const dir = tempProject((d) => {
      writeEnvFile(
        d,
        "qa",
        `import dev from "./dev.ts";\nexport default { ...dev, name: "qa", network: { ...dev.network, cidr: "10.7.0.0/16" }, release: { ...dev.release, promotesTo: [] }, expiresAt: "2026-12-01T00:00:00Z" };\n`,
      );
      writeFileSync(
        join(d, "environments/releases/qa.json"),
        JSON.stringify({
          environment: "qa",
          live: "blue",
          slots: { blue: { version: "1.0.0", weight: 100 }, green: { version: null, weight: 0 } },
        }),
      );
    });
    expect(await loadProblems(dir)).toEqual([
      "qa: expiresAt is only for preview environments (environments/previews.json): a permanent environment never expires",
    ]);
  });

  it("reports JSON syntax errors of release files and previews.json with line and column", async () => {
    const dir = tempProject((d) => {
      writeFileSync(
        join(d, "environments/releases/dev.json"),
        '{\n  "environment": "dev",\n  "live": "blue",\n  "slots": }\n',
      );
      writeFileSync(
        join(d, "environments/releases/staging.json"),
        '{\n  "environment": "staging"\n  "live": "blue"\n}\n',
      );
      writeFileSync(join(d, "environments/previews.json"), '{ "previews": [ ');
    });
    expect(await loadProblems(dir)).toEqual(
      expect.arrayContaining([
        "environments/releases/dev.json: is not valid JSON: line 4, column 12: Unexpected token '}'",
        "environments/releases/staging.json: is not valid JSON: line 3, column 3: Expected ',' or '}' after property value",
        "environments/previews.json: is not valid JSON: line 1, column 17: Unexpected end of JSON input",
      ]),
    );
  });

  it("an unreadable release file is a problem, not a crash", async () => {
    const dir = tempProject((d) => {
      rmSync(join(d, "environments/releases/dev.json"));
      mkdirSync(join(d, "environments/releases/dev.json"));
    });
    expect(await loadProblems(dir)).toEqual([
      expect.stringMatching(/^environments\/releases\/dev\.json: cannot be read: EISDIR/),
    ]);
  });
});

describe("focused loading: a broken file elsewhere is a warning, never a blocker", () => {
  const brokenStaging = () =>
    tempProject((d) => {
      writeFileSync(join(d, "environments/staging.ts"), `throw new Error("half-edited");\n`);
      writeFileSync(join(d, "environments/releases/staging.json"), "{ oops");
    });

  it("loads production while staging's files are broken, with the problems as warnings", async () => {
    const dir = brokenStaging();
    const project = await loadProject(dir, { focus: ["production"] });
    expect(project.environments.map((e) => e.config.name)).toEqual(["dev", "production"]);
    expect(project.warnings).toEqual([
      { subject: "staging", path: "", message: "cannot be loaded (environments/staging.ts): half-edited" },
    ]);
    expect(formatWarnings(project.warnings ?? [])).toBe(
      "warning: left out, not needed by this command:\n  - staging: cannot be loaded (environments/staging.ts): half-edited",
    );
    // production's rollbackTo names staging: broken, but not "unknown".
    expect((project.warnings ?? []).some((w) => /unknown environment/.test(w.message))).toBe(false);
  });

  it("still fails when the focus itself is broken, and a full load fails on any problem", async () => {
    const dir = brokenStaging();
    expect(await loadProblems(dir, ["staging"])).toEqual([
      "staging: cannot be loaded (environments/staging.ts): half-edited",
    ]);
    expect(await loadProblems(dir)).toEqual(["staging: cannot be loaded (environments/staging.ts): half-edited"]);
    const badRelease = tempProject((d) => writeFileSync(join(d, "environments/releases/staging.json"), "{ oops"));
    expect(await loadProblems(badRelease, ["production"])).toEqual([]);
    expect(await loadProblems(badRelease, ["staging", "production"])).toEqual([
      "environments/releases/staging.json: is not valid JSON: line 1, column 3: Expected property name or '}'",
    ]);
  });
});

describe("JSON error positions", () => {
  it("the locator agrees with V8: its position where V8 gives one, else the token V8 names", () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.string({ maxLength: 3 }), (text, at, insert) => {
        const cut = at % (text.length + 1);
        const broken = text.slice(0, cut) + insert + text.slice(cut + 1);
        let message: string;
        try {
          JSON.parse(broken);
          return; // still valid JSON
        } catch (err) {
          message = (err as Error).message;
        }
        expect(parseJson(broken)).toEqual({
          error: expect.stringMatching(/^is not valid JSON: line \d+, column \d+: \S/),
        });
        const position = /at position (\d+)/.exec(message);
        const token = /^Unexpected token '(.+?)', /s.exec(message);
        if (position) expect(syntaxErrorOffset(broken)).toBe(Number(position[1]));
        if (token) expect([...broken.slice(syntaxErrorOffset(broken))][0]).toBe(token[1]);
      }),
      { numRuns: 500 },
    );
  });

  it("a text nested deeper than the call stack is still an error, never a crash", () => {
    expect(parseJson("[".repeat(200_000))).toEqual({
      error: "is not valid JSON (nested too deeply to locate the error): Unexpected end of JSON input",
    });
  });

  it("counts lines and columns from 1", () => {
    expect(lineAndColumn("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
    expect(lineAndColumn("", 0)).toEqual({ line: 1, column: 1 });
  });
});

describe("CLI numbers", () => {
  it("refuses empty strings, hex, exponents, signs, fractions and spaces; accepts digits in range", () => {
    for (const bad of [
      "",
      " ",
      "0x32",
      "1e2",
      "-1",
      "+5",
      "5.0",
      "5.",
      " 5",
      "5 ",
      "05",
      "0b1",
      "0o7",
      "Infinity",
      "NaN",
      "١٢",
      "101",
    ]) {
      expect(PercentArg.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(PercentArg.parse("0")).toBe(0);
    expect(PercentArg.parse("100")).toBe(100);
    expect(WaitArg.safeParse("1000000000").success).toBe(false);
    fc.assert(fc.property(fc.integer({ min: 0, max: 3600 }), (n) => WaitArg.parse(String(n)) === n));
    fc.assert(
      fc.property(
        fc.string(),
        (s) => intArg(0, 100).safeParse(s).success === (/^(0|[1-9]\d*)$/.test(s) && Number(s) <= 100),
      ),
    );
  });
});

describe("refused commands write nothing", () => {
  it("preview create, refused for any reason, leaves no previews.json (and no release file) behind", async () => {
    const dir = tempProject();
    const cli = inProcessCli(dir);
    const before = treeDigest(dir);
    const cases: [string[], RegExp][] = [
      [
        ["preview", "create", "pr-1-x", "--base", "nowhere", "--no-deploy"],
        /preview base: unknown environment nowhere \(known: dev, production, staging\)/,
      ],
      [["preview", "create", "feature-x", "--no-deploy"], /feature-x: name must look like pr-<number>-<branch-slug>/],
      [
        ["preview", "create", "pr-1-x", "--ttl-days", "1e2", "--no-deploy"],
        /preview create: --ttl-days must be 1-90 days/,
      ],
      [["preview", "create", "pr-1-x", "--base", "production", "--no-deploy"], /pr-1-x: /],
    ];
    for (const [argv, message] of cases) {
      const r = await cli.run(argv);
      expect(r.code, argv.join(" ")).toBe(1);
      expect(r.stderr, argv.join(" ")).toMatch(message);
      expect(r.stderr).not.toMatch(STACK_TRACE);
      expect(treeDigest(dir), argv.join(" ")).toEqual(before);
    }
    expect(existsSync(join(dir, "environments/previews.json"))).toBe(false);
    expect(cli.deployed).toEqual([]);
    // The same command, valid, writes both files.
    const ok = await cli.run(["preview", "create", "pr-1-x", "--no-deploy"]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(existsSync(join(dir, "environments/previews.json"))).toBe(true);
    expect(existsSync(join(dir, "environments/releases/pr-1-x.json"))).toBe(true);
  });

  it("file-system errors are clear errors (exit 1), not internal errors", () => {
    let error: unknown;
    try {
      openSync("/etc/hostname/inside", "w");
    } catch (err) {
      error = err;
    }
    expect(fileSystemError(error)).toMatch(/^cannot open \/etc\/hostname\/inside: not a directory \(ENOTDIR\)$/);
    expect(fileSystemError(new Error("plain"))).toBeUndefined();
  });
});
