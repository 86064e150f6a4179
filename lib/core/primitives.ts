/**
 * The config primitives: the small vocabulary every layer shares (tiers, slots, plain setting
 * values, environment names, AWS region names). This module depends on nothing but zod, so the
 * release package, the constructs and the CLI can all import it without pulling in the environment
 * schema.
 */
import { z } from "zod";

export const TIERS = ["development", "staging", "production"] as const;
export const SLOTS = ["blue", "green"] as const;

export const TierSchema = z.enum(TIERS);
export const SlotSchema = z.enum(SLOTS);
export type Tier = z.infer<typeof TierSchema>;
export type Slot = z.infer<typeof SlotSchema>;

/** A plain application setting value (secrets never appear here). */
export const SettingValueSchema = z.union([z.string().max(4096), z.number().finite(), z.boolean()]);
export type SettingValue = z.infer<typeof SettingValueSchema>;

/** Lower-case DNS-label style name: used in resource names, stack names and state keys. */
export const NameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, "must be 2-32 chars of a-z, 0-9 and '-', starting with a letter");

/** An AWS region name (`eu-west-1`, `us-gov-west-1`), as a pattern for ARNs and a schema. */
export const REGION_PATTERN = /[a-z]{2}(-gov)?-[a-z]+-\d/;
export const RegionSchema = z
  .string()
  .regex(new RegExp(`^${REGION_PATTERN.source}$`), "must be an AWS region such as eu-west-1");
