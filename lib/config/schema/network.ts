import { z } from "zod";
import { parseCidr } from "../cidr.ts";
import { LogRetentionSchema, NetworkCidrSchema } from "./common.ts";

/** VPC CIDR: AWS allows /16 to /28 (Amazon VPC User Guide, "VPC CIDR blocks"); the subnet layout needs /24 or larger. */
const CidrSchema = NetworkCidrSchema.refine(
  (v) => {
    const c = parseCidr(v);
    return !c || (c.prefix >= 16 && c.prefix <= 24);
  },
  {
    message:
      "must have a prefix between /16 and /24 (AWS allows /16-/28; the subnet layout needs room for 3 AZs × 3 tiers)",
  },
);

export const NetworkSchema = z.strictObject({
  /** VPC CIDR; must not overlap any other environment. */
  cidr: CidrSchema,
  /** Number of availability zones (2-3). */
  azCount: z.number().int().min(2).max(3),
  /** `single`: one shared NAT gateway; `per-az`: one per AZ (required in production). */
  natGateways: z.enum(["single", "per-az"]),
  /** Retention of the VPC flow logs (and of the EKS control-plane logs), in days. */
  flowLogRetentionDays: LogRetentionSchema.default(30),
});
