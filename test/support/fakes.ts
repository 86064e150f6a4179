/**
 * In-memory stand-ins for what envctl reads and writes on AWS (the ALB's weighted rule, CloudWatch
 * metrics and alarms, RDS snapshots), a deployer that "applies" the traffic stack by copying the
 * release file's weights to the fake ALB, and a virtual clock. Used by the in-process CLI tests.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AlarmReader } from "../../lib/aws/alarms.ts";
import type { SlotHealth, TrafficApi } from "../../lib/aws/traffic.ts";
import type { Slot } from "../../lib/config/schema.ts";
import type { Deployer } from "../../lib/deploy/runner.ts";
import type { Weights } from "../../lib/release/model/slots.ts";
import type {
  AlarmStates,
  Clock,
  HourlyTraffic,
  MetricsQuery,
  MetricsReader,
  SlotWorkload,
  SmokeDeps,
  TrafficHistory,
  TrafficHistoryQuery,
  WeightedRule,
  WindowMetrics,
  Workloads,
} from "../../lib/release/ports/index.ts";

/** Virtual time: `sleep` advances it at once (and lets other tasks run). */
export class FakeClock implements Clock {
  constructor(public t = Date.parse("2026-11-22T10:00:00.000Z")) {}
  now = () => new Date(this.t);
  sleep = async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw signal.reason;
    this.t += ms;
    await new Promise((r) => setImmediate(r));
    if (signal?.aborted) throw signal.reason;
  };
}

/**
 * The slots' Deployments of an EKS environment as a cluster would show them after its workloads
 * stack deployed: each slot runs the release file's version, 2 of 2 pods Ready. `override` sets a
 * slot's state (a stalled rollout, no Deployment); `failReads` makes the API unreachable.
 */
export class FakeWorkloads implements Workloads {
  readonly override: Partial<Record<Slot, SlotWorkload | null>> = {};
  failReads = false;
  constructor(
    private readonly dir: string,
    private readonly env: string,
  ) {}

  async read(): Promise<Record<Slot, SlotWorkload | null>> {
    if (this.failReads) throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
    const r = JSON.parse(readFileSync(join(this.dir, "environments/releases", `${this.env}.json`), "utf8"));
    const of = (slot: Slot): SlotWorkload | null =>
      slot in this.override
        ? this.override[slot]!
        : { desired: 2, ready: 2, updated: 2, version: r.slots[slot].version, observed: true };
    return { blue: of("blue"), green: of("green") };
  }
}

export class FakeAlb implements TrafficApi {
  weights: Weights = { blue: 100, green: 0 };
  /** Every write, in order ("direct" for ModifyRule, "deploy" for the traffic stack). */
  readonly writes: { by: "direct" | "deploy"; weights: Weights }[] = [];
  /** Make reads or writes fail (CloudWatch-unreachable style tests use the metrics fake instead). */
  failReads = false;
  /** When set, a deploy applies these weights instead of the file's (an ALB that did not apply). */
  deployOverride?: Weights;
  readonly health_: Record<Slot, SlotHealth> = {
    blue: { healthy: 2, unhealthy: 0, states: { healthy: 2 } },
    green: { healthy: 2, unhealthy: 0, states: { healthy: 2 } },
  };

  async read(): Promise<WeightedRule> {
    if (this.failReads)
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { name: "Error", code: "ECONNREFUSED" });
    return {
      ruleArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/x-alb/1/2/3",
      loadBalancerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/x-alb/50dc6c495c0c9188",
      targetGroupArns: {
        blue: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x-app-blue/aaa",
        green: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x-app-green/bbb",
      },
      weights: { ...this.weights },
    };
  }

  /** Called after every direct write. */
  onWrite: (w: Weights) => void = () => undefined;

  async write(w: Weights): Promise<void> {
    this.weights = { ...w };
    this.writes.push({ by: "direct", weights: { ...w } });
    this.onWrite(w);
  }

  async health() {
    return this.health_;
  }

  /** What `cdktf deploy <env>-traffic` does: the ALB takes the release file's weights. */
  deployFrom(dir: string, env: string): void {
    const r = JSON.parse(readFileSync(join(dir, "environments/releases", `${env}.json`), "utf8"));
    this.weights = this.deployOverride ?? { blue: r.slots.blue.weight, green: r.slots.green.weight };
    this.writes.push({ by: "deploy", weights: { ...this.weights } });
  }
}

/** Per slot per poll: requests, target 5xx, p99. `traffic` decides what each read returns. */
export class FakeMetrics implements MetricsReader {
  readonly queries: MetricsQuery[] = [];
  /** Reads to fail before succeeding again (-1: every read fails). */
  failNext = 0;
  traffic: (q: MetricsQuery, n: number) => WindowMetrics | Promise<WindowMetrics> = steady();

