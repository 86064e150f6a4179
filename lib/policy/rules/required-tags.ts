import { REQUIRED_TAGS } from "../../config/tags.ts";
import type { PolicyRule } from "../types.ts";

/**
 * Checked on the AWS provider, whose default tags reach every taggable resource, and on every
 * resource that sets tags of its own (which must not blank a required one).
 */
export const requiredTags: PolicyRule = {
  id: "required-tags",
  description: `Every resource carries ${REQUIRED_TAGS.join(", ")}`,
  appliesTo: ["provider.aws", "*"],
  check: (r) => {
    if (r.type !== "provider.aws" && r.config.tags === undefined) return undefined;
    const missing = REQUIRED_TAGS.filter((t) => !r.tags[t]);
    return missing.length ? `missing tag(s) ${missing.join(", ")}` : undefined;
  },
};
