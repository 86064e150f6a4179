import { containers, POD_TYPES, podSpec } from "../k8s.ts";
import { isTrue, type PolicyRule } from "../types.ts";

export const k8sNoPrivileged: PolicyRule = {
  id: "k8s-no-privileged",
  description: "No privileged Kubernetes container and no pod sharing the node's network, PID or IPC namespace",
  appliesTo: POD_TYPES,
  check: (r) => {
    const pod = podSpec(r.type, r.config);
    if (!pod) return undefined;
    const problems = [
      ...containers(pod)
        .filter((c) => isTrue(c.securityContext?.privileged))
        .map((c) => `container ${c.name} is privileged`),
      ...["host_network", "host_pid", "host_ipc"].filter((k) => isTrue(pod[k])).map((k) => `${k} must not be true`),
    ];
    return problems.length ? problems.join("; ") : undefined;
  },
};
