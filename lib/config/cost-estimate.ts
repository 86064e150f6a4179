/**
 * Monthly cost estimate of one environment from its configuration alone (pure: no AWS calls),
 * priced with the dated table in `lib/cost/prices.ts`. Approximate by design — see the assumptions.
 *
 * Assumptions:
 * - 730 hours a month; everything runs all month; On-Demand list prices of eu-west-1.
 * - EC2 compute: `capacity.desired` instances of ONE slot. The idle slot scales to 0 while it
 *   has no version (and between releases), so it is not counted; during a rollout both slots run
 *   and the real bill is higher. With auto-scaling on, the desired capacity is the baseline.
 * - EKS compute: the control plane (standard or extended support of its Kubernetes version on
 *   {@link PRICES_AS_OF}, from the EKS release calendar in the price table) plus every node group at its desired size; a node group is
 *   priced at its first instance type, Spot groups at {@link SPOT_PRICE_FACTOR} of On-Demand.
 *   Every listed instance type must be in the table (so a table gap is caught early).
 * - Each instance / node has a {@link ROOT_VOLUME_GB} GiB gp3 root volume.
 * - RDS: one instance, two (primary + standby) when multi-AZ; storage at the allocated size
 *   (autoscaling headroom not counted), stored twice when multi-AZ. Backups within the free
 *   allowance (= database size) are free.
 * - ElastiCache: 1 primary + `replicas` nodes.
 * - NAT gateways: 1 when `single`, one per AZ when `per-az`; data processing not estimated.
 * - One ALB per environment, with a fixed LCU estimate ({@link ALB_ESTIMATED_LCU}).
 * - Not estimated: data transfer, CloudWatch (logs, metrics, alarms, dashboards), VPC flow
 *   logs, KMS keys, Secrets Manager, S3 (ALB logs, state), snapshots beyond the free allowance.
 */

import {
  ALB_ESTIMATED_LCU,
  ALB_HOURLY,
  ALB_LCU_HOURLY,
  CACHE_HOURLY,
  EBS_GP3_PER_GB_MONTH,
  EC2_HOURLY,
  EKS_CONTROL_PLANE_HOURLY,
  EKS_EXTENDED_SUPPORT_HOURLY,
  EKS_SUPPORT_CALENDAR,
  eksSupportOn,
  HOURS_PER_MONTH,
  NAT_GATEWAY_HOURLY,
  PRICE_REGION,
  PRICES_AS_OF,
  RDS_GP3_PER_GB_MONTH,
  RDS_HOURLY,
  ROOT_VOLUME_GB,
  SPOT_PRICE_FACTOR,
} from "../cost/prices.ts";
import { ConfigError, type Problem } from "./errors.ts";
import type { Ec2Compute, EksCompute, Environment } from "./schema.ts";

export interface CostLine {
  /** What is billed, e.g. `EC2 t3.micro (app instances, one live slot)`. */
  readonly item: string;
  /** How many units: instances, nodes, gateways, GB-months, LCUs. */
  readonly quantity: number;
  /** USD per unit per month (4 decimals). */
  readonly unitMonthly: number;
  /** `quantity × unitMonthly`, USD, rounded to cents. */
  readonly monthly: number;
}

export interface CostEstimate {
  /** Sum of the lines' `monthly`, USD, rounded to cents. */
  readonly total: number;
  readonly lines: CostLine[];
}

/** An instance, node or database class the price table does not know. */
export class UnknownPriceError extends ConfigError {
  constructor(
    problems: readonly Problem[],
    readonly types: readonly string[],
  ) {
    super(
      problems,
      `no price for ${types.map((t) => `"${t}"`).join(", ")} in lib/cost/prices.ts (prices of ${PRICE_REGION} as of ${PRICES_AS_OF}); add it to the table`,
    );
    this.name = "UnknownPriceError";
  }
}

const round = (value: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round((value + Number.EPSILON) * f) / f;
};

const monthlyOfHourly = (hourly: number): number => round(hourly * HOURS_PER_MONTH, 4);

