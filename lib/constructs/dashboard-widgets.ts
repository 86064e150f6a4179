/** The widgets of an environment's CloudWatch dashboard (and the grid every dashboard of the project uses). */
import { SLOTS } from "../config/schema.ts";
import type { MonitoringProps } from "./monitoring.ts";

/** Requests, target 5xx and p99 per slot; database and cache CPU. */
export function environmentWidgets(
  props: Pick<
    MonitoringProps,
    "region" | "loadBalancerArnSuffix" | "targetGroupArnSuffixes" | "databaseId" | "cacheId"
  >,
) {
  // One line per slot: an ALB metric of the slot's target group.
  const perSlot = (metric: string, stat: string) =>
    SLOTS.map((s) => [
      "AWS/ApplicationELB",
      metric,
      "LoadBalancer",
      props.loadBalancerArnSuffix,
      "TargetGroup",
      props.targetGroupArnSuffixes[s],
      { stat, label: s },
    ]);
  return [
    widget(0, "Requests per slot", props.region, perSlot("RequestCount", "Sum")),
    widget(1, "Target 5xx per slot", props.region, perSlot("HTTPCode_Target_5XX_Count", "Sum")),
    widget(2, "p99 response time per slot", props.region, perSlot("TargetResponseTime", "p99")),
    widget(3, "Database and cache CPU", props.region, [
      ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", props.databaseId, { label: "rds" }],
      ["AWS/ElastiCache", "EngineCPUUtilization", "ReplicationGroupId", props.cacheId, { label: "redis" }],
    ]),
  ];
}

/** One CloudWatch dashboard line-graph widget in a two-column grid. */
export function widget(index: number, title: string, region: string, metrics: unknown[][], period = 300) {
  return {
    type: "metric",
    x: (index % 2) * 12,
    y: Math.floor(index / 2) * 6,
    width: 12,
    height: 6,
    properties: { title, region, view: "timeSeries", stacked: false, period, metrics },
  };
}
