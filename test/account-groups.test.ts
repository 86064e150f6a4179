/**
 * Account groups: "these environments share this account", said once in environments/_defaults.ts
 * (defineAccountGroup), validated, with production kept out; account.sharedWith keeps working.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../lib/config/errors.ts";
import { loadProject } from "../lib/config/load.ts";
import { checkEnvironments } from "../lib/config/rules.ts";
import { defineAccountGroup } from "../lib/config/schema/account.ts";
import { loadProblems, tempProject } from "./support/project.ts";

const GROUP = `
export const sandboxes = defineAccountGroup({
  name: "sandboxes",
  account: { id: "123456789012", deployRoleArn: "arn:aws:iam::123456789012:role/envstack-deploy", hostsGlobal: true },
});
`;

/** A project whose dev and `n` sandboxes (copies of dev) all use the sandboxes group's account. */
function groupProject(n: number): string {
  return tempProject((dir) => {
    const defaults = join(dir, "environments/_defaults.ts");
    writeFileSync(defaults, `import { defineAccountGroup } from "../lib/index.ts";\n${readFileSync(defaults, "utf8")}`);
    appendFileSync(defaults, GROUP);
    const devFile = join(dir, "environments/dev.ts");
    writeFileSync(
      devFile,
      readFileSync(devFile, "utf8")
        .replace("import { accounts, shared, thresholds }", "import { sandboxes, shared, thresholds }")
        .replace("account: accounts.dev,", "account: sandboxes,"),
    );
    const release = readFileSync(join(dir, "environments/releases/dev.json"), "utf8");
    for (let i = 0; i < n; i++) {
      const name = `sandbox-${i}`;
      writeFileSync(
        join(dir, "environments", `${name}.ts`),
        `import { defineEnvironment } from "../lib/index.ts";
import dev from "./dev.ts";
export default defineEnvironment({ ...dev, name: "${name}", domain: "${name}.webapp.example.com", network: { ...dev.network, cidr: "10.${100 + i}.0.0/16" }, release: { ...dev.release, promotesTo: [] } });
`,
      );
      writeFileSync(join(dir, "environments/releases", `${name}.json`), release.replace('"dev"', `"${name}"`));
    }
  });
}

describe("account groups", () => {
  it("thirty sandboxes and dev share one account, said once, none naming another", async () => {
    const dir = groupProject(30);
    const project = await loadProject(dir);
    const members = project.environments.filter((e) => e.config.account.group === "sandboxes");
    expect(members.map((e) => e.config.name)).toHaveLength(31);
    expect(new Set(members.map((e) => e.config.account.id))).toEqual(new Set(["123456789012"]));
    expect(members.every((e) => e.config.account.sharedWith.length === 0)).toBe(true);
  });

  it("a member outside the group, production in a group, another id: each named by environment, field and rule", async () => {
    const dir = groupProject(1);
    // staging takes the group's account without joining it
    const staging = join(dir, "environments/staging.ts");
    writeFileSync(
      staging,
      readFileSync(staging, "utf8").replace(/account: accounts\.staging,/, 'account: { id: "123456789012" },'),
    );
    const problems = await loadProblems(dir);
    expect(problems).toContain(
      "staging: account.id 123456789012 is also dev's account: each environment has its own account, or both name each other in account.sharedWith, or both belong to one account group outside the production tier (staging does not name dev)",
    );
    const [dev, production] = (await loadProject(groupProject(0))).environments.map((e) => e.config);
    const inGroup = { ...production!, account: { ...production!.account, group: "sandboxes" } };
    const otherId = { ...dev!, name: "qa", account: { ...dev!.account, hostsGlobal: false, id: "999999999999" } };
    const accountProblems = checkEnvironments([dev!, inGroup, otherId]).filter((p) => p.path.startsWith("account"));
    expect(accountProblems.map((p) => `${p.subject}: ${p.path} ${p.message}`)).toEqual([
      "production: account.group must not be set in the production tier: production shares its account only with the environments it names in account.sharedWith (and that name it)",
      "qa: account.id 999999999999 is not the account of group sandboxes (123456789012, as dev says): a group is one account",
    ]);
  });

  it("defineAccountGroup validates its input: every problem at once, named after the group", () => {
    let thrown: unknown;
    try {
      defineAccountGroup({ name: "sandboxes", account: { id: "12", sharedWith: ["dev"] } as never });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems.map((p) => `${p.subject}: ${p.path} ${p.message}`)).toEqual([
      'account group sandboxes: account.id must be a 12-digit AWS account id, e.g. "111111111111"',
      "account group sandboxes: account.sharedWith is not for a group: every environment of the group may share its account",
    ]);
  });
});
