import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmConfig,
} from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { SLOTS, type Slot } from "../config/schema.ts";
import { environmentWidgets } from "./dashboard-widgets.ts";
import { slotAlarmNames } from "./naming.ts";

export { slotAlarmNames };

export interface MonitoringThresholds {
  /** 5xx as a percentage of requests. */
  readonly errorRatePercent: number;
  /** p99 target response time, seconds. */
  readonly latencyP99Seconds: number;
  readonly cpuPercent: number;
  /** Free RDS storage floor, GiB. */
  readonly freeStorageGb: number;
  /** Redis evictions per period. */
  readonly cacheEvictions: number;
}

export interface MonitoringProps {
  /** Environment name: prefixes alarm and dashboard names. */
  readonly namePrefix: string;
  readonly region: string;
  readonly thresholds: MonitoringThresholds;
  /** E-mail addresses subscribed to the alarm topic. @default none */
  readonly alarmEmails?: string[];
  /** `basic`: 5-minute periods; `enhanced`/`full`: 1-minute periods. @default "full" */
  readonly level?: "basic" | "enhanced" | "full";
  /**
   * Period of the per-slot alarms the rollout gate reads (5xx rate, p99, unhealthy targets), seconds:
   * the environment's analysis period, so one breaching period puts them in ALARM within a bake.
   * @default the level's period
   */
  readonly slotAlarmPeriodSeconds?: number;
  /** `app/<name>/<id>` of the ALB (its arn_suffix). */
  readonly loadBalancerArnSuffix: string;
  /** arn_suffix of each slot's target group. */
  readonly targetGroupArnSuffixes: Record<Slot, string>;
  /** Auto Scaling groups whose CPU is watched (EC2 slots or EKS node groups). */
  readonly autoScalingGroupNames: string[];
  /** RDS instance identifier. */
  readonly databaseId: string;
  /** ElastiCache replication group id. */
  readonly cacheId: string;
  /**
   * When a slot's unhealthy targets raise its alarm. `always`: any unhealthy target (EC2: an
   * empty slot has no instances, so no targets). `serving`: only while the slot receives
   * requests (EKS: every node is a target of both slots, and an empty slot's NodePort has no
   * pods behind it, so its targets are unhealthy by design). @default "always"
   */
  readonly unhealthyHostsWhen?: "always" | "serving";
}

/** Alarm topic, alarms with the tier's thresholds and a dashboard for one environment. */
export class Monitoring extends Construct {
  readonly topic: SnsTopic;
  readonly alarms: CloudwatchMetricAlarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const p = props.namePrefix;
    const t = props.thresholds;
    const period = (props.level ?? "full") === "basic" ? 300 : 60;
    this.topic = new SnsTopic(this, "alarms", { name: `${p}-alarms`, kmsMasterKeyId: "alias/aws/sns" });
    (props.alarmEmails ?? []).forEach((email, i) => {
      new SnsTopicSubscription(this, `email-${i}`, {
        topicArn: this.topic.arn,
        protocol: "email",
        endpoint: email,
      });
    });
    const alarm = (
      id: string,
      config: Omit<CloudwatchMetricAlarmConfig, "alarmActions" | "okActions" | "evaluationPeriods"> & {
        evaluationPeriods?: number;
      },
    ) => {
      this.alarms.push(
        new CloudwatchMetricAlarm(this, id, {
          evaluationPeriods: 3,
          treatMissingData: "notBreaching",
          alarmActions: [this.topic.arn],
          okActions: [this.topic.arn],
          ...config,
        }),
      );
    };
    // Gate alarms: one breaching period of three raises them (a bake holds one analysis window).
    const slotPeriod = props.slotAlarmPeriodSeconds ?? period;
    const gate = { evaluationPeriods: 3, datapointsToAlarm: 1 };
    const rate = (
      name: string,
      description: string,
      errors: string,
      dims: Record<string, string>,
      p = period,
      extra: object = {},
    ) =>
      alarm(name, {
        ...extra,
        alarmName: name,
        alarmDescription: description,
        comparisonOperator: "GreaterThanThreshold",
        threshold: t.errorRatePercent,
        metricQuery: [
          {
            id: "errors",
            metric: { namespace: "AWS/ApplicationELB", metricName: errors, dimensions: dims, period: p, stat: "Sum" },
          },
          {
            id: "requests",
            metric: {
              namespace: "AWS/ApplicationELB",
              metricName: "RequestCount",
              dimensions: dims,
              period: p,
              stat: "Sum",
            },
          },
          { id: "rate", expression: "IF(requests > 0, 100 * errors / requests, 0)", label: "5xx %", returnData: true },
        ],
      });
    const lb = { LoadBalancer: props.loadBalancerArnSuffix };

