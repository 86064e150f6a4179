import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { Construct } from "constructs";
import { skipCheck } from "../policy/checkov-skip.ts";
import { EncryptionKey } from "./encryption-key.ts";
import { ONE_YEAR_DAYS } from "./network.ts";

/** AWS managed rule groups every web ACL runs, in priority order after the rate limit. */
export const MANAGED_RULE_GROUPS = [
  "AWSManagedRulesAmazonIpReputationList",
  "AWSManagedRulesCommonRuleSet",
  "AWSManagedRulesKnownBadInputsRuleSet",
] as const;

/** Headers whose values never reach the WAF logs. */
export const REDACTED_HEADERS = ["authorization", "cookie"] as const;

export interface WebAclProps {
  /** Prefix of every name, e.g. `production`; the log group is `aws-waf-logs-<namePrefix>`. */
  readonly namePrefix: string;
  /** ARN of the (regional) resource to protect: the ALB. */
  readonly resourceArn: string;
  /** Requests one IP may send in 5 minutes before it is blocked. @default 2000 */
  readonly rateLimitPerIp?: number;
  /** Days the WAF logs are kept. @default 365 */
  readonly logRetentionDays?: number;
}

/**
 * AWS WAF (v2, regional) web ACL attached to an ALB: a per-IP rate limit (block), then the AWS
 * managed IP reputation, common and known-bad-inputs rule groups, everything else allowed. Every
 * request is logged to a KMS-encrypted log group (authorization and cookie headers redacted),
 * and every rule publishes CloudWatch metrics and sampled requests.
 */
export class WebAcl extends Construct {
  readonly webAcl: Wafv2WebAcl;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: WebAclProps) {
    super(scope, id);
    const p = props.namePrefix;
    const visibility = (metricName: string) => ({
      cloudwatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });

    this.webAcl = new Wafv2WebAcl(this, "acl", {
      name: `${p}-alb`,
      description: `Web ACL of the ALB of ${p}`,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${p}-alb`),
      rule: [
        {
          name: "rate-limit-per-ip",
          priority: 0,
          action: { block: {} },
          // `statement` is free-form in the bindings: Terraform's own (snake_case) shape.
          statement: {
            rate_based_statement: {
              limit: props.rateLimitPerIp ?? 2000,
              aggregate_key_type: "IP",
              evaluation_window_sec: 300,
            },
          },
          visibilityConfig: visibility(`${p}-rate-limit-per-ip`),
        },
        ...MANAGED_RULE_GROUPS.map((name, i) => ({
          name,
          priority: i + 1,
          overrideAction: { none: {} },
          statement: { managed_rule_group_statement: { name, vendor_name: "AWS" } },
          visibilityConfig: visibility(`${p}-${name}`),
        })),
      ],
    });

    const logGroupName = `aws-waf-logs-${p}`; // WAF logs only to log groups named aws-waf-logs-*
    const key = new EncryptionKey(this, "logs-key", {
      alias: `${p}-waf-logs`,
      description: `WAF logs of ${p}`,
      logGroupNames: [logGroupName],
    });
    const retention = props.logRetentionDays ?? ONE_YEAR_DAYS;
    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: logGroupName,
      retentionInDays: retention,
      kmsKeyId: key.key.arn,
    });
    if (retention < ONE_YEAR_DAYS)
      skipCheck(
        this.logGroup,
        "CKV_AWS_338",
        `WAF logs are kept ${retention} days, as the environment file sets (waf.logRetentionDays); production keeps a year`,
      );
    new Wafv2WebAclLoggingConfiguration(this, "logging", {
      resourceArn: this.webAcl.arn,
      logDestinationConfigs: [this.logGroup.arn],
      redactedFields: REDACTED_HEADERS.map((name) => ({ singleHeader: { name } })),
    });
    new Wafv2WebAclAssociation(this, "association", { resourceArn: props.resourceArn, webAclArn: this.webAcl.arn });
  }
}
