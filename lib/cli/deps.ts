/** What tests (and embedders) may replace in envctl: the adapters, the terminal, the clock. */

import type { AlarmReader } from "../aws/alarms.ts";
import type { ApprovalLedger } from "../aws/approval-ledger.ts";
import type { AwsClientOptions } from "../aws/clients.ts";
import type { CallerIdentity } from "../aws/identity.ts";
import type { TrafficApi } from "../aws/traffic.ts";
import type { Environment } from "../config/schema.ts";
import type { DataPlane } from "../database/copy.ts";
import type { Deployer } from "../deploy/runner.ts";
import type { NotifyFetch } from "../notify/deliver.ts";
import type { SnsPublisher } from "../notify/notifier.ts";
import type { SlotSettings } from "../release/model/slots.ts";
import type {
  Clock,
  Database,
  MaintenanceSwitch,
  MetricsReader,
  Progress,
  SmokeDeps,
  Snapshotter,
  TrafficHistory,
  Workloads,
} from "../release/ports/index.ts";
import type { GithubFetch } from "../review/github-approvals.ts";
import type { SecretStore } from "../settings/secret-store.ts";
import type { ApprovalProbe } from "./approvals.ts";

export interface Deps {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly deployer?: Deployer;
  readonly alarms?: (env: Environment) => AlarmReader;
  readonly metrics?: (env: Environment) => MetricsReader;
  readonly traffic?: (env: Environment) => TrafficApi;
  readonly snapshots?: (env: Environment) => Snapshotter;
  /** The slots' Deployments of an EKS environment. @default its cluster's API server (lib/kube/workloads.ts) */
  readonly workloads?: (env: Environment) => Workloads;
  /** The environment's database (`instance`: the release file's, default `<env>-postgres`). @default the local
   * PostgreSQL on the local target (ENVSTACK_LOCAL_POSTGRES), none on AWS */
  readonly database?: (env: Environment, instance?: string) => Database;
  /** The databases data copies reach. @default the local PostgreSQL on the local target, none on AWS */
  readonly dataPlane?: () => DataPlane;
  /** The load balancer's past traffic per hour, for the traffic plan (`analysis plan`, `rollout`). @default CloudWatch */
  readonly trafficHistory?: (env: Environment) => TrafficHistory;
  readonly smoke?: SmokeDeps;
  /** Maintenance mode written to the listener directly. @default the ALB (lib/aws/maintenance.ts) */
  readonly maintenance?: (env: Environment) => MaintenanceSwitch;
  /** HTTP of the Slack and webhook notifications. @default node's fetch */
  readonly notifyFetch?: NotifyFetch;
  /** SNS of the notifications, per region, with the environment's AWS options (its account and role). @default the SDK's (lib/aws/sns.ts) */
  readonly sns?: (region: string, aws: AwsClientOptions) => SnsPublisher;
  /** Waits between a notification's attempts. @default real time (never the rollout's clock) */
  readonly notifySleep?: (ms: number) => Promise<void>;
  /** Reads a Secrets Manager secret named by a notification target. @default Secrets Manager of the environment's region */
  readonly notifySecret?: (id: string) => Promise<string>;
  /** Secrets Manager of an environment (`secret`, `config`). @default the real one (emulator endpoint on the local target) */
  readonly secrets?: (env: Environment) => SecretStore;
  /** Reads a secret value. @default stdin when piped, else a hidden prompt */
  readonly readSecret?: (prompt: string) => Promise<string>;
  /** Whether a person is at the terminal (a secret's value is typed, confirmations can be asked). @default stdin is a TTY */
  readonly interactive?: () => boolean;
  /** The application settings a slot staged into an environment carries. @default the environment file's `app.settings` (lib/settings/release.ts) */
  readonly settings?: (env: Environment) => SlotSettings | null;
  readonly progress?: Progress;
  readonly now?: () => Date;
  /** The clock (and sleep) of rollouts. @default the real one (with `now`) */
  readonly clock?: Clock;
  /** Aborts a rollout as SIGINT/SIGTERM would. @default the process's signals */
  readonly signal?: AbortSignal;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /** Raw stdout (no newline added), for redrawing on a terminal. @default process.stdout */
  readonly write?: (text: string) => void;
  /** Whether stdout is a terminal. @default process.stdout.isTTY */
  readonly tty?: boolean;
  /**
   * Who holds the credentials of an environment (STS GetCallerIdentity): the author of a change and
   * the approver of `envctl approve`, and the account a deploy is checked against. @default STS
   */
  readonly identity?: (o: AwsClientOptions) => Promise<CallerIdentity>;
  /** The approvals recorded for an environment's changes (`envctl approve`). @default S3 in its account's state bucket (lib/aws/approval-ledger.ts) */
  readonly approvalLedger?: (env: Environment) => ApprovalLedger;
  /** GitHub's API, read in CI for the run's approvals. @default node's fetch */
  readonly github?: GithubFetch;
  /** Set by `envctl approve` when it runs the author's command again: the gate records the change there and stops. */
  readonly approvalProbe?: ApprovalProbe;
  /** Answers a yes/no question; default: ask on the terminal. */
  readonly confirm?: (question: string) => Promise<boolean>;
}
