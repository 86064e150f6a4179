/**
 * CloudWatch alarms by name, as the canary gate (lib/release/ports/index.ts SlotAlarms, bound to the
 * names of lib/constructs/naming.ts by lib/cli/compose.ts) and `status --live` read them.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import type { AlarmStates } from "../release/ports/index.ts";
import { type AwsClientOptions, awsClientConfig } from "./clients.ts";

export interface AlarmReader {
  read(names: readonly string[]): Promise<AlarmStates>;
}

/** Minimal surface of the SDK client, so tests can inject one. */
export interface CloudWatchLike {
  send(
    command: DescribeAlarmsCommand,
  ): Promise<{ MetricAlarms?: { AlarmName?: string; StateValue?: string }[]; NextToken?: string }>;
}

export class CloudWatchAlarms implements AlarmReader {
  constructor(private readonly client: CloudWatchLike) {}

  async read(names: readonly string[]): Promise<AlarmStates> {
    const found = new Map<string, string>();
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new DescribeAlarmsCommand({ AlarmNames: [...names], MaxRecords: 100, NextToken: token }),
      );
      for (const a of out.MetricAlarms ?? []) found.set(a.AlarmName ?? "", a.StateValue ?? "INSUFFICIENT_DATA");
      token = out.NextToken;
    } while (token);
    return {
      states: names.filter((n) => found.has(n)).map((name) => ({ name, state: found.get(name)! })),
      alarming: names.filter((n) => found.get(n) === "ALARM"),
      missing: names.filter((n) => !found.has(n)),
    };
  }
}

export function cloudWatchAlarms(o: AwsClientOptions): AlarmReader {
  return new CloudWatchAlarms(new CloudWatchClient(awsClientConfig(o)));
}
