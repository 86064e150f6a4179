/**
 * The pure half of the SSM runner (./ssm-runner.ts): the parameters of one command of the
 * environment's database document (lib/constructs/database-runner.ts), what an invocation's status
 * means for a migration, the output's new part between two polls, and the result lines the
 * document prints. No values of secrets here: the document reads the database secret on the
 * instance, by ARN.
 */

/** What the document does: run the image's migration command, read the schema version, or run SQL. */
export type RunnerAction = "migrate" | "schema" | "sql";

/** Where the database is, as the command needs it (from DescribeDBInstances: never a password). */
export interface DatabaseAddress {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  /** ARN of the instance's AWS-managed master secret: read on the instance by the instance role. */
  readonly secretArn: string;
}

export interface RunnerCommand {
  readonly action: RunnerAction;
  /** `<repository>@<digest>` or `<repository>:<version>`; the schema and sql actions use the document's PostgreSQL client image. */
  readonly image: string;
  readonly database: DatabaseAddress;
  readonly region: string;
  /** The schema version to migrate to (migrate only). */
  readonly to?: number;
  /** SQL to run (sql only). */
  readonly sql?: string;
  /** The command's deadline on the instance, seconds. */
  readonly timeoutSeconds: number;
}

/** SSM's limits: the delivery timeout is 30 s to 2 days; a document's execution timeout up to 48 h. */
export const MIN_TIMEOUT_SECONDS = 30;
export const MAX_TIMEOUT_SECONDS = 172_800;
/** SQL above this (base64) is refused rather than sent: SendCommand's parameters are bounded (about 64 KB in all). */
export const MAX_SQL_BASE64 = 48 * 1024;

/** The marker of the line the document prints with a schema or SQL result. */
export const RESULT_MARKER = "envstack-result: ";

const clamp = (s: number) => Math.min(MAX_TIMEOUT_SECONDS, Math.max(MIN_TIMEOUT_SECONDS, Math.ceil(s)));

/** SendCommand's `Parameters` (every value a one-element list, as SSM takes them). Throws when the SQL is too large. */
export function commandParameters(c: RunnerCommand): Record<string, string[]> {
  const sql = c.sql === undefined ? "" : Buffer.from(c.sql, "utf8").toString("base64");
  if (sql.length > MAX_SQL_BASE64)
    throw new Error(
      `the SQL is ${sql.length} bytes in base64, over the ${MAX_SQL_BASE64} an SSM command's parameters carry: not sent`,
    );
  return {
    action: [c.action],
    image: [c.image],
    region: [c.region],
    databaseHost: [c.database.host],
    databasePort: [String(c.database.port)],
    databaseName: [c.database.name],
    databaseSecretArn: [c.database.secretArn],
    schemaTo: [c.to === undefined ? "0" : String(c.to)],
    sql: [sql || "-"],
    executionTimeout: [String(clamp(c.timeoutSeconds))],
  };
}

/** SendCommand's `TimeoutSeconds` (the delivery deadline): the command's own, within SSM's bounds. */
export const deliveryTimeout = (seconds: number) => clamp(seconds);

/** Statuses after which an invocation changes no more (GetCommandInvocation, ListCommandInvocations). */
const TERMINAL = new Set([
  "Success",
  "Failed",
  "Cancelled",
  "TimedOut",
  "Undeliverable",
  "Terminated",
  "InvalidPlatform",
  "AccessDenied",
  "DeliveryTimedOut",
  "ExecutionTimedOut",
]);

export const isTerminal = (status: string | undefined) => status !== undefined && TERMINAL.has(status);

/** What an invocation's end means for a migration: SSM's ResponseCode is the command's exit code. */
export interface InvocationOutcome {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** Said when the status is not the command's own exit (timed out, cancelled, never delivered). */
  readonly note?: string;
}

export function invocationOutcome(
  status: string,
  responseCode: number | undefined,
  details?: string,
): InvocationOutcome {
  const code = responseCode !== undefined && responseCode >= 0 ? responseCode : null;
  const detail = details && details !== status ? ` (${details})` : "";
  switch (status) {
    case "Success":
      // A success always exits 0; anything else reported with it is not trusted as a pass.
      return code === 0
        ? { exitCode: 0, timedOut: false }
        : { exitCode: code ?? null, timedOut: false, note: `Success with response code ${responseCode}` };
    case "Failed":
      return code === null
        ? { exitCode: null, timedOut: false, note: `failed without an exit code${detail}` }
        : { exitCode: code, timedOut: false };
    case "TimedOut":
    case "ExecutionTimedOut":
    case "DeliveryTimedOut":
      return { exitCode: null, timedOut: true, note: `timed out${detail}` };
    case "Cancelled":
      return { exitCode: null, timedOut: false, note: `cancelled${detail}` };
    default:
      return { exitCode: null, timedOut: false, note: `ended ${status}${detail}` };
  }
}

/** The part of `now` not seen in `before` (SSM returns the whole output so far at each poll, the first 24,000 characters). */
export function newOutput(before: string, now: string): string {
  return now.startsWith(before) ? now.slice(before.length) : now;
}

/** Complete lines of `buffer` (the rest waits for its end), for streaming. */
export function takeLines(buffer: string, final: boolean): { lines: string[]; rest: string } {
  const parts = buffer.split("\n");
  const rest = final ? "" : parts.pop()!;
  return { lines: parts.filter((l, i) => l !== "" || i < parts.length - 1), rest };
}

/** The value of the last result line of an output (the document prints `envstack-result: <json>`); undefined when none. */
export function resultOf(output: string): string | undefined {
  const lines = output.split("\n").filter((l) => l.startsWith(RESULT_MARKER));
  return lines.length === 0 ? undefined : lines[lines.length - 1]!.slice(RESULT_MARKER.length).trim();
}
