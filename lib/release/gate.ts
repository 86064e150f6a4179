/** The canary gate: the CloudWatch alarms of the slot being rolled out. */
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";

export interface AlarmReader {
  /** Names of the given alarms that are in ALARM, or missing (the gate fails closed). */
  failing(names: readonly string[]): Promise<{ alarming: string[]; missing: string[] }>;
}

/** Minimal surface of the SDK client, so tests can inject one. */
export interface CloudWatchLike {
  send(command: DescribeAlarmsCommand): Promise<{ MetricAlarms?: { AlarmName?: string; StateValue?: string }[] }>;
}

export class CloudWatchAlarms implements AlarmReader {
  constructor(private readonly client: CloudWatchLike) {}

  async failing(names: readonly string[]) {
    const out = await this.client.send(new DescribeAlarmsCommand({ AlarmNames: [...names], MaxRecords: 100 }));
    const found = new Map((out.MetricAlarms ?? []).map((a) => [a.AlarmName ?? "", a.StateValue ?? "INSUFFICIENT_DATA"]));
    return {
      alarming: names.filter((n) => found.get(n) === "ALARM"),
      missing: names.filter((n) => !found.has(n)),
    };
  }
}

export interface AwsClientOptions {
  readonly region: string;
  /** Emulator endpoint (the `local` target); real AWS otherwise. */
  readonly endpoint?: string;
}

/** SDK client config: the ambient credentials on AWS, fake ones on the emulator. */
export function awsClientConfig(o: AwsClientOptions) {
  return o.endpoint
    ? { region: o.region, endpoint: o.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } }
    : { region: o.region };
}

export function cloudWatchAlarms(o: AwsClientOptions): AlarmReader {
  return new CloudWatchAlarms(new CloudWatchClient(awsClientConfig(o)));
}
