import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";

export interface EksAlarmsProps {
  /** Environment name: prefixes the alarm names. */
  readonly namePrefix: string;
  /** Name of the EKS cluster (the Container Insights `ClusterName` dimension). */
  readonly clusterName: string;
  /** SNS topic notified on alarm and on recovery. */
  readonly topicArn: string;
  /** Average node memory utilisation above this alarms, percent. */
  readonly memoryPercent: number;
  /** Average node CPU utilisation (Container Insights) above this alarms, percent. */
  readonly cpuPercent: number;
  /** `basic`: 5-minute periods; `enhanced`/`full`: 1-minute periods. @default "full" */
  readonly level?: "basic" | "enhanced" | "full";
}

/**
 * Node alarms of an EKS cluster from Container Insights (the CloudWatch observability add-on of
 * {@link EksCompute}): memory, and CPU as Kubernetes sees it. The per-node-group EC2 CPU alarms
 * come from the monitoring construct (one per Auto Scaling group); the per-slot ALB alarms are
 * the same as on EC2.
 */
export class EksAlarms extends Construct {
  readonly alarms: CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: EksAlarmsProps) {
    super(scope, id);
    const p = props.namePrefix;
    const period = (props.level ?? "full") === "basic" ? 300 : 60;
    const common = {
      namespace: "ContainerInsights",
      dimensions: { ClusterName: props.clusterName },
      statistic: "Average",
      period,
      evaluationPeriods: 3,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [props.topicArn],
      okActions: [props.topicArn],
    };
    this.alarms = [
      new CloudwatchMetricAlarm(this, "node-memory", {
        ...common,
        alarmName: `${p}-compute-memory`,
        alarmDescription: `Average node memory utilisation of the cluster above ${props.memoryPercent} %`,
        metricName: "node_memory_utilization",
        threshold: props.memoryPercent,
      }),
      new CloudwatchMetricAlarm(this, "node-cpu", {
        ...common,
        alarmName: `${p}-compute-node-cpu`,
        alarmDescription: `Average node CPU utilisation of the cluster above ${props.cpuPercent} %`,
        metricName: "node_cpu_utilization",
        threshold: props.cpuPercent,
      }),
    ];
  }
}
