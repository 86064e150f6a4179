/**
 * A small, dated price table for `envctl cost`: the AWS resources the stacks create, priced in
 * USD at public on-demand list prices of eu-west-1 (Ireland), Linux / PostgreSQL / Redis OSS,
 * no reserved instances, savings plans or free tier.
 *
 * Source: the public AWS pricing pages (EC2 On-Demand, RDS for PostgreSQL, ElastiCache, VPC NAT
 * gateway, Elastic Load Balancing, Amazon EKS, EBS), read on {@link PRICES_AS_OF} and rounded.
 * The figures are APPROXIMATE: good for comparing environments and spotting an expensive
 * change, not for budgeting. Update the date with the figures.
 *
 * Every environment of the project runs in eu-west-1; an estimate for another region still
 * uses these prices.
 *
 * The tables are also THE catalogue of types an environment may use: `lib/config/catalogue.ts`
 * refuses an instance type, node-group type, database class or cache node type that is not a
 * key here (with the nearest known names), so every accepted environment can be priced. To
 * allow a new type, add it with its price read from the pricing page, and keep the date.
 * Sizes marked "family scaling" were added from the family's listed size: within an instance
 * family, AWS prices each size linearly (twice the size, twice the price).
 *
 * Plain data, importing nothing: lib/config (the catalogue, the cost estimate in
 * lib/config/cost-estimate.ts) builds on it, never the reverse.
 */

/** Date the prices were read (ISO). */
export const PRICES_AS_OF = "2026-11-01";
/** Region the prices are for. */
export const PRICE_REGION = "eu-west-1";
export const CURRENCY = "USD";
/** Hours in the billing month used by every estimate (AWS's own convention: 365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

/**
 * EC2 On-Demand, Linux, USD per instance-hour (app instances and EKS nodes). x86_64 types only:
 * the app instances boot the Amazon Linux 2023 x86_64 AMI and the node groups use
 * `AL2023_x86_64_STANDARD`, so a Graviton (arm64) type would not start them.
 */
export const EC2_HOURLY: Readonly<Record<string, number>> = {
  "t3.nano": 0.0057, // family scaling
  "t3.micro": 0.0114,
  "t3.small": 0.0228,
  "t3.medium": 0.0456,
  "t3.large": 0.0912,
  "t3.xlarge": 0.1824, // family scaling
  "t3.2xlarge": 0.3648, // family scaling
  "m5.large": 0.107,
  "m5.xlarge": 0.214,
  "m5.2xlarge": 0.428, // family scaling
  "m5.4xlarge": 0.856, // family scaling
  "m5a.large": 0.096,
  "m5a.xlarge": 0.192, // family scaling
  "m4.large": 0.111,
  "m4.xlarge": 0.222, // family scaling
};

/**
 * RDS for PostgreSQL On-Demand, USD per instance-hour. Multi-AZ (one standby) is billed as two
 * instances: `multiAz` is exactly twice `singleAz`.
 */
export const RDS_HOURLY: Readonly<Record<string, { readonly singleAz: number; readonly multiAz: number }>> = {
  "db.t3.micro": { singleAz: 0.018, multiAz: 0.036 },
  "db.t3.small": { singleAz: 0.036, multiAz: 0.072 },
  "db.t3.medium": { singleAz: 0.072, multiAz: 0.144 },
  "db.t3.large": { singleAz: 0.144, multiAz: 0.288 }, // family scaling
  "db.t3.xlarge": { singleAz: 0.288, multiAz: 0.576 }, // family scaling
  "db.r5.large": { singleAz: 0.28, multiAz: 0.56 }, // family scaling
  "db.r5.xlarge": { singleAz: 0.56, multiAz: 1.12 },
  "db.r5.2xlarge": { singleAz: 1.12, multiAz: 2.24 }, // family scaling
};

/** RDS gp3 storage, USD per GB-month (per copy: multi-AZ stores it twice). */
export const RDS_GP3_PER_GB_MONTH = 0.127;

