import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { Construct } from "constructs";
import { widget } from "./dashboard-widgets.ts";

export interface DashboardEnvironment {
  readonly name: string;
  /** arn_suffix of the environment's ALB. */
  readonly loadBalancerArnSuffix: string;
  /** Auto Scaling groups of the environment's compute. */
  readonly autoScalingGroupNames: string[];
}

export interface EnvironmentsDashboardProps {
  /** Dashboard name. */
  readonly name: string;
  readonly region: string;
  readonly environments: DashboardEnvironment[];
  /** Metric period, seconds. @default 300 */
  readonly period?: number;
}

/** Cross-environment dashboard: request count, response time and CPU, one line per environment. */
export class EnvironmentsDashboard extends Construct {
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: EnvironmentsDashboardProps) {
    super(scope, id);
    const period = props.period ?? 300;
    const lb = (metric: string, stat: string) =>
      props.environments.map((e) => [
        "AWS/ApplicationELB",
        metric,
        "LoadBalancer",
        e.loadBalancerArnSuffix,
        { stat, label: e.name },
      ]);
    const cpu = props.environments.flatMap((e) =>
      e.autoScalingGroupNames.map((asg, i) => [
        "AWS/EC2",
        "CPUUtilization",
        "AutoScalingGroupName",
        asg,
        { stat: "Average", label: i === 0 ? e.name : `${e.name} (${i + 1})` },
      ]),
    );
    this.dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName: props.name,
      dashboardBody: JSON.stringify({
        widgets: [
          widget(0, "Requests per environment", props.region, lb("RequestCount", "Sum"), period),
          widget(1, "Response time per environment", props.region, lb("TargetResponseTime", "Average"), period),
          widget(2, "CPU per environment", props.region, cpu, period),
        ],
      }),
    });
  }
}
