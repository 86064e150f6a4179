import { REQUIRED_TAGS } from "../../config/tags.ts";
import { blocks } from "../k8s.ts";
import { isTrue, type PolicyRule } from "../types.ts";

/**
 * Provider default tags never reach Auto Scaling groups (they carry `tag` blocks, not `tags`),
 * nor the instances they launch: each group lists the required tags itself, propagated at launch.
 */
export const asgRequiredTags: PolicyRule = {
  id: "asg-required-tags",
  description: `Auto Scaling groups carry ${REQUIRED_TAGS.join(", ")} in their own tag blocks, propagated to their instances`,
  appliesTo: ["aws_autoscaling_group"],
  check: (r) => {
    const tags = new Map(blocks(r.config.tag).map((t) => [String(t.key), t]));
    const missing = REQUIRED_TAGS.filter((k) => !tags.has(k) || String(tags.get(k)!.value ?? "") === "");
    const unpropagated = REQUIRED_TAGS.filter((k) => tags.has(k) && !isTrue(tags.get(k)!.propagate_at_launch));
    const problems = [
      ...(missing.length ? [`missing tag block(s) ${missing.join(", ")}`] : []),
      ...(unpropagated.length ? [`${unpropagated.join(", ")} not propagated at launch`] : []),
    ];
    return problems.length ? problems.join("; ") : undefined;
  },
};
