/**
 * The ports: everything the release needs from outside, in one place. The release package talks
 * to the world only through these interfaces; lib/cli (the composition root, lib/cli/context.ts)
 * wires in the adapters — the release files on disk (lib/release/store), the deploy runner (the engine on the synthesized stacks)
 * (lib/deploy), the ALB, CloudWatch and RDS (lib/aws), the terminal (lib/cli/progress.ts) — and
 * tests wire in fakes (test/support/fakes.ts).
 *
 * Types only, plus {@link arnSuffix}: how a metrics query names the load balancer and target groups.
 */
import type { Slot, Tier } from "../config/primitives.ts";
import type { Change } from "./core.ts";
import type { AnalysisRecord, ChangeRecord, Release, SlotSettings, Weights } from "./model.ts";
import type { ReleasePolicy } from "./policy.ts";
import type { ReleaseEventPayload } from "./events.ts";
import type { Maintenance } from "./model.ts";

// ------------------------------------------------------------ environments

/** What the release needs of an environment's configuration (lib/config's `Environment` is one). */
export interface ReleaseEnvironment {
  readonly name: string;
  readonly tier: Tier;
  /** Where the smoke checks go by default: `https://<domain>` (`http://` without a certificate). */
  readonly domain: string;
  readonly certificateArn?: string;
  /** EC2 slots live in the environment's stack, EKS slots in its workloads stack. */
  readonly compute: { readonly kind: "ec2" | "eks" };
  /** The release policy: canary steps, analysis, smoke checks, promotion graph. */
  readonly release: ReleasePolicy;
}

/** The project's environments. */
export interface Environments {
  /** Every environment of the project. */
  all(): readonly ReleaseEnvironment[];
  /** One environment; throws a RefusedError naming the near misses when there is none. */
  get(name: string): ReleaseEnvironment;
}

// ------------------------------------------------------------------ store

/** What a change is recorded as. */
export interface RecordInput {
  readonly change: Change;
  /** `deploying`, `deployed`, `edited`, `rolled-back`, ... */
  readonly outcome: string;
  readonly analysis?: AnalysisRecord;
  readonly note?: string;
  /**
   * The state the change started from, when it is not the file's current one: a deploy's final
   * record describes the whole change (before the pending marker), not the marker's removal.
   */
  readonly from?: Release;
}

/** A record's details beyond who, when and the outcome. */
export type RecordDetails = Omit<RecordInput, "change" | "outcome">;

/** The release files and their history (lib/release/store: files on disk, one lock per environment). */
export interface ReleaseStore {
  /** The environment's release file, validated. */
  load(env: string): Release;
  /** Writes `next` with the record of the change from `current` (read under the lock); returns what was written. */
  commit(current: Release, next: Release, record: RecordInput): Release;
  /** Runs `fn` holding the environment's lock, waiting up to `waitSeconds` for another holder (`command` names this one). */
  lock<T>(env: string, waitSeconds: number, fn: () => Promise<T>, command: string): Promise<T>;
  /** The environment's change records, oldest first (the schema gates read when the old slot stopped serving). */
  history?(env: string): readonly ChangeRecord[];
}

// ----------------------------------------------------------------- deploys

/** Deploys stacks (lib/deploy/runner.ts: the Terraform engine on the synthesized stacks); rejects when the engine fails. */
export interface Deployer {
  deploy(stacks: readonly string[], log: (line: string) => void): Promise<unknown>;
}

// ------------------------------------------------------------ Kubernetes (EKS)

/** A slot's Deployment as the API server reports it (lib/kube/workloads.ts). */
export interface SlotWorkload {
  /** Replicas the Deployment asks for (`spec.replicas`). */
  readonly desired: number;
  /** Pods Ready (`status.readyReplicas`). */
  readonly ready: number;
  /** Pods of the current template (`status.updatedReplicas`). */
  readonly updated: number;
  /** The version its pod template runs (the `app.kubernetes.io/version` label). */
  readonly version: string | null;
  /** The controller has seen the latest spec (`status.observedGeneration >= metadata.generation`). */
  readonly observed: boolean;
}

/** The slots' Deployments of an EKS environment; `null` for a slot whose Deployment does not exist. */
export interface Workloads {
  read(): Promise<Record<Slot, SlotWorkload | null>>;
}

// ------------------------------------------------------------------ the ALB

/** The environment's weighted listener rule as the ALB serves it. */
export interface WeightedRule {
  readonly ruleArn: string;
  readonly loadBalancerArn: string;
  readonly targetGroupArns: Record<Slot, string>;
  readonly weights: Weights;
}