  async read(q: MetricsQuery): Promise<WindowMetrics> {
    this.queries.push(q);
    if (this.failNext !== 0) {
      if (this.failNext > 0) this.failNext--;
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { code: "ECONNREFUSED" });
    }
    const w = await this.traffic(q, this.queries.length);
    // The window's one period starts where the query's window does: each step has its own.
    return { ...w, periods: w.periods.map((p) => ({ ...p, start: q.start })) };
  }
}

/**
 * What CloudWatch holds for the step so far, as one metric period (the controller takes only what
 * grew since its last read: a constant window adds its counts once).
 */
export function metrics(
  blue: { requests: number; target5xx?: number; slow?: number | null; p99?: number | null },
  green: { requests: number; target5xx?: number; slow?: number | null; p99?: number | null },
  elb5xx = 0,
): WindowMetrics {
  const slot = (m: typeof blue) => ({
    requests: m.requests,
    target5xx: m.target5xx ?? 0,
    slow: m.slow === undefined ? 0 : m.slow,
    p99Seconds: m.p99 === undefined ? 0.2 : m.p99,
  });
  const slots = { blue: slot(blue), green: slot(green) };
  return { elb5xx, slots, periods: [{ start: new Date(0), slots, elb5xx }] };
}

/**
 * Healthy traffic that grows with the step: `rps` requests per second on each slot since the
 * window's start, 1 % of them 5xx on both (enough evidence for the judge to pass a 300 s step).
 */
export function steady(rps = 50, errorRate = 0.01): (q: MetricsQuery) => WindowMetrics {
  return (q) => {
    const seconds = Math.max(0, (q.end.getTime() - q.start.getTime()) / 1000);
    const requests = Math.round(rps * seconds);
    const slot = { requests, target5xx: Math.round(requests * errorRate) };
    return metrics(slot, slot);
  };
}

export class FakeAlarms implements AlarmReader {
  readonly reads: string[][] = [];
  /** Called before each read with its number (1-based): change `states` to script alarms. */
  beforeRead: (n: number) => void = () => undefined;
  constructor(public states: Record<string, string> = {}) {}

  async read(names: readonly string[]): Promise<AlarmStates> {
    this.reads.push([...names]);
    this.beforeRead(this.reads.length);
    return {
      states: names.filter((n) => n in this.states).map((name) => ({ name, state: this.states[name]! })),
      alarming: names.filter((n) => this.states[n] === "ALARM"),
      missing: names.filter((n) => !(n in this.states)),
    };
  }
}

/** A deployer whose `<env>-traffic` deploys copy the release file's weights to that environment's fake ALB. */
export function trafficDeployer(dir: string, albOf: (env: string) => FakeAlb): Deployer {
  return {
    deploy: async (stacks) => {
      for (const s of stacks)
        if (s.endsWith("-traffic")) albOf(s.replace(/-traffic$/, "")).deployFrom(dir, s.replace(/-traffic$/, ""));
    },
  };
}

/** Smoke checks that every endpoint passes, at once. */
export const passingSmoke: SmokeDeps = {
  fetch: async () => ({ status: 200, text: async () => "ok" }),
  sleep: async () => undefined,
};

/** One fake ALB per environment, made on first use. */
export function albPerEnvironment(): (env: string) => FakeAlb {
  const albs = new Map<string, FakeAlb>();
  return (env) => albs.get(env) ?? albs.set(env, new FakeAlb()).get(env)!;
}

/**
 * CloudWatch's hourly history of a load balancer: `perHour(start)` gives each whole hour's requests
 * and 5xx (null: no data point). Default: healthy and plenty, 1000 requests a second, 1 % 5xx (the
 * error rate of {@link steady}), every hour: every step of the seeds' environments reaches a verdict.
 */
export class FakeTrafficHistory implements TrafficHistory {
  readonly queries: TrafficHistoryQuery[] = [];
  /** Make reads fail, as an unreachable CloudWatch would. */
  fail = false;
  constructor(
    public perHour: (start: Date) => { requests: number; errors: number } | null = () => ({
      requests: 1000 * 3600,
      errors: 1000 * 36,
    }),
  ) {}

  async read(q: TrafficHistoryQuery): Promise<readonly HourlyTraffic[]> {
    this.queries.push(q);
    if (this.fail) throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { code: "ECONNREFUSED" });
    const hour = 3_600_000;
    const out: HourlyTraffic[] = [];
    for (let t = Math.ceil(q.start.getTime() / hour) * hour; t < q.end.getTime(); t += hour) {
      const h = this.perHour(new Date(t));
      if (h) out.push({ start: new Date(t), ...h });
    }
    return out;
  }
}
