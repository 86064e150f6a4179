/** The environments, the release store and the deploy runner, as the release sees them. (Part of the ports: ./index.ts.) */
import type { Tier } from "../../core/primitives.ts";
import type { Change } from "../core.ts";
import type { ReleasePolicy } from "../model/policy.ts";
import type { AnalysisRecord, ChangeRecord } from "../model/records.ts";
import type { Release } from "../model/release.ts";
import type { ScheduleFile } from "../model/schedule.ts";

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
  /** The environment's scheduled changes, and their rewrite (under the environment's lock). */
  schedule?(env: string): ScheduleFile;
  saveSchedule?(s: ScheduleFile): void;
  /** Appends a note (a line with a `kind`: a break-glass override, a scheduled change's start) to the history. */
  note?(env: string, note: { readonly kind: string; readonly at: string } & Record<string, unknown>): void;
}

// ----------------------------------------------------------------- deploys

/** Deploys stacks (lib/deploy/runner.ts: the Terraform engine on the synthesized stacks); rejects when the engine fails. */
export interface Deployer {
  deploy(stacks: readonly string[], log: (line: string) => void): Promise<unknown>;
}
