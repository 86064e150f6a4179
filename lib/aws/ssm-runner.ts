/**
 * The environment's database on EC2, reached through SSM Run Command (README "Database changes"):
 * one running instance of the slot's Auto Scaling group runs the environment's database document
 * (lib/constructs/database-runner.ts), which pulls the slot's image and runs its migration command
 * with the slot's settings file (`/etc/app.env`, as the app runs) and the database's address; the
 * password is read on the instance from Secrets Manager by ARN, never sent in the command.
 *
 * SendCommand's delivery deadline and the document's execution timeout are the migration's; the
 * invocation is polled until it ends, its new output streamed (redacted) line by line, its
 * ResponseCode taken as the exit code; TimedOut is a timeout, Cancelled a stop; an abort cancels the
 * command. The schema version is read the same way (a `psql` of the document's client image):
 * anything that cannot be read fails, never passes.
 */
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { DescribeDBInstancesCommand } from "@aws-sdk/client-rds";
import { CancelCommandCommand, GetCommandInvocationCommand, SendCommandCommand } from "@aws-sdk/client-ssm";
import { imageReference } from "../constructs/image.ts";
import { slotGroupName } from "../constructs/naming.ts";
import { SLOTS, type Slot } from "../core/primitives.ts";
import type { Database, MigrationRequest, MigrationResult, SchemaState } from "../release/ports/index.ts";
import {
  commandParameters,
  type DatabaseAddress,
  deliveryTimeout,
  type InvocationOutcome,
  invocationOutcome,
  isTerminal,
  newOutput,
  type RunnerCommand,
  resultOf,
  takeLines,
} from "./ssm-command.ts";

/** An SDK client as the runner uses it (SSMClient, EC2Client, RDSClient, or a fake). */
export interface SendLike {
  // biome-ignore lint/suspicious/noExplicitAny: SDK commands and answers, checked field by field
  send(command: any): Promise<any>;
}

export interface SsmRunnerOptions {
  readonly environment: string;
  readonly region: string;
  /** The environment's database document (lib/constructs/naming.ts `databaseRunnerDocument`). */
  readonly document: string;
  readonly imageRepository: string;
  /** The PostgreSQL client image the schema and sql actions run `psql` in. */
  readonly clientImage: string;
  /** Passwords out of every line shown (lib/database/redact.ts). */
  readonly redact: (line: string) => string;
  readonly ssm: SendLike;
  readonly ec2: SendLike;
  readonly rds: SendLike;
  /** Between polls, ms. @default 2000 */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** One invocation's end. */
export interface Invocation extends InvocationOutcome {
  readonly commandId: string;
  readonly instanceId: string;
  readonly status: string;
  readonly output: string;
}

/** Seconds after its own deadline that envctl still waits for SSM to report the end (then it cancels). */
const GRACE_SECONDS = 120;

export class SsmRunner {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly o: SsmRunnerOptions) {
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = o.now ?? Date.now;
  }

