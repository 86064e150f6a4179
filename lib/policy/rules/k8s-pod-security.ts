import { block, containers, isFalse, POD_TYPES, podSpec } from "../k8s.ts";
import { isTrue, type PolicyRule } from "../types.ts";

/** The restricted-profile fields every container must set (run_as_non_root may come from the pod). */
export const k8sPodSecurity: PolicyRule = {
  id: "k8s-pod-security",
  description:
    "Kubernetes containers run as non-root, without privilege escalation, with ALL capabilities dropped and a read-only root filesystem",
  appliesTo: POD_TYPES,
  check: (r) => {
    const pod = podSpec(r.type, r.config);
    if (!pod) return "has no pod spec";
    const podContext = block(pod.security_context);
    const list = containers(pod);
    if (list.length === 0) return "has no container";
    const problems = list.flatMap(({ name, securityContext: sc }) => {
      const missing: string[] = [];
      if (!isTrue(sc?.run_as_non_root ?? podContext?.run_as_non_root)) missing.push("run_as_non_root = true");
      if (!isFalse(sc?.allow_privilege_escalation)) missing.push("allow_privilege_escalation = false");
      const drop = block(sc?.capabilities)?.drop;
      if (!Array.isArray(drop) || !drop.includes("ALL")) missing.push('capabilities.drop = ["ALL"]');
      if (!isTrue(sc?.read_only_root_filesystem)) missing.push("read_only_root_filesystem = true");
      return missing.length ? [`container ${name} needs ${missing.join(", ")}`] : [];
    });
    return problems.length ? problems.join("; ") : undefined;
  },
};