/** EBS gp3 volumes (root volumes of app instances and nodes), USD per GB-month. */
export const EBS_GP3_PER_GB_MONTH = 0.088;

/** Root volume of an app instance or EKS node, GiB (the launch template's default). */
export const ROOT_VOLUME_GB = 20;

/** ElastiCache for Redis OSS On-Demand, USD per node-hour. */
export const CACHE_HOURLY: Readonly<Record<string, number>> = {
  "cache.t3.micro": 0.018,
  "cache.t3.small": 0.036,
  "cache.t3.medium": 0.072, // family scaling
  "cache.r6g.large": 0.228,
  "cache.r6g.xlarge": 0.456, // family scaling
  "cache.r6g.2xlarge": 0.912, // family scaling
};

/** NAT gateway, USD per gateway-hour (data processing, $0.048/GB, is not estimated). */
export const NAT_GATEWAY_HOURLY = 0.048;

/** Application Load Balancer, USD per ALB-hour. */
export const ALB_HOURLY = 0.0252;
/** ALB capacity units, USD per LCU-hour. */
export const ALB_LCU_HOURLY = 0.008;
/** Fixed estimate of the average LCUs an environment's ALB consumes (light traffic). */
export const ALB_ESTIMATED_LCU = 1;

/** EKS control plane in standard support, USD per cluster-hour. */
export const EKS_CONTROL_PLANE_HOURLY = 0.1;
/** EKS control plane in extended support (a version past its standard support), USD per cluster-hour: 6×. */
export const EKS_EXTENDED_SUPPORT_HOURLY = 0.6;

/** Release date and ends (exclusive) of standard and extended support of one EKS Kubernetes version (ISO days). */
export interface EksVersionDates {
  readonly released: string;
  readonly standardUntil: string;
  readonly extendedUntil: string;
}

/**
 * Amazon EKS Kubernetes release calendar (AWS EKS user guide, "Understand the Kubernetes version
 * lifecycle on EKS", for 1.30-1.34; endoflife.date/amazon-eks for 1.35): a minor version has 14 months of standard support, then 12 months of extended support
 * at {@link EKS_EXTENDED_SUPPORT_HOURLY}. Dates are the ends (exclusive) of each period. The one
 * calendar of the project: the versions lib/config/catalogue.ts accepts are those it lists as in
 * standard or extended support on the catalogue's date.
 */
export const EKS_SUPPORT_CALENDAR: Readonly<Record<string, EksVersionDates>> = {
  "1.30": { released: "2024-05-23", standardUntil: "2025-07-23", extendedUntil: "2026-07-23" },
  "1.31": { released: "2024-09-26", standardUntil: "2025-11-26", extendedUntil: "2026-11-26" },
  "1.32": { released: "2025-01-23", standardUntil: "2026-03-23", extendedUntil: "2027-03-23" },
  "1.33": { released: "2025-05-29", standardUntil: "2026-07-29", extendedUntil: "2027-07-29" },
  "1.34": { released: "2025-10-02", standardUntil: "2026-12-02", extendedUntil: "2027-12-02" },
  "1.35": { released: "2026-01-27", standardUntil: "2027-03-27", extendedUntil: "2028-03-27" },
};

export type EksSupport = "standard" | "extended" | "unsupported";

/** Which support a Kubernetes minor version is in on `date` (ISO day); undefined when the calendar does not know it. */
export function eksSupportOn(version: string, date: string = PRICES_AS_OF): EksSupport | undefined {
  const c = EKS_SUPPORT_CALENDAR[version];
  if (!c || date < c.released) return undefined;
  return date < c.standardUntil ? "standard" : date < c.extendedUntil ? "extended" : "unsupported";
}

/**
 * Spot price as a fraction of the On-Demand price (a typical ~65 % discount for the m5/m4
 * family in eu-west-1; spot prices move, this is an average).
 */
export const SPOT_PRICE_FACTOR = 0.35;