/** Estimated monthly cost of one environment, line by line. Throws {@link UnknownPriceError}. */
export function estimateMonthlyCost(env: Environment): CostEstimate {
  const problems: Problem[] = [];
  const unknown: string[] = [];
  /** Looks a price up; records a problem (all of them are reported at once) when it is missing. */
  const price = <T>(table: Readonly<Record<string, T>>, key: string, path: string, what: string): T | undefined => {
    const value = Object.hasOwn(table, key) ? table[key] : undefined;
    if (value === undefined) {
      problems.push({
        subject: env.name,
        path,
        message: `unknown ${what} "${key}": no price in lib/cost/prices.ts (known: ${Object.keys(table).join(", ")})`,
      });
      if (!unknown.includes(key)) unknown.push(key);
    }
    return value;
  };

  const lines: CostLine[] = [];
  const line = (item: string, quantity: number, unitMonthly: number) => {
    lines.push({ item, quantity, unitMonthly, monthly: round(quantity * unitMonthly, 2) });
  };

  // Compute.
  const compute = env.compute;
  if (compute.kind === "ec2") {
    ec2Lines(compute, price, line);
  } else {
    eksLines(compute, price, line, (message) => {
      problems.push({ subject: env.name, path: "compute.kubernetesVersion", message });
      unknown.push(`EKS ${compute.kubernetesVersion}`);
    });
  }

  // Database.
  const db = env.database;
  const rds = price(RDS_HOURLY, db.instanceClass, "database.instanceClass", "RDS instance class");
  if (rds) {
    const copies = db.multiAz ? 2 : 1;
    line(
      `RDS ${db.instanceClass} (${db.multiAz ? "multi-AZ: primary + standby" : "single-AZ"})`,
      copies,
      monthlyOfHourly(rds.singleAz),
    );
    line(
      `RDS gp3 storage, GB-month (${db.allocatedStorageGb} GB${db.multiAz ? " × 2 copies" : ""})`,
      db.allocatedStorageGb * copies,
      RDS_GP3_PER_GB_MONTH,
    );
  }

  // Cache.
  const cacheHourly = price(CACHE_HOURLY, env.cache.nodeType, "cache.nodeType", "ElastiCache node type");
  if (cacheHourly !== undefined) {
    line(
      `ElastiCache ${env.cache.nodeType} (1 primary + ${env.cache.replicas} replica${env.cache.replicas === 1 ? "" : "s"})`,
      1 + env.cache.replicas,
      monthlyOfHourly(cacheHourly),
    );
  }

  // Network and load balancer.
  const nat = env.network.natGateways === "single" ? 1 : env.network.azCount;
  line(
    `NAT gateway (${env.network.natGateways === "single" ? "single, shared" : "one per AZ"})`,
    nat,
    monthlyOfHourly(NAT_GATEWAY_HOURLY),
  );
  line("Application Load Balancer", 1, monthlyOfHourly(ALB_HOURLY));
  line("ALB capacity units (fixed estimate)", ALB_ESTIMATED_LCU, monthlyOfHourly(ALB_LCU_HOURLY));

  if (problems.length > 0) throw new UnknownPriceError(problems, unknown);
  return {
    total: round(
      lines.reduce((sum, l) => sum + l.monthly, 0),
      2,
    ),
    lines,
  };
}

type PriceLookup = <T>(table: Readonly<Record<string, T>>, key: string, path: string, what: string) => T | undefined;
type AddLine = (item: string, quantity: number, unitMonthly: number) => void;

function ec2Lines(compute: Ec2Compute, price: PriceLookup, line: AddLine): void {
  const hourly = price(EC2_HOURLY, compute.instanceType, "compute.instanceType", "EC2 instance type");
  const instances = compute.capacity.desired;
  if (hourly !== undefined)
    line(`EC2 ${compute.instanceType} (app instances, one live slot)`, instances, monthlyOfHourly(hourly));
  line(
    `EBS gp3 root volumes, GB-month (${instances} × ${ROOT_VOLUME_GB} GB)`,
    instances * ROOT_VOLUME_GB,
    EBS_GP3_PER_GB_MONTH,
  );
}

function eksLines(compute: EksCompute, price: PriceLookup, line: AddLine, problem: (message: string) => void): void {
  const version = compute.kubernetesVersion;
  const support = eksSupportOn(version);
  if (support === "standard") {
    line(
      `EKS control plane (Kubernetes ${version}, standard support until ${EKS_SUPPORT_CALENDAR[version]!.standardUntil})`,
      1,
      monthlyOfHourly(EKS_CONTROL_PLANE_HOURLY),
    );
  } else if (support === "extended") {
    line(
      `EKS control plane (Kubernetes ${version}, EXTENDED support since ${EKS_SUPPORT_CALENDAR[version]!.standardUntil}: 6× the standard price)`,
      1,
      monthlyOfHourly(EKS_EXTENDED_SUPPORT_HOURLY),
    );
  } else {
    const known = Object.keys(EKS_SUPPORT_CALENDAR)
      .filter((v) => eksSupportOn(v) === "standard")
      .join(", ");
    problem(
      support === "unsupported"
        ? `Kubernetes ${version} is past the end of EKS extended support on ${PRICES_AS_OF}: choose a version in standard support (${known})`
        : `Kubernetes ${version} is not in the EKS release calendar of lib/cost/prices.ts (as of ${PRICES_AS_OF}; in standard support: ${known})`,
    );
  }
  let nodes = 0;
  compute.nodeGroups.forEach((group, g) => {
    const hourly = group.instanceTypes.map((type, i) =>
      price(EC2_HOURLY, type, `compute.nodeGroups[${g}].instanceTypes[${i}]`, "EC2 instance type"),
    )[0];
    const type = group.instanceTypes[0]!;
    const spot = group.capacityType === "SPOT";
    nodes += group.capacity.desired;
    if (hourly !== undefined) {
      line(
        `EKS node group ${group.name}: ${type} ${spot ? `Spot (${SPOT_PRICE_FACTOR} × On-Demand)` : "On-Demand"}`,
        group.capacity.desired,
        monthlyOfHourly(spot ? hourly * SPOT_PRICE_FACTOR : hourly),
      );
    }
  });
  line(
    `EBS gp3 node root volumes, GB-month (${nodes} × ${ROOT_VOLUME_GB} GB)`,
    nodes * ROOT_VOLUME_GB,
    EBS_GP3_PER_GB_MONTH,
  );
}
