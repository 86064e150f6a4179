/**
 * What AWS offers, as far as the environments are concerned: the instance, node-group,
 * database-class and cache-node types (the dated price table `lib/cost/prices.ts` is the one
 * catalogue of types: a type it cannot price is refused) and the engine versions AWS supports
 * (dated lists below; EKS from the release calendar of the price table). Each check returns the
 * rule a value breaks, with the nearest known names (lib/config/suggest.ts),
 * or undefined when the value is in the catalogue. Pure functions.
 */
import {
  CACHE_HOURLY,
  EC2_HOURLY,
  EKS_SUPPORT_CALENDAR,
  type EksVersionDates,
  eksSupportOn,
  PRICE_REGION,
  PRICES_AS_OF,
  RDS_HOURLY,
} from "../cost/prices.ts";
import { nearest } from "./suggest.ts";

/** Date the engine-version lists below were checked against AWS's documentation (ISO). */
export const VERSIONS_AS_OF = "2026-11-01";

/**
 * Amazon EKS Kubernetes versions a cluster can run on {@link VERSIONS_AS_OF}: those of the EKS
 * release calendar (`EKS_SUPPORT_CALENDAR` in lib/cost/prices.ts, with its source) in standard
 * support (14 months after the EKS release) or extended support (12 more months, billed at the
 * extended-support cluster-hour price). A version past its extended support is auto-upgraded by
 * EKS and cannot be created: it is not listed.
 */
export const EKS_VERSIONS: Readonly<Record<string, EksVersionDates>> = Object.fromEntries(
  Object.entries(EKS_SUPPORT_CALENDAR).filter(([v]) => {
    const support = eksSupportOn(v, VERSIONS_AS_OF);
    return support === "standard" || support === "extended";
  }),
);

/**
 * RDS for PostgreSQL engine versions a new instance can be created with on
 * {@link VERSIONS_AS_OF}. A major version alone (`"16"`) lets RDS pick its default minor and,
 * with automatic minor upgrades on (lib/constructs/database.ts), keeps plans free of version
 * drift. Minors: AWS ended standard support of 14.17, 15.12, 16.8, 17.4 and older on 31 May 2026
 * (no new instances since 1 May 2026); listed are the minors released since, up to the versions
 * AWS named as upgrade targets (14.20, 15.15, 16.11, 17.7) and 18.1. Source: RDS for PostgreSQL
 * release calendar and the May 2026 minor-version deprecation notice. Add newer minors as RDS
 * lists them.
 */
export const POSTGRES_VERSIONS: readonly string[] = [
  "14",
  "14.18",
  "14.19",
  "14.20",
  "15",
  "15.13",
  "15.14",
  "15.15",
  "16",
  "16.9",
  "16.10",
  "16.11",
  "17",
  "17.5",
  "17.6",
  "17.7",
  "18",
  "18.1",
];

/**
 * ElastiCache for Redis OSS engine versions for replication groups (from 6 on, AWS takes
 * `major.minor`). Redis OSS 4 and 5 left standard support on 31 January 2026. Source: Amazon
 * ElastiCache User Guide, "Supported engines and versions".
 */
export const REDIS_VERSIONS: readonly string[] = ["6.2", "7.0", "7.1"];

/** The kinds of type the catalogue knows, with where their list lives. */
const TYPES = {
  ec2: { what: "EC2 instance type", table: EC2_HOURLY, note: "x86_64 types" },
  rds: { what: "RDS instance class", table: RDS_HOURLY, note: "PostgreSQL classes" },
  cache: { what: "ElastiCache node type", table: CACHE_HOURLY, note: "Redis OSS node types" },
} as const;

export type TypeKind = keyof typeof TYPES;

/** Why `value` is not an allowed type of `kind`; undefined when it is in the catalogue. */
export function unknownType(kind: TypeKind, value: string): string | undefined {
  const { what, table, note } = TYPES[kind];
  if (Object.hasOwn(table, value)) return undefined;
  return (
    `is not a known ${what}: "${value}" (nearest: ` +
    `${nearest(value, Object.keys(table), 3).join(", ")}; the catalogue is lib/cost/prices.ts, ` +
    `${note} priced for ${PRICE_REGION} as of ${PRICES_AS_OF}: add the type there with its price)`
  );
}

/** Why `value` is not a supported engine version; undefined when it is. */
export function unsupportedVersion(engine: "eks" | "postgres" | "redis", value: string): string | undefined {
  const [what, list] =
    engine === "eks"
      ? (["an EKS Kubernetes version", Object.keys(EKS_VERSIONS)] as const)
      : engine === "postgres"
        ? (["an RDS for PostgreSQL version", POSTGRES_VERSIONS] as const)
        : (["an ElastiCache Redis OSS version", REDIS_VERSIONS] as const);
  if (list.includes(value)) return undefined;
  return `is not ${what} AWS supports: "${value}" (supported as of ${VERSIONS_AS_OF}: ${list.join(", ")}; lib/config/catalogue.ts)`;
}
