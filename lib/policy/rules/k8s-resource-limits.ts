import { block, containers, POD_TYPES, podSpec } from "../k8s.ts";
import type { PolicyRule } from "../types.ts";

export const k8sResourceLimits: PolicyRule = {
  id: "k8s-resource-limits",
  description: "Every Kubernetes container sets CPU and memory limits",
  appliesTo: POD_TYPES,
  check: (r) => {
    const pod = podSpec(r.type, r.config);
    if (!pod) return undefined;
    const problems = containers(pod).flatMap(({ name, container }) => {
      const limits = block(block(container.resources)?.limits) ?? {};
      const missing = ["cpu", "memory"].filter((k) => typeof limits[k] !== "string" || limits[k] === "");
      return missing.length ? [`container ${name} has no ${missing.join(" and ")} limit`] : [];
    });
    return problems.length ? problems.join("; ") : undefined;
  },
};