/** What the controller and mitigation need of the ALB (lib/aws/traffic.ts). */
export interface Traffic {
  /** The weighted rule and the weights it serves now. */
  read(): Promise<WeightedRule>;
  /** Writes the weights to the rule directly (one API call). */
  write(weights: Weights): Promise<void>;
}

// -------------------------------------------------------------- CloudWatch

/** One slot's counts in one metric period, or summed over a window. */
export interface SlotMetrics {
  /** RequestCount (Sum). */
  readonly requests: number;
  /** HTTPCode_Target_5XX_Count (Sum). */
  readonly target5xx: number;
  /** Requests slower than the query's `slowSeconds` (TargetResponseTime `TC(slowSeconds:)`); null where requests came without one. */
  readonly slow: number | null;
  /** The worst p99 of TargetResponseTime, seconds, for information; null without data. */
  readonly p99Seconds: number | null;
}

/** What one metric period held. */
export interface PeriodMetrics {
  /** Start of the period. */
  readonly start: Date;
  readonly slots: Record<Slot, SlotMetrics>;
  /** HTTPCode_ELB_5XX_Count of the whole load balancer (published per load balancer only). */
  readonly elb5xx: number;
}

export interface WindowMetrics {
  /** Sums over the window. */
  readonly slots: Record<Slot, SlotMetrics>;
  /** Sum of HTTPCode_ELB_5XX_Count of the whole load balancer. */
  readonly elb5xx: number;
  /** The periods that had data, oldest first: the judge takes what is new in each (CloudWatch fills periods in late). */
  readonly periods: readonly PeriodMetrics[];
}

export interface MetricsQuery {
  /** `app/<name>/<id>`. */
  readonly loadBalancer: string;
  /** `targetgroup/<name>/<id>` per slot. */
  readonly targetGroups: Record<Slot, string>;
  readonly start: Date;
  readonly end: Date;
  /** Period of the data points, seconds. */
  readonly periodSeconds: number;
  /** A request slower than this is counted as slow, seconds. */
  readonly slowSeconds: number;
}

/** The ALB metrics of both slots over a window (lib/aws/metrics.ts). */
export interface MetricsReader {
  read(q: MetricsQuery): Promise<WindowMetrics>;
}

/** `app/<name>/<id>` of a load balancer ARN, `targetgroup/<name>/<id>` of a target group ARN: the CloudWatch dimensions. */
export function arnSuffix(arn: string): string {
  const m = /:(?:loadbalancer\/)?((?:app|net|targetgroup)\/[^:]+)$/.exec(arn);
  if (!m) throw new Error(`not a load balancer or target group ARN: ${arn}`);
  return m[1]!;
}

/** One hour of the load balancer's traffic (both slots). */
export interface HourlyTraffic {
  /** Start of the hour. */
  readonly start: Date;
  /** RequestCount (Sum) of the load balancer. */
  readonly requests: number;
  /** HTTPCode_Target_5XX_Count (Sum) of the load balancer. */
  readonly errors: number;
}

export interface TrafficHistoryQuery {
  /** `app/<name>/<id>`. */
  readonly loadBalancer: string;
  readonly start: Date;
  readonly end: Date;
}

/** The load balancer's past traffic per hour, for the traffic plan (lib/aws/traffic-history.ts); hours without requests may be absent. */
export interface TrafficHistory {
  read(q: TrafficHistoryQuery): Promise<readonly HourlyTraffic[]>;
}

export interface AlarmStates {
  /** State of each alarm found (`OK`, `ALARM`, `INSUFFICIENT_DATA`). */
  readonly states: { name: string; state: string }[];
  /** Names that are in ALARM. */
  readonly alarming: string[];
  /** Names that do not exist: the gate fails closed on them. */
  readonly missing: string[];
}

/** The alarms that gate a canary of a slot (lib/aws/alarms.ts, under the names the monitoring construct gives them). */
export interface SlotAlarms {
  read(slot: Slot): Promise<AlarmStates>;
}

// --------------------------------------------------------------------- RDS

/** Database snapshots before a promotion (lib/aws/snapshots.ts). */
export interface Snapshotter {
  /** Snapshots the environment's database; resolves with the snapshot id once it is available. */
  snapshot(dbInstanceId: string, snapshotId: string): Promise<string>;
}

// ----------------------------------------------------------------- database

/** The schema version a database holds (golang-migrate's `schema_migrations`): null when no migration ran. */
export interface SchemaState {
  readonly schema: number | null;
  /** A migration stopped midway (golang-migrate's `dirty` flag). */
  readonly dirty: boolean;
}

