import { LimitRangeV1 } from "@cdktf/provider-kubernetes/lib/limit-range-v1";
import { ResourceQuotaV1 } from "@cdktf/provider-kubernetes/lib/resource-quota-v1";
import { Construct } from "constructs";

export interface ResourceList {
  readonly cpu: string;
  readonly memory: string;
}

export interface QuotaProps {
  readonly namespace: string;
  /** Totals over every pod of the namespace. */
  readonly quota: { readonly pods: number; readonly requests: ResourceList; readonly limits: ResourceList };
  /** Default (and maximum) requests and limits of a container without its own. */
  readonly container: { readonly requests: ResourceList; readonly limits: ResourceList };
  /** NodePort services allowed (one per slot). @default 2 */
  readonly nodePorts?: number;
  /** Labels of every object of the environment. @default none */
  readonly labels?: Record<string, string>;
}

/**
 * ResourceQuota (pods, CPU and memory requests/limits, NodePorts, no LoadBalancer services) and a
 * LimitRange giving containers without their own the tier's requests and limits, and capping
 * any container at the tier's limits.
 */
export class Quota extends Construct {
  readonly resourceQuota: ResourceQuotaV1;
  readonly limitRange: LimitRangeV1;

  constructor(scope: Construct, id: string, props: QuotaProps) {
    super(scope, id);
    const metadata = (name: string) => ({ name, namespace: props.namespace, labels: { ...props.labels } });
    const q = props.quota;
    this.resourceQuota = new ResourceQuotaV1(this, "quota", {
      metadata: metadata("app-quota"),
      spec: {
        hard: {
          pods: String(q.pods),
          "requests.cpu": q.requests.cpu,
          "requests.memory": q.requests.memory,
          "limits.cpu": q.limits.cpu,
          "limits.memory": q.limits.memory,
          "services.nodeports": String(props.nodePorts ?? 2),
          "services.loadbalancers": "0",
        },
      },
    });
    const c = props.container;
    this.limitRange = new LimitRangeV1(this, "limits", {
      metadata: metadata("app-limits"),
      spec: {
        limit: [
          {
            type: "Container",
            defaultRequest: { cpu: c.requests.cpu, memory: c.requests.memory },
            default: { cpu: c.limits.cpu, memory: c.limits.memory },
            max: { cpu: c.limits.cpu, memory: c.limits.memory },
          },
        ],
      },
    });
  }
}