  /** A running instance of the slots' Auto Scaling groups, the slot's version's first; throws when there is none. */
  async pickInstance(slots: readonly Slot[], version?: string): Promise<string> {
    const groups = slots.map((s) => slotGroupName(this.o.environment, s));
    const out = await this.o.ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag:aws:autoscaling:groupName", Values: groups },
          { Name: "instance-state-name", Values: ["running"] },
        ],
      }),
    );
    const instances = (
      (out.Reservations ?? []) as { Instances?: { InstanceId?: string; Tags?: { Key?: string; Value?: string }[] }[] }[]
    )
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => i.InstanceId)
      .map((i) => ({ id: i.InstanceId!, version: i.Tags?.find((t) => t.Key === "Version")?.Value }))
      .sort((a, b) => Number(b.version === version) - Number(a.version === version) || a.id.localeCompare(b.id));
    if (instances.length === 0)
      throw new Error(
        `${this.o.environment}: no running instance in ${groups.join(" or ")} to run the database command on`,
      );
    return instances[0]!.id;
  }

  /** The database instance's address and master secret ARN; throws when RDS reports no secret (the command could not log in). */
  async address(instance: string): Promise<DatabaseAddress> {
    const out = await this.o.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance }));
    const db = out.DBInstances?.[0];
    const host = db?.Endpoint?.Address;
    const secretArn = db?.MasterUserSecret?.SecretArn;
    if (!host)
      throw new Error(
        `${this.o.environment}: the database ${instance} has no endpoint yet (${db?.DBInstanceStatus ?? "not found"})`,
      );
    if (!secretArn)
      throw new Error(
        `${this.o.environment}: the database ${instance} has no AWS-managed master secret: the command could not log in`,
      );
    return { host, port: db.Endpoint.Port ?? 5432, name: db.DBName ?? "postgres", secretArn };
  }

  /** Sends the document to one instance and follows the invocation to its end. */
  async run(
    c: RunnerCommand,
    instanceId: string,
    log: (line: string) => void,
    signal?: AbortSignal,
  ): Promise<Invocation> {
    if (signal?.aborted) throw new Error("interrupted before the command was sent: nothing ran");
    const sent = await this.o.ssm.send(
      new SendCommandCommand({
        DocumentName: this.o.document,
        InstanceIds: [instanceId],
        Parameters: commandParameters(c),
        TimeoutSeconds: deliveryTimeout(c.timeoutSeconds),
        Comment: `envctl ${c.action} ${this.o.environment}`.slice(0, 100),
      }),
    );
    const commandId: string | undefined = sent.Command?.CommandId;
    if (!commandId) throw new Error("SendCommand returned no command id");
    log(`ssm command ${commandId} on ${instanceId}: ${c.action} with ${c.image}`);
    const deadline = this.now() + (c.timeoutSeconds + GRACE_SECONDS) * 1000;
    let cancelled: string | undefined;
    const cancel = async (why: string) => {
      if (cancelled) return;
      cancelled = why;
      log(`${why}: cancelling ssm command ${commandId}`);
      await this.o.ssm
        .send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }))
        .catch((err: Error) => log(`cancel failed: ${err.message}`));
    };
    const onAbort = () => void cancel("interrupted");
    signal?.addEventListener("abort", onAbort, { once: true });
    let seen = "";
    let pending = "";
    const stream = (output: string, final: boolean) => {
      pending += newOutput(seen, output);
      seen = output;
      const { lines, rest } = takeLines(pending, final);
      pending = rest;
      for (const l of lines) log(this.o.redact(l));
    };
    try {
      for (;;) {
        let inv:
          | {
              Status?: string;
              StatusDetails?: string;
              ResponseCode?: number;
              StandardOutputContent?: string;
              StandardErrorContent?: string;
            }
          | undefined;
        try {
          inv = await this.o.ssm.send(
            new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
          );
        } catch (err) {
          // Just sent: SSM may not know the invocation for a moment.
          if ((err as { name?: string }).name !== "InvocationDoesNotExist") throw err;
        }
        const status = inv?.Status;
        if (inv) stream(inv.StandardOutputContent ?? "", isTerminal(status));
        if (inv && isTerminal(status)) {
          for (const l of (inv.StandardErrorContent ?? "").split("\n").filter(Boolean)) log(this.o.redact(l));
          const outcome = invocationOutcome(status!, inv.ResponseCode, inv.StatusDetails);
          if (outcome.note) log(`ssm command ${commandId}: ${outcome.note}`);
          const timedOut = outcome.timedOut || cancelled === "timeout";
          return {
            ...outcome,
            ...(cancelled ? { exitCode: null } : {}),
            timedOut,
            commandId,
            instanceId,
            status: status!,
            output: seen,
          };
        }
        if (this.now() > deadline) {
          if (cancelled)
            return {
              exitCode: null,
              timedOut: cancelled === "timeout",
              commandId,
              instanceId,
              status: status ?? "unknown",
              output: seen,
              note: "no end reported after the cancel",
            };
          await cancel("timeout");
        }
        await this.sleep(this.o.pollMs ?? 2000);
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Runs a read (schema, sql) and returns its result line; throws unless the command exited 0 with one. */
  async read(instance: string, action: "schema" | "sql", log: (line: string) => void, sql?: string): Promise<string> {
    const [target, database] = await Promise.all([this.pickInstance(SLOTS), this.address(instance)]);
    const inv = await this.run(
      {
        action,
        image: this.o.clientImage,
        database,
        region: this.o.region,
        timeoutSeconds: action === "sql" ? 30 * 60 : 120,
        ...(sql !== undefined ? { sql } : {}),
      },
      target,
      log,
    );
    const where = `ssm command ${inv.commandId} on ${inv.instanceId}`;
    if (inv.exitCode !== 0)
      throw new Error(`${action} through ${where} did not succeed (${inv.note ?? `exit ${inv.exitCode}`})`);
    const result = resultOf(inv.output);
    if (result === undefined)
      throw new Error(`${action} through ${where}: its output holds no result line (nothing was read)`);
    return result;
  }

  /** The {@link Database} port of the database instance `instance`. */
  database(instance: string): Database {
    return {
      readSchema: async (): Promise<SchemaState> => parseSchema(await this.read(instance, "schema", () => undefined)),
      migrate: async (req: MigrationRequest): Promise<MigrationResult> => {
        const [target, database] = await Promise.all([
          this.pickInstance([req.slot], req.version),
          this.address(instance),
        ]);
        const image = imageReference(this.o.imageRepository, req.version, req.digest);
        const inv = await this.run(
          { action: "migrate", image, database, region: this.o.region, to: req.to, timeoutSeconds: req.timeoutSeconds },
          target,
          req.log,
          req.signal,
        );
        return {
          exitCode: inv.exitCode,
          timedOut: inv.timedOut,
          where: `ssm command ${inv.commandId} on ${inv.instanceId}`,
        };
      },
    };
  }
}

/** The schema result line: `null` (no version table) or `{"version":N,"dirty":bool}`; anything else throws. */
export function parseSchema(result: string): SchemaState {
  let v: unknown;
  try {
    v = JSON.parse(result);
  } catch {
    throw new Error(`the schema reading is not JSON: ${result.slice(0, 80)}`);
  }
  if (v === null) return { schema: null, dirty: false };
  const r = v as { version?: unknown; dirty?: unknown };
  if (typeof r.version !== "number" || !Number.isInteger(r.version) || typeof r.dirty !== "boolean")
    throw new Error(`the schema reading has no whole version and dirty flag: ${result.slice(0, 80)}`);
  return { schema: r.version, dirty: r.dirty };
}