/** What runs one migration: the image of a slot (its version, digest and settings) against the environment's database. */
export interface MigrationRequest {
  readonly slot: Slot;
  readonly version: string;
  readonly digest?: string;
  /** The settings the slot runs with (the migration command gets them as the app does). */
  readonly settings?: SlotSettings;
  /** The schema version to migrate to (the command's `${ENVSTACK_SCHEMA_TO}`). */
  readonly to: number;
  /** Stop the command after this long (the result says `timedOut`). */
  readonly timeoutSeconds: number;
  /** Receives the command's output, line by line, as it runs. */
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface MigrationResult {
  /** The command's exit code; null when it was stopped (timeout, signal) or never started. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** Where it ran: `local process`, `kubernetes job <name>`, `ssm command <id> on <instance>`. */
  readonly where: string;
}

/**
 * The environment's database (issue 22): its schema version read back, migrations run by the app
 * image's migration command from inside the network (lib/database/local.ts: a local process against
 * the local PostgreSQL; on AWS a Kubernetes Job or an SSM command, README "Database changes").
 */
export interface Database {
  /** The schema version the database holds now; rejects when it cannot be reached. */
  readSchema(): Promise<SchemaState>;
  /** Runs the image's migration command to `req.to`, streaming its output; resolves with its exit code. */
  migrate(req: MigrationRequest): Promise<MigrationResult>;
}

// ----------------------------------------------------------- smoke checks

export type Fetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal; redirect: "manual" }) => Promise<{ status: number; text(): Promise<string> }>;

/** HTTP for the smoke checks (lib/release/smoke.ts). */
export interface SmokeDeps {
  readonly fetch: Fetch;
  readonly sleep: (ms: number) => Promise<void>;
}

/** {@link SmokeDeps} and the header that pins a request to one slot (`X-Release-Slot`, set by the load balancer construct). */
export interface SmokeClient extends SmokeDeps {
  readonly slotHeader: string;
}

// --------------------------------------------------------------- settings

/** The application settings a slot carries (lib/settings/release.ts). */
export interface SlotSettingsSource {
  /** The settings a slot staged into `env` now would carry; refuses when the tier requires a key the environment lacks. */
  forSlot(env: ReleaseEnvironment): SlotSettings | null;
  /** Refuses a promotion of `version` from `source` into `target` when the target lacks a key. */
  refuseMissing(source: ReleaseEnvironment, sourceRelease: Release, target: ReleaseEnvironment, version: string): void;
}

// ------------------------------------------------------ time, terminal, people

export interface Clock {
  now(): Date;
  /** Waits `ms`; rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Progress of the steps (lib/cli/progress.ts: a live display on a terminal, timestamped lines in CI). */
export interface Progress {
  /** Runs one named step; `log` receives the step's output lines (e.g. the engine's). */
  step<T>(title: string, fn: (log: (line: string) => void) => Promise<T>): Promise<T>;
  /** Waits `seconds`, showing the time left. */
  wait(title: string, seconds: number): Promise<void>;
  info(line: string): void;
}

/** What a person approves: a summary, the release-file diff and the stacks that will deploy. */
export interface Approval {
  readonly summary: string;
  readonly diff?: string;
  readonly stacks: readonly string[];
}

/** Asks for approval before a production change (shows what changes); throws to cancel. */
export type Approve = (env: ReleaseEnvironment, what: Approval) => Promise<void>;

// ----------------------------------------------------------- notifications

/**
 * Notifications of release events (lib/notify: Slack, webhooks, SNS). `send` queues the event for
 * the environment's targets and returns at once: it never throws and never waits for a receiver
 * (delivery retries with backoff and a timeout in the background; every delivery is recorded in
 * the environment's history). The CLI waits for queued deliveries, bounded, before it exits.
 */
export interface Notifier {
  send(event: ReleaseEventPayload): void;
}

// ------------------------------------------------------------ maintenance

/** The maintenance rules as the ALB serves them. */
export interface MaintenanceRules {
  /** Priorities of the rules found (the page and its bypasses), lowest first. */
  readonly priorities: readonly number[];
  /** The page's rule: its body and status code, as the ALB returns them. */
  readonly page: { readonly statusCode: string; readonly body: string; readonly priority: number } | null;
  /** Priority of the weighted rule: the page must be ahead of it (lower). */
  readonly weightedPriority: number;
}

/** The direct write of maintenance mode to the listener (lib/aws/maintenance.ts), for a fast switch before the deploy converges. */
export interface MaintenanceSwitch {
  /** What the listener serves now: every maintenance rule, the direct ones and the traffic stack's. */
  read(): Promise<MaintenanceRules>;
  /** Puts the page (and its bypasses) ahead of the weighted rule at once, as rules of the fast band. */
  on(m: Maintenance): Promise<void>;
  /** Removes the fast band's rules (`all`: the traffic stack's too, for a fast off). */
  remove(which: "fast" | "all"): Promise<void>;
}
