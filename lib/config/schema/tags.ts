import { z } from "zod";

/**
 * AWS tags (Tagging AWS Resources, "Tag naming limits and requirements"): keys 1-128 and values
 * 0-256 Unicode characters of letters, digits, spaces and `_ . : / = + - @`; the `aws:` prefix is
 * reserved for AWS; at most 50 tags per resource.
 */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_CHARS_RULE = "may contain only letters, digits, spaces and _ . : / = + - @ (AWS tag rules)";
export const TagValueSchema = z
  .string()
  .max(256, "must be at most 256 characters (AWS tag value limit)")
  .regex(TAG_CHARS, TAG_CHARS_RULE);
/** Tag keys the stacks set themselves (lib/config/tags.ts, previews, per-resource Name/Slot/Version). */
export const PROJECT_TAG_KEYS = [
  "Environment",
  "Project",
  "ManagedBy",
  "Owner",
  "CostCenter",
  "Tier",
  "Name",
  "Slot",
  "Version",
] as const;
/** 50 tags per resource (AWS) minus the ones the project sets (beside previews' Preview and ExpiresAt). */
export const MAX_USER_TAGS = 50 - PROJECT_TAG_KEYS.length - 2;
const TagKeySchema = z
  .string()
  .min(1, "must not be empty")
  .max(128, "must be at most 128 characters (AWS tag key limit)")
  .regex(TAG_CHARS, TAG_CHARS_RULE)
  .refine((k) => !/^aws:/i.test(k), { message: "must not start with aws: (reserved for AWS)" })
  .refine((k) => !(PROJECT_TAG_KEYS as readonly string[]).includes(k), {
    message: `is set by the project itself (${PROJECT_TAG_KEYS.join(", ")})`,
  });
export const TagsSchema = z.record(TagKeySchema, TagValueSchema).refine((t) => Object.keys(t).length <= MAX_USER_TAGS, {
  message: `must have at most ${MAX_USER_TAGS} tags (AWS allows 50 per resource; the project sets the rest)`,
});
