/**
 * The SSM runner of an EC2 environment's database (lib/aws/ssm-runner.ts, lib/aws/ssm-command.ts):
 * the command's parameters (never a secret's value), the mapping of an invocation's end to a
 * migration's result, the output streamed and redacted, the cancel on an abort and at the deadline,
 * the schema read failing closed; and the dispatch by compute (lib/cli/aws-database.ts).
 */
import { describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import {
  commandParameters,
  invocationOutcome,
  MAX_SQL_BASE64,
  newOutput,
  resultOf,
  takeLines,
} from "../lib/aws/ssm-command.ts";
import { parseSchema, SsmRunner } from "../lib/aws/ssm-runner.ts";
import { databasePort } from "../lib/cli/compose.ts";
import { redact } from "../lib/database/redact.ts";

const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1234-abcd";
const DB = { host: "dev-postgres.abc.eu-west-1.rds.amazonaws.com", port: 5432, name: "app", secretArn: SECRET_ARN };

interface Sent {
  readonly name: string;
  readonly input: any;
}

/** Fake SSM, EC2 and RDS clients: `invocations` are the successive GetCommandInvocation answers (the last repeats). */
function fakes(
  invocations: object[],
  o: { instances?: { id: string; version: string }[]; throwFirst?: boolean; onSleep?: () => void } = {},
) {
  const sent: Sent[] = [];
  let polls = 0;
  const client = {
    send: async (command: any) => {
      const name = command.constructor.name as string;
      sent.push({ name, input: command.input });
      switch (name) {
        case "SendCommandCommand":
          return { Command: { CommandId: "cmd-1" } };
        case "GetCommandInvocationCommand": {
          polls++;
          if (o.throwFirst && polls === 1)
            throw Object.assign(new Error("no such invocation"), { name: "InvocationDoesNotExist" });
          return invocations[Math.min(polls - 1 - (o.throwFirst ? 1 : 0), invocations.length - 1)];
        }
        case "CancelCommandCommand":
          return {};
        case "DescribeInstancesCommand":
          return {
            Reservations: [
              {
                Instances: (o.instances ?? [{ id: "i-0aaa", version: "1.4.0" }]).map((i) => ({
                  InstanceId: i.id,
                  Tags: [{ Key: "Version", Value: i.version }],
                })),
              },
            ],
          };
        case "DescribeDBInstancesCommand":
          return {
            DBInstances: [
              {
                Endpoint: { Address: DB.host, Port: 5432 },
                DBName: "app",
                MasterUserSecret: { SecretArn: SECRET_ARN },
              },
            ],
          };
        default:
          throw new Error(`unexpected ${name}`);
      }
    },
  };
  let clock = 0;
  const runner = new SsmRunner({
    environment: "dev",
    region: "eu-west-1",
    document: "dev-envctl-database",
    imageRepository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp",
    clientImage: "postgres:16-alpine",
    redact,
    ssm: client,
    ec2: client,
    rds: client,
    pollMs: 1000,
    sleep: async (ms) => {
      o.onSleep?.();
      clock += ms;
    },
    now: () => clock,
  });
  return { runner, sent, calls: (name: string) => sent.filter((s) => s.name === name) };
}

const request = (log: string[], extra: object = {}) => ({
  slot: "green" as const,
  version: "1.4.0",
  to: 7,
  timeoutSeconds: 300,
  log: (l: string) => log.push(l),
  ...extra,
});

describe("the SSM command", () => {
  it("carries the database's address and its secret's ARN, never a password, and SSM's bounded deadline", () => {
    const p = commandParameters({
      action: "migrate",
      image: "repo:1.4.0",
      database: DB,
      region: "eu-west-1",
      to: 7,
      timeoutSeconds: 5,
    });
    expect(p).toEqual({
      action: ["migrate"],
      image: ["repo:1.4.0"],
      region: ["eu-west-1"],
      databaseHost: [DB.host],
      databasePort: ["5432"],
      databaseName: ["app"],
      databaseSecretArn: [SECRET_ARN],
      schemaTo: ["7"],
      sql: ["-"],
      executionTimeout: ["30"],
    });
    expect(JSON.stringify(p)).not.toMatch(/password/i);
  });

  it("carries SQL base64, and refuses SQL too large for SSM's parameters", () => {
    const p = commandParameters({
      action: "sql",
      image: "pg",
      database: DB,
      region: "eu-west-1",
      sql: "select 1",
      timeoutSeconds: 60,
    });
    expect(Buffer.from(p.sql![0]!, "base64").toString()).toBe("select 1");
    expect(() =>
      commandParameters({
        action: "sql",
        image: "pg",
        database: DB,
        region: "eu-west-1",
        sql: "x".repeat(MAX_SQL_BASE64),
        timeoutSeconds: 60,
      }),
    ).toThrow(/over the 49152 an SSM command's parameters carry/);
  });

  it("maps an invocation's end: ResponseCode is the exit code, TimedOut a timeout, Cancelled a stop", () => {
    expect(invocationOutcome("Success", 0)).toEqual({ exitCode: 0, timedOut: false });
    expect(invocationOutcome("Failed", 3)).toEqual({ exitCode: 3, timedOut: false });
    expect(invocationOutcome("Failed", -1).exitCode).toBeNull();
    expect(invocationOutcome("TimedOut", -1)).toMatchObject({ exitCode: null, timedOut: true });
    expect(invocationOutcome("Cancelled", -1)).toMatchObject({ exitCode: null, timedOut: false });
    expect(invocationOutcome("Undeliverable", undefined)).toMatchObject({
      exitCode: null,
      note: "ended Undeliverable",
    });
    // A success reported with another code is not a pass.
    expect(invocationOutcome("Success", 2).exitCode).toBe(2);
  });

  it("streams only the new part of the output, line by line, and reads the last result line", () => {
    expect(newOutput("a\nb", "a\nb\nc\n")).toBe("\nc\n");
    expect(takeLines("one\ntwo\nthr", false)).toEqual({ lines: ["one", "two"], rest: "thr" });
    expect(takeLines("one\nthr", true)).toEqual({ lines: ["one", "thr"], rest: "" });
    expect(resultOf('x\nenvstack-result: 1\nenvstack-result: {"a":2}\n')).toBe('{"a":2}');
    expect(resultOf("nothing ran")).toBeUndefined();
  });
});

describe("the SSM runner", () => {
  it("migrates on an instance of the slot running its version, streams the output redacted, honours a success", async () => {
    const f = fakes(
      [
        { Status: "InProgress", StandardOutputContent: "1/u create_users (12ms)\npostgres://app:hunter2@db/app" },
        {
          Status: "Success",
          ResponseCode: 0,
          StandardOutputContent: "1/u create_users (12ms)\npostgres://app:hunter2@db/app\ndone\n",
        },
      ],
      {
        instances: [
          { id: "i-0old", version: "1.3.0" },
          { id: "i-0new", version: "1.4.0" },
        ],
        throwFirst: true,
      },
    );
    const log: string[] = [];
    const r = await f.runner.database("dev-postgres").migrate(request(log));
    expect(r).toEqual({ exitCode: 0, timedOut: false, where: "ssm command cmd-1 on i-0new" });
    expect(f.calls("DescribeInstancesCommand")[0]!.input.Filters).toEqual([
      { Name: "tag:aws:autoscaling:groupName", Values: ["dev-app-green"] },
      { Name: "instance-state-name", Values: ["running"] },
    ]);
    const send = f.calls("SendCommandCommand")[0]!.input;
    expect(send).toMatchObject({ DocumentName: "dev-envctl-database", InstanceIds: ["i-0new"], TimeoutSeconds: 300 });
    expect(send.Parameters.image).toEqual(["123456789012.dkr.ecr.eu-west-1.amazonaws.com/webapp:1.4.0"]);
    expect(send.Parameters.databaseSecretArn).toEqual([SECRET_ARN]);
    expect(log.filter((l) => !l.startsWith("ssm command"))).toEqual([
      "1/u create_users (12ms)",
      "postgres://app:***@db/app",
      "done",
    ]);
    expect(log.join("\n")).not.toContain("hunter2");
  });

  it("honours a failing invocation's exit code, and a timeout", async () => {
    const failed = fakes([{ Status: "Failed", ResponseCode: 3, StandardOutputContent: "error: dirty database\n" }]);
    const log: string[] = [];
    expect(await failed.runner.database("dev-postgres").migrate(request(log))).toEqual({
      exitCode: 3,
      timedOut: false,
      where: "ssm command cmd-1 on i-0aaa",
    });
    expect(log).toContain("error: dirty database");
    const timedOut = fakes([{ Status: "TimedOut", ResponseCode: -1, StatusDetails: "ExecutionTimedOut" }]);
    expect(await timedOut.runner.database("dev-postgres").migrate(request([]))).toMatchObject({
      exitCode: null,
      timedOut: true,
    });
  });

  it("cancels the command when interrupted, and when SSM reports no end by the deadline", async () => {
    const ac = new AbortController();
    const f = fakes([{ Status: "InProgress" }, { Status: "InProgress" }, { Status: "Cancelled", ResponseCode: -1 }], {
      onSleep: () => ac.abort(),
    });
    const log: string[] = [];
    expect(await f.runner.database("dev-postgres").migrate(request(log, { signal: ac.signal }))).toMatchObject({
      exitCode: null,
      timedOut: false,
    });
    expect(f.calls("CancelCommandCommand")[0]!.input).toEqual({ CommandId: "cmd-1", InstanceIds: ["i-0aaa"] });
    expect(log).toContain("interrupted: cancelling ssm command cmd-1");
    // Interrupted before it was sent: nothing is sent.
    const early = fakes([]);
    await expect(
      early.runner.database("dev-postgres").migrate(request([], { signal: AbortSignal.abort() })),
    ).rejects.toThrow(/nothing ran/);
    expect(early.calls("SendCommandCommand")).toHaveLength(0);
    const stuck = fakes([{ Status: "InProgress" }]);
    expect(await stuck.runner.database("dev-postgres").migrate(request([], { timeoutSeconds: 60 }))).toMatchObject({
      exitCode: null,
      timedOut: true,
    });
    expect(stuck.calls("CancelCommandCommand")).toHaveLength(1);
  });

  it("refuses to run without a running instance of the slot", async () => {
    const f = fakes([], { instances: [] });
    await expect(f.runner.database("dev-postgres").migrate(request([]))).rejects.toThrow(
      "dev: no running instance in dev-app-green to run the database command on",
    );
    expect(f.calls("SendCommandCommand")).toHaveLength(0);
  });

  it("reads the schema from the result line; no result line or a failed read fails closed", async () => {
    const ok = fakes([
      { Status: "Success", ResponseCode: 0, StandardOutputContent: 'envstack-result: {"version":7,"dirty":false}\n' },
    ]);
    expect(await ok.runner.database("dev-postgres").readSchema()).toEqual({ schema: 7, dirty: false });
    expect(ok.calls("SendCommandCommand")[0]!.input.Parameters).toMatchObject({
      action: ["schema"],
      image: ["postgres:16-alpine"],
    });
    const none = fakes([
      { Status: "Success", ResponseCode: 0, StandardOutputContent: "emulator: moto runs nothing\n" },
    ]);
    await expect(none.runner.database("dev-postgres").readSchema()).rejects.toThrow(/holds no result line/);
    const failed = fakes([{ Status: "Failed", ResponseCode: 2, StandardOutputContent: "psql: error\n" }]);
    await expect(failed.runner.database("dev-postgres").readSchema()).rejects.toThrow(/did not succeed \(exit 2\)/);
    expect(parseSchema("null")).toEqual({ schema: null, dirty: false });
    expect(() => parseSchema('{"version":"7"}')).toThrow(/no whole version/);
  });
});

describe("the database port on AWS", () => {
  const o = { region: "eu-west-1", endpoint: "http://127.0.0.1:1" };

  it("is the AWS runner on the local target without a local PostgreSQL, the local one with it, none without AWS options", () => {
    const configOf = () => dev;
    const local = { ENVSTACK_TARGET: "local", ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:1" };
    const cluster = {
      kube: () => ({ kind: "kubeconfig" as const, kubeconfig: "/nonexistent" }),
      aws: () => o,
      release: () => ({}) as never,
    };
    expect(databasePort({} as never, local, "/tmp", configOf, cluster).database).toBeTypeOf("function");
    expect(databasePort({} as never, local, "/tmp", configOf).database).toBeUndefined();
    const withPg = databasePort(
      {} as never,
      { ...local, ENVSTACK_LOCAL_POSTGRES: "postgres://u@h:1" },
      "/tmp",
      configOf,
      cluster,
    );
    expect(withPg.database).toBeTypeOf("function");
  });
});
