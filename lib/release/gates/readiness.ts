/**
 * The readiness gate of EKS environments: traffic moves to a slot only when its Deployment runs the
 * version the release file names, the controller has seen its latest spec, and every desired pod
 * is updated and Ready. Could-not-read and no-Deployment are not ready (fail closed). EC2
 * environments have no Workloads port: their slots are judged by the ALB's target health.
 */
import type { Slot } from "../../core/primitives.ts";
import { describeCause } from "../model/errors.ts";
import type { SlotWorkload, Workloads } from "../ports/index.ts";

/** Why `slot` is not ready to take traffic for `version`, or null when it is. Pure. */
export function notReadyReason(slot: Slot, version: string, w: SlotWorkload | null): string | null {
  if (w === null) return `the Deployment of ${slot} does not exist`;
  if (w.version !== version) return `the Deployment of ${slot} runs ${w.version ?? "no version"}, not ${version}`;
  if (!w.observed) return `the Deployment of ${slot} has a spec its controller has not seen yet`;
  if (w.desired === 0) return `the Deployment of ${slot} asks for 0 replicas`;
  if (w.updated < w.desired || w.ready < w.desired)
    return `the Deployment of ${slot} has ${w.ready}/${w.desired} pods Ready (${w.updated} of the current template)`;
  return null;
}

/** One read of the slot's Deployment, judged; a failed read is a reason too. */
export async function slotReadiness(workloads: Workloads, slot: Slot, version: string): Promise<string | null> {
  let read: Record<Slot, SlotWorkload | null>;
  try {
    read = await workloads.read();
  } catch (err) {
    return `could not read the Deployment of ${slot} from the Kubernetes API: ${describeCause(err)}`;
  }
  return notReadyReason(slot, version, read[slot]);
}
