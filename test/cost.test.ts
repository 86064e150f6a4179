import { describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import production from "../environments/production.ts";
import staging from "../environments/staging.ts";
import { estimateMonthlyCost, UnknownPriceError } from "../lib/config/cost-estimate.ts";
import { defineEnvironment } from "../lib/config/define.ts";
import { ConfigError } from "../lib/config/errors.ts";
import type { Environment, EnvironmentInput } from "../lib/config/schema.ts";
import * as prices from "../lib/cost/prices.ts";

/** An environment derived from dev with some sections replaced (validated like a real one). */
function derive(patch: Partial<EnvironmentInput>): Environment {
  return defineEnvironment({ ...(dev as EnvironmentInput), name: "costly", ...patch });
}

/**
 * The same without validation: the catalogue (lib/config/catalogue.ts) refuses types the price
 * table lacks at load, so only data that skipped the schema can reach the estimate's own check.
 */
function unchecked(patch: Partial<EnvironmentInput>): Environment {
  return { ...dev, name: "costly", ...patch } as Environment;
}

type EksInput = Extract<NonNullable<EnvironmentInput["compute"]>, { kind: "eks" }>;

const eksCompute: EksInput = {
  kind: "eks",
  nodeGroups: [
    { name: "base", instanceTypes: ["t3.medium"], capacity: { min: 1, desired: 1, max: 3 } },
    {
      name: "spot",
      instanceTypes: ["m5.large", "m5a.large", "m4.large"],
      capacityType: "SPOT",
      capacity: { min: 0, desired: 2, max: 5 },
    },
  ],
  replicas: 2,
  autoScaling: { enabled: true },
};

describe("price table", () => {
  it("is dated and for eu-west-1", () => {
    expect(prices.PRICES_AS_OF).toBe("2026-11-01");
    expect(prices.PRICE_REGION).toBe("eu-west-1");
    expect(prices.HOURS_PER_MONTH).toBe(730);
  });

  it("prices every type the environments and the reference sizing use", () => {
    for (const t of ["t3.micro", "t3.small", "t3.medium", "m5.large", "m5a.large", "m4.large"])
      expect(prices.EC2_HOURLY[t], t).toBeGreaterThan(0);
    for (const c of ["db.t3.micro", "db.t3.small", "db.t3.medium", "db.r5.xlarge"])
      expect(prices.RDS_HOURLY[c], c).toBeDefined();
    for (const n of ["cache.t3.micro", "cache.t3.small", "cache.r6g.large"])
      expect(prices.CACHE_HOURLY[n], n).toBeGreaterThan(0);
  });

  it("bills multi-AZ RDS as exactly two instances", () => {
    for (const [cls, p] of Object.entries(prices.RDS_HOURLY)) expect(p.multiAz, cls).toBeCloseTo(2 * p.singleAz, 10);
  });

  it("has a spot factor between 0 and 1", () => {
    expect(prices.SPOT_PRICE_FACTOR).toBeGreaterThan(0);
    expect(prices.SPOT_PRICE_FACTOR).toBeLessThan(1);
  });
});

describe("estimateMonthlyCost", () => {
  it("gives dev's lines exactly (computed by hand from the table)", () => {
    const est = estimateMonthlyCost(dev);
    expect(est.lines).toEqual([
      // 0.0114 $/h × 730 h = 8.322; desired 1 instance of one slot.
      { item: "EC2 t3.micro (app instances, one live slot)", quantity: 1, unitMonthly: 8.322, monthly: 8.32 },
      // 1 instance × 20 GB root volume × 0.088 $/GB-month.
      { item: "EBS gp3 root volumes, GB-month (1 × 20 GB)", quantity: 20, unitMonthly: 0.088, monthly: 1.76 },
      // 0.018 $/h × 730 = 13.14; single-AZ.
      { item: "RDS db.t3.micro (single-AZ)", quantity: 1, unitMonthly: 13.14, monthly: 13.14 },
      // 20 GB × 0.127.
      { item: "RDS gp3 storage, GB-month (20 GB)", quantity: 20, unitMonthly: 0.127, monthly: 2.54 },
      // 0.018 $/h × 730; no replicas.
      { item: "ElastiCache cache.t3.micro (1 primary + 0 replicas)", quantity: 1, unitMonthly: 13.14, monthly: 13.14 },
      // 0.048 $/h × 730 = 35.04; one shared gateway.
      { item: "NAT gateway (single, shared)", quantity: 1, unitMonthly: 35.04, monthly: 35.04 },
      // 0.0252 $/h × 730 = 18.396 → 18.40.
      { item: "Application Load Balancer", quantity: 1, unitMonthly: 18.396, monthly: 18.4 },
      // 1 LCU × 0.008 $/h × 730 = 5.84.
      { item: "ALB capacity units (fixed estimate)", quantity: 1, unitMonthly: 5.84, monthly: 5.84 },
    ]);
    // 8.32 + 1.76 + 13.14 + 2.54 + 13.14 + 35.04 + 18.40 + 5.84
    expect(est.total).toBe(98.18);
  });

  it("orders the shipped environments dev < staging < production, in a sane ballpark", () => {
    const [d, s, p] = [dev, staging, production].map((e) => estimateMonthlyCost(e).total) as [number, number, number];
    expect(d).toBeLessThan(s);
    expect(s).toBeLessThan(p);
    expect(d).toBeGreaterThan(50);
    expect(d).toBeLessThan(200);
    expect(p).toBeGreaterThan(2 * d);
    expect(p).toBeLessThan(5000);
  });

  it("totals the lines of every shipped environment (whatever its compute kind)", () => {
    for (const env of [dev, staging, production]) {
      const est = estimateMonthlyCost(env);
      expect(est.lines.length, env.name).toBeGreaterThan(0);
      for (const l of est.lines) {
        expect(Number.isFinite(l.monthly) && l.monthly >= 0, `${env.name}: ${l.item}`).toBe(true);
        expect(l.monthly, `${env.name}: ${l.item}`).toBeCloseTo(l.quantity * l.unitMonthly, 2);
      }
      const sum = est.lines.reduce((a, l) => a + l.monthly, 0);
      expect(est.total, env.name).toBeCloseTo(sum, 6);
    }
  });

  it("counts the standby of a multi-AZ database, one NAT per AZ, and the cache replicas", () => {
    const env = derive({
      network: { ...dev.network, azCount: 3, natGateways: "per-az" },
      database: { ...dev.database, instanceClass: "db.r5.xlarge", allocatedStorageGb: 100, multiAz: true },
      cache: { nodeType: "cache.r6g.large", replicas: 2, automaticFailover: true },
    });
    const lines = Object.fromEntries(estimateMonthlyCost(env).lines.map((l) => [l.item, l]));
    expect(lines["RDS db.r5.xlarge (multi-AZ: primary + standby)"]).toEqual({
      item: "RDS db.r5.xlarge (multi-AZ: primary + standby)",
      quantity: 2,
      unitMonthly: 408.8,
      monthly: 817.6,
    });
    expect(lines["RDS gp3 storage, GB-month (100 GB × 2 copies)"]).toMatchObject({ quantity: 200, monthly: 25.4 });
    expect(lines["ElastiCache cache.r6g.large (1 primary + 2 replicas)"]).toMatchObject({
      quantity: 3,
      unitMonthly: 166.44,
      monthly: 499.32,
    });
    expect(lines["NAT gateway (one per AZ)"]).toMatchObject({ quantity: 3, monthly: 105.12 });
  });

  it("prices EC2 compute at the desired capacity of one slot", () => {
    const env = derive({
      compute: {
        ...dev.compute,
        kind: "ec2",
        instanceType: "m5.large",
        capacity: { min: 2, desired: 4, max: 8 },
      } as EnvironmentInput["compute"],
    });
    const est = estimateMonthlyCost(env);
    expect(est.lines[0]).toEqual({
      item: "EC2 m5.large (app instances, one live slot)",
      quantity: 4,
      unitMonthly: 78.11,
      monthly: 312.44,
    });
    expect(est.lines[1]).toMatchObject({ quantity: 80, monthly: 7.04 });
  });

  it("prices EKS: control plane + node groups at desired size, spot at the spot factor", () => {
    const env = derive({ compute: eksCompute });
    const est = estimateMonthlyCost(env);
    expect(est.lines.slice(0, 4)).toEqual([
      {
        item: "EKS control plane (Kubernetes 1.35, standard support until 2027-03-27)",
        quantity: 1,
        unitMonthly: 73,
        monthly: 73,
      },
      { item: "EKS node group base: t3.medium On-Demand", quantity: 1, unitMonthly: 33.288, monthly: 33.29 },
      // 0.107 × 0.35 × 730 = 27.3385
      {
        item: "EKS node group spot: m5.large Spot (0.35 × On-Demand)",
        quantity: 2,
        unitMonthly: 27.3385,
        monthly: 54.68,
      },
      { item: "EBS gp3 node root volumes, GB-month (3 × 20 GB)", quantity: 60, unitMonthly: 0.088, monthly: 5.28 },
    ]);
    expect(est.lines.some((l) => l.item.startsWith("EC2 "))).toBe(false);
    // Same data tier and network as dev.
    const devRest = estimateMonthlyCost(dev).lines.slice(2);
    expect(est.lines.slice(4)).toEqual(devRest);
  });

  it("types missing from the price table are refused at load already (one catalogue)", () => {
    expect(() =>
      derive({ compute: { ...dev.compute, kind: "ec2", instanceType: "x9.huge" } as EnvironmentInput["compute"] }),
    ).toThrow(/costly: compute\.instanceType is not a known EC2 instance type: "x9\.huge"/);
  });

  it("defaults EKS to a Kubernetes version in standard support on the price table's date; extended support costs 6×", () => {
    const env = derive({ compute: eksCompute });
    if (env.compute.kind !== "eks") throw new Error("expected EKS");
    expect(prices.eksSupportOn(env.compute.kubernetesVersion)).toBe("standard");
    for (const e of [staging, production])
      if (e.compute.kind === "eks") expect(prices.eksSupportOn(e.compute.kubernetesVersion), e.name).toBe("standard");
    expect(prices.EKS_EXTENDED_SUPPORT_HOURLY).toBeCloseTo(6 * prices.EKS_CONTROL_PLANE_HOURLY, 10);
    // the calendar: 1.31 left standard support on 2025-11-26; 1.34 is standard until 2026-12-02
    expect(prices.eksSupportOn("1.31")).toBe("extended");
    expect(prices.eksSupportOn("1.34")).toBe("standard");
    expect(prices.eksSupportOn("1.29")).toBeUndefined();
    expect(prices.eksSupportOn("1.30", "2026-08-01")).toBe("unsupported");
    const old = derive({ compute: { ...eksCompute, kubernetesVersion: "1.31" } });
    expect(estimateMonthlyCost(old).lines[0]).toEqual({
      item: "EKS control plane (Kubernetes 1.31, EXTENDED support since 2025-11-26: 6× the standard price)",
      quantity: 1,
      unitMonthly: 438,
      monthly: 438,
    });
    // a version EKS no longer supports is refused at load already (lib/config/catalogue.ts)
    expect(() => derive({ compute: { ...eksCompute, kubernetesVersion: "1.19" } })).toThrow(
      /compute\.kubernetesVersion/,
    );
  });

  it("names an unknown EC2 instance type", () => {
    const env = unchecked({
      compute: { ...dev.compute, kind: "ec2", instanceType: "x9.huge" } as EnvironmentInput["compute"],
    });
    expect(() => estimateMonthlyCost(env)).toThrow(UnknownPriceError);
    expect(() => estimateMonthlyCost(env)).toThrow(/"x9\.huge"/);
    try {
      estimateMonthlyCost(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError); // reported by the CLI like any configuration problem
      const e = err as UnknownPriceError;
      expect(e.types).toEqual(["x9.huge"]);
      expect(e.problems).toEqual([
        expect.objectContaining({
          subject: "costly",
          path: "compute.instanceType",
          message: expect.stringContaining('unknown EC2 instance type "x9.huge"'),
        }),
      ]);
    }
  });

  it("names an unknown node group type, even when it is not the first of the group", () => {
    const env = unchecked({
      compute: {
        ...eksCompute,
        nodeGroups: [
          {
            name: "spot",
            instanceTypes: ["m5.large", "m7z.large"],
            capacityType: "SPOT",
            capacity: { min: 0, desired: 1, max: 2 },
          },
        ],
      },
    });
    expect(() => estimateMonthlyCost(env)).toThrow(/m7z\.large/);
    expect(() => estimateMonthlyCost(env)).toThrow(/compute\.nodeGroups\[0\]\.instanceTypes\[1\]/);
  });

  it("reports every unknown type at once (database class and cache node type too)", () => {
    const env = unchecked({
      compute: { ...dev.compute, kind: "ec2", instanceType: "t2.nano" } as EnvironmentInput["compute"],
      database: { ...dev.database, instanceClass: "db.x2g.large" },
      cache: { nodeType: "cache.m7g.large", replicas: 0, automaticFailover: false },
    });
    let error: unknown;
    try {
      estimateMonthlyCost(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnknownPriceError);
    expect((error as UnknownPriceError).types).toEqual(["t2.nano", "db.x2g.large", "cache.m7g.large"]);
    expect((error as Error).message).toMatch(/compute\.instanceType.*t2\.nano/);
    expect((error as Error).message).toMatch(/database\.instanceClass.*db\.x2g\.large/);
    expect((error as Error).message).toMatch(/cache\.nodeType.*cache\.m7g\.large/);
  });

  it("is pure: same input, same output, input untouched", () => {
    const before = JSON.stringify(production);
    expect(estimateMonthlyCost(production)).toEqual(estimateMonthlyCost(production));
    expect(JSON.stringify(production)).toBe(before);
  });
});