    rate(
      `${p}-alb-5xx-rate`,
      `ALB-generated 5xx above ${t.errorRatePercent} % of requests`,
      "HTTPCode_ELB_5XX_Count",
      lb,
    );
    for (const slot of SLOTS) {
      const tg = { ...lb, TargetGroup: props.targetGroupArnSuffixes[slot] };
      const [errorName, latencyName, unhealthyName] = slotAlarmNames(p, slot) as [string, string, string];
      rate(
        errorName,
        `Target 5xx of the ${slot} slot above ${t.errorRatePercent} %`,
        "HTTPCode_Target_5XX_Count",
        tg,
        slotPeriod,
        gate,
      );
      alarm(latencyName, {
        ...gate,
        alarmName: latencyName,
        alarmDescription: `p99 response time of the ${slot} slot above ${t.latencyP99Seconds} s`,
        namespace: "AWS/ApplicationELB",
        metricName: "TargetResponseTime",
        dimensions: tg,
        extendedStatistic: "p99",
        period: slotPeriod,
        comparisonOperator: "GreaterThanThreshold",
        threshold: t.latencyP99Seconds,
      });
      const unhealthy = { namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount", dimensions: tg };
      alarm(unhealthyName, {
        ...gate,
        alarmName: unhealthyName,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        ...((props.unhealthyHostsWhen ?? "always") === "always"
          ? {
              alarmDescription: `Unhealthy targets in the ${slot} slot`,
              ...unhealthy,
              statistic: "Maximum",
              period: slotPeriod,
            }
          : {
              alarmDescription: `Unhealthy targets in the ${slot} slot while it receives requests`,
              metricQuery: [
                { id: "unhealthy", metric: { ...unhealthy, period: slotPeriod, stat: "Maximum" } },
                {
                  id: "requests",
                  metric: { ...unhealthy, metricName: "RequestCount", period: slotPeriod, stat: "Sum" },
                },
                {
                  id: "serving_unhealthy",
                  expression: "IF(requests > 0, unhealthy, 0)",
                  label: "unhealthy targets while serving",
                  returnData: true,
                },
              ],
            }),
      });
    }
    props.autoScalingGroupNames.forEach((asg, i) => {
      alarm(`asg-cpu-${i}`, {
        alarmName: `${p}-compute-cpu-${i}`,
        alarmDescription: `Average CPU of compute group ${i} above ${t.cpuPercent} %`,
        namespace: "AWS/EC2",
        metricName: "CPUUtilization",
        dimensions: { AutoScalingGroupName: asg },
        statistic: "Average",
        period,
        comparisonOperator: "GreaterThanThreshold",
        threshold: t.cpuPercent,
      });
    });
    const db = { DBInstanceIdentifier: props.databaseId };
    alarm("db-cpu", {
      alarmName: `${p}-database-cpu`,
      alarmDescription: `RDS CPU above ${t.cpuPercent} %`,
      namespace: "AWS/RDS",
      metricName: "CPUUtilization",
      dimensions: db,
      statistic: "Average",
      period,
      comparisonOperator: "GreaterThanThreshold",
      threshold: t.cpuPercent,
    });
    alarm("db-storage", {
      alarmName: `${p}-database-free-storage`,
      alarmDescription: `RDS free storage below ${t.freeStorageGb} GiB`,
      namespace: "AWS/RDS",
      metricName: "FreeStorageSpace",
      dimensions: db,
      statistic: "Minimum",
      period,
      comparisonOperator: "LessThanThreshold",
      threshold: t.freeStorageGb * 1024 ** 3,
    });
    const cache = { ReplicationGroupId: props.cacheId };
    alarm("cache-cpu", {
      alarmName: `${p}-cache-cpu`,
      alarmDescription: `Redis engine CPU above ${t.cpuPercent} %`,
      namespace: "AWS/ElastiCache",
      metricName: "EngineCPUUtilization",
      dimensions: cache,
      statistic: "Average",
      period,
      comparisonOperator: "GreaterThanThreshold",
      threshold: t.cpuPercent,
    });
    alarm("cache-evictions", {
      alarmName: `${p}-cache-evictions`,
      alarmDescription: `Redis evictions above ${t.cacheEvictions} per period`,
      namespace: "AWS/ElastiCache",
      metricName: "Evictions",
      dimensions: cache,
      statistic: "Sum",
      period,
      comparisonOperator: "GreaterThanThreshold",
      threshold: t.cacheEvictions,
    });

    new CloudwatchDashboard(this, "dashboard", {
      dashboardName: `${p}-overview`,
      dashboardBody: JSON.stringify({ widgets: environmentWidgets(props) }),
    });
  }
}
