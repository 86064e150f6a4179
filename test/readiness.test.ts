/**
 * The readiness gate of EKS environments (lib/release/gates/readiness.ts) and the Deployment reading
 * (lib/kube/workloads.ts): pure judgements, a table of the states a Deployment can be in.
 */
import { describe, expect, it } from "vitest";
import { slotWorkloadOf } from "../lib/kube/workloads.ts";
import { notReadyReason, slotReadiness } from "../lib/release/gates/readiness.ts";
import type { SlotWorkload } from "../lib/release/ports/index.ts";

const ready: SlotWorkload = { desired: 2, ready: 2, updated: 2, version: "1.5.0", observed: true };

describe("readiness gate", () => {
  it.each([
    ["ready", ready, null],
    ["no Deployment", null, "the Deployment of green does not exist"],
    ["another version", { ...ready, version: "1.4.2" }, "the Deployment of green runs 1.4.2, not 1.5.0"],
    ["no version label", { ...ready, version: null }, "the Deployment of green runs no version, not 1.5.0"],
    [
      "spec not yet observed",
      { ...ready, observed: false },
      "the Deployment of green has a spec its controller has not seen yet",
    ],
    ["scaled to zero", { ...ready, desired: 0, ready: 0, updated: 0 }, "the Deployment of green asks for 0 replicas"],
    [
      "a pod not Ready",
      { ...ready, ready: 1 },
      "the Deployment of green has 1/2 pods Ready (2 of the current template)",
    ],
    [
      "a rollout stuck on the old template",
      { ...ready, updated: 1 },
      "the Deployment of green has 2/2 pods Ready (1 of the current template)",
    ],
  ] as const)("%s", (_, w, reason) => {
    expect(notReadyReason("green", "1.5.0", w)).toBe(reason);
  });

  it("a read that fails is a reason, never a pass (fail closed)", async () => {
    const reason = await slotReadiness(
      { read: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6443")) },
      "blue",
      "1.5.0",
    );
    expect(reason).toBe(
      "could not read the Deployment of blue from the Kubernetes API: connect ECONNREFUSED 127.0.0.1:6443",
    );
    expect(await slotReadiness({ read: async () => ({ blue: ready, green: null }) }, "blue", "1.5.0")).toBeNull();
  });

  it("a Deployment from the API reduces to its slot state; missing status fields are not Ready", () => {
    const api = {
      metadata: { generation: 3 },
      spec: { replicas: 3, template: { metadata: { labels: { "app.kubernetes.io/version": "2.0.0" } } } },
      status: { observedGeneration: 3, readyReplicas: 2, updatedReplicas: 3 },
    };
    expect(slotWorkloadOf(api)).toEqual({ desired: 3, ready: 2, updated: 3, version: "2.0.0", observed: true });
    expect(slotWorkloadOf({ metadata: { generation: 4 }, spec: api.spec, status: {} })).toEqual({
      desired: 3,
      ready: 0,
      updated: 0,
      version: "2.0.0",
      observed: false,
    });
  });
});
