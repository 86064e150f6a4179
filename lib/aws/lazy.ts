/**
 * The AWS readers and writers envctl wires in, loaded on first use: the SDK clients are large, and
 * most commands (status, diff, a refused shift) never call AWS. Rollbacks move traffic sooner too.
 * Every write first checks that the credentials are of the environment's account (./identity.ts).
 */
import type { MaintenanceSwitch, MetricsReader, Snapshotter, TrafficHistory } from "../release/ports/index.ts";
import type { AlarmReader } from "./alarms.ts";
import type { AwsClientOptions } from "./clients.ts";
import type { EksClusterAccess } from "./eks.ts";
import type { TrafficApi } from "./traffic.ts";

/** One instance of `T`, created by `load` on the first call of any method; `writes` check the account first. */
function lazy<T extends object>(
  load: () => Promise<T>,
  methods: readonly (keyof T)[],
  o?: AwsClientOptions,
  writes: readonly (keyof T)[] = [],
): T {
  let instance: Promise<T> | undefined;
  const get = () => (instance ??= load());
  return Object.fromEntries(
    methods.map((m) => [
      m,
      async (...args: unknown[]) => {
        if (o && writes.includes(m)) await (await import("./identity.ts")).assertAccount(o);
        const target = await get();
        return (target[m] as (...a: unknown[]) => unknown).apply(target, args);
      },
    ]),
  ) as T;
}

export const lazyTraffic = (env: string, o: AwsClientOptions): TrafficApi =>
  lazy(async () => (await import("./traffic.ts")).albTraffic(env, o), ["read", "write", "health"], o, ["write"]);

export const lazyMetrics = (o: AwsClientOptions): MetricsReader =>
  lazy(async () => (await import("./metrics.ts")).cloudWatchMetrics(o), ["read"]);

export const lazyAlarms = (o: AwsClientOptions): AlarmReader =>
  lazy(async () => (await import("./alarms.ts")).cloudWatchAlarms(o), ["read"]);

export const lazySnapshots = (o: AwsClientOptions): Snapshotter =>
  lazy(async () => (await import("./snapshots.ts")).rdsSnapshots(o), ["snapshot"], o, ["snapshot"]);

export const lazyTrafficHistory = (o: AwsClientOptions): TrafficHistory =>
  lazy(async () => (await import("./traffic-history.ts")).cloudWatchTrafficHistory(o), ["read"]);

export const lazyMaintenance = (env: string, o: AwsClientOptions): MaintenanceSwitch =>
  lazy(
    async () => (await import("./maintenance.ts")).albMaintenance(env, o),
    ["read", "bypassVersion", "on", "remove", "syncBypass"],
    o,
    ["on", "remove", "syncBypass"],
  );

/** An EKS cluster's endpoint and envctl's token for it (./eks.ts): the EKS client loads on the first read of the cluster. */
export const lazyEksAccess = (o: AwsClientOptions, cluster: string): EksClusterAccess => ({
  ...lazy(async () => (await import("./eks.ts")).eksClusterAccess(o, cluster), ["endpoint", "token"]),
  cluster,
});
