/**
 * The database document of an EC2 environment (lib/constructs/database-runner.ts) as synthesized:
 * its parameters (patterns that keep quotes out), the IAM the stack writes for it (the instance
 * role reads the database secret, envctl's deploy role sends only this document, only to this
 * environment's instances); and its script run by bash with `aws` and `docker` stubbed: the password
 * read on the instance, the image's label honoured, the exit code passed through, the schema result line.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { commandParameters } from "../lib/aws/ssm-command.ts";
import { onlyResource, resources, type Synthesized, synthRepo } from "./support/project.ts";

let s: Synthesized;
beforeAll(async () => {
  s = await synthRepo();
}, 300_000);

const documentOf = (stack: any) => JSON.parse(onlyResource(stack, "aws_ssm_document").content);

describe("the database document and its IAM", () => {
  it("dev (EC2) has the document; its parameters keep quotes and dollars out; no interpolation in its script", () => {
    const stack = s.stack("dev");
    expect(onlyResource(stack, "aws_ssm_document")).toMatchObject({
      name: "dev-envctl-database",
      document_type: "Command",
    });
    const doc = documentOf(stack);
    expect(doc.schemaVersion).toBe("2.2");
    for (const [name, p] of Object.entries(doc.parameters) as [
      string,
      { allowedPattern?: string; allowedValues?: string[] },
    ][]) {
      if (p.allowedValues) continue;
      expect(new RegExp(p.allowedPattern!).test("x'; rm -rf /"), name).toBe(false);
      expect(new RegExp(p.allowedPattern!).test("$(id)"), name).toBe(false);
    }
    const script = doc.mainSteps[0].inputs.runCommand.join("\n");
    expect(script).not.toMatch(/\$\{|%\{/);
    expect(doc.mainSteps[0].inputs.timeoutSeconds).toBe("{{ executionTimeout }}");
  });

  it("EKS environments have no document", () => {
    expect(resources(s.stack("staging"), "aws_ssm_document")).toHaveLength(0);
  });

  it("the instance role reads only the database's (and its copies') master secret; the deploy role sends only this document to dev's instances", () => {
    const stack = s.stack("dev");
    const policies = resources(stack, "aws_iam_role_policy");
    const read = JSON.parse(policies.find((p) => p.name === "dev-read-database-secret").policy);
    expect(read.Statement[0].Action).toEqual(["secretsmanager:GetSecretValue"]);
    expect(Object.values(read.Statement[0].Condition.StringLike)[0]).toMatch(/:db:dev-postgres\*$/);
    const send = policies.find((p) => p.name === "dev-envctl-database");
    expect(send.role).toBe("envstack-deploy");
    const st = JSON.parse(send.policy).Statement;
    expect(st[0]).toMatchObject({
      Action: ["ssm:SendCommand"],
      Resource: expect.stringMatching(/^\$\{aws_ssm_document\.database-runner_document_\w+\.arn\}$/),
    });
    expect(st[1]).toMatchObject({
      Action: ["ssm:SendCommand"],
      Condition: { StringEquals: { "ssm:resourceTag/Environment": "dev" } },
    });
    expect(st[1].Resource).toMatch(/:instance\/\*$/);
  });
});

describe("the document's script, run with aws and docker stubbed", () => {
  /** The script with SSM's parameters filled in, run by bash; returns its exit code, output and the docker calls. */
  function run(parameters: Record<string, string[]>, o: { label?: string; exit?: number; psqlOut?: string } = {}) {
    const dir = mkdtempSync(join(tmpdir(), "envstack-doc-"));
    const calls = join(dir, "docker-calls");
    writeFileSync(
      join(dir, "aws"),
      `#!/bin/bash\necho "$@" >> ${dir}/aws-calls\necho '{"username":"app_admin","password":"p@ss/w:rd"}'\n`,
    );
    writeFileSync(
      join(dir, "docker"),
      [
        "#!/bin/bash",
        `printf '%s\\n' "$*" >> ${calls}`,
        'case "$1" in',
        "  pull) exit 0 ;;",
        `  image) echo '[{"Config":{"Labels":${JSON.stringify(o.label ? { "envstack.migrate.command": o.label } : {})}}}]' ;;`,
        `  run) for a in "$@"; do case "$a" in */db.env) cp "$a" ${dir}/db.env.seen ;; */run.sql:*) cp "\${a%%:*}" ${dir}/run.sql.seen ;; esac; done; echo "migrating"; ${o.psqlOut ? `echo '${o.psqlOut}';` : ""} exit ${o.exit ?? 0} ;;`,
        "esac",
      ].join("\n"),
    );
    chmodSync(join(dir, "aws"), 0o755);
    chmodSync(join(dir, "docker"), 0o755);
    const stack = s.stack("dev");
    let script = documentOf(stack).mainSteps[0].inputs.runCommand.join("\n") as string;
    for (const [k, v] of Object.entries(parameters)) script = script.replaceAll(`{{ ${k} }}`, v[0]!);
    expect(script).not.toMatch(/\{\{/);
    const r = spawnSync("bash", ["--norc", "--noprofile", "-c", script], {
      env: { PATH: `${dir}:${process.env.PATH}` },
      encoding: "utf8",
    });
    const read = (f: string) => {
      try {
        return readFileSync(join(dir, f), "utf8");
      } catch {
        return "";
      }
    };
    return {
      status: r.status,
      out: r.stdout + r.stderr,
      docker: read("docker-calls"),
      dbEnv: read("db.env.seen"),
      sql: read("run.sql.seen"),
      aws: read("aws-calls"),
    };
  }
  const DB = {
    host: "dev-postgres.x.eu-west-1.rds.amazonaws.com",
    port: 5432,
    name: "app",
    secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1",
  };

  it("migrate: the default golang-migrate command with the URL built on the instance; the exit code is the command's", () => {
    const p = commandParameters({
      action: "migrate",
      image: "repo:1.4.0",
      database: DB,
      region: "eu-west-1",
      to: 7,
      timeoutSeconds: 60,
    });
    expect(JSON.stringify(p)).not.toContain("p@ss");
    const r = run(p, { exit: 3 });
    expect(r.status).toBe(3);
    expect(r.aws).toContain(`secretsmanager get-secret-value --secret-id ${DB.secretArn}`);
    const dockerRun = r.docker.split("\n").find((l) => l.startsWith("run "))!;
    expect(dockerRun).toContain("--env-file /etc/app.env");
    expect(dockerRun).toMatch(
      /--entrypoint migrate repo:1\.4\.0 -path migrations -database postgres:\/\/app_admin:p%40ss%2Fw%3Ard@dev-postgres\.x\.eu-west-1\.rds\.amazonaws\.com:5432\/app\?sslmode=require goto 7$/,
    );
    expect(r.dbEnv).toContain("ENVSTACK_SCHEMA_TO=7");
  });

  it("migrate: the image's envstack.migrate.command label is honoured", () => {
    const p = commandParameters({
      action: "migrate",
      image: "repo:2.0.0",
      database: DB,
      region: "eu-west-1",
      to: 9,
      timeoutSeconds: 60,
    });
    const r = run(p, { label: JSON.stringify(["./bin/migrate", "--to", "${ENVSTACK_SCHEMA_TO}"]) });
    expect(r.status).toBe(0);
    expect(r.docker).toMatch(/--entrypoint \.\/bin\/migrate repo:2\.0\.0 --to 9\n/);
    expect(r.out).toContain("migrating");
  });

  it("schema: psql in the client image, the reading printed on the result line", () => {
    const p = commandParameters({
      action: "schema",
      image: "postgres:16-alpine",
      database: DB,
      region: "eu-west-1",
      timeoutSeconds: 60,
    });
    const r = run(p, { psqlOut: '{"version" : 7, "dirty" : false}' });
    expect(r.status).toBe(0);
    expect(r.out).toContain('envstack-result: {"version" : 7, "dirty" : false}');
    const failed = run(p, { exit: 2 });
    expect(failed.status).toBe(2);
    expect(failed.out).not.toContain("envstack-result");
  });

  it("sql: the SQL decoded on the instance, run by psql, its last line printed on the result line", () => {
    const sql = "begin; update users set email = md5(email); select '{\"left\":{}}'; commit;";
    const p = commandParameters({
      action: "sql",
      image: "postgres:16-alpine",
      database: DB,
      region: "eu-west-1",
      sql,
      timeoutSeconds: 60,
    });
    const r = run(p, { psqlOut: '{"left":{}}' });
    expect(r.status).toBe(0);
    expect(r.sql).toBe(sql);
    expect(r.out).toContain('envstack-result: {"left":{}}');
  });

  it("is valid bash", () => {
    const script = documentOf(s.stack("dev")).mainSteps[0].inputs.runCommand.join("\n");
    execFileSync("bash", ["-n", "-c", script]);
  });
});
