/** The cloud the release reads and writes: the cluster's Deployments, the ALB, CloudWatch, RDS snapshots, the
 * maintenance rules. (Part of the ports: ./index.ts.) */
import type { Slot } from "../../core/primitives.ts";
import type { Maintenance } from "../model/maintenance.ts";
import type { Weights } from "../model/slots.ts";

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
  /** The median and p90 of TargetResponseTime, seconds (the next buckets' edges come from the stable slot's); absent without data. */
  readonly p50Seconds?: number | null;
  readonly p90Seconds?: number | null;
  /** Requests per response-time bucket of the query's `latencyEdges` (`TC(a:b)`; one more than the edges); absent when not read. */
  readonly latency?: readonly number[] | null;
}

/** What one metric period held. */
export interface PeriodMetrics {
  /** Start of the period. */
  readonly start: Date;
  readonly slots: Record<Slot, SlotMetrics>;
  /** HTTPCode_ELB_5XX_Count of the whole load balancer (published per load balancer only). */
  readonly elb5xx: number;
  /** The edges of the slots' `latency` buckets, seconds. */
  readonly edges?: readonly number[] | null;
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
  /** Edges of the response-time buckets to count per slot, seconds, increasing (none: no buckets). */
  readonly latencyEdges?: readonly number[];
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

/**
 * The direct write of maintenance mode to the listener (lib/aws/maintenance.ts), for a fast switch
 * before the deploy converges. The bypass header's rule is only ever written here: its value comes
 * from Secrets Manager and never enters the Terraform JSON, a plan or the state.
 */
export interface MaintenanceSwitch {
  /** What the listener serves now: every maintenance rule, the direct ones and the traffic stack's. */
  read(): Promise<MaintenanceRules>;
  /**
   * The current version of the bypass header's secret, once its value is checked to be a header
   * value the ALB accepts; rejects (naming the secret, never showing the value) otherwise.
   */
  bypassVersion(secretId: string): Promise<string>;
  /**
   * Puts the page and its bypasses ahead of the weighted rule at once: the page and the CIDR bypass
   * as rules of the fast band, the header bypass (its value read from `m.allowHeader.secret`) at
   * the fast band's header priority, where it stays until `remove("all")`.
   */
  on(m: Maintenance): Promise<void>;
  /** Removes the fast band's page and CIDR bypass (`all`: every maintenance rule, the traffic stack's too). */
  remove(which: "fast" | "all"): Promise<void>;
  /** Makes the header bypass forward with the weighted rule's weights again; false when there is none. */
  syncBypass(): Promise<boolean>;
}
