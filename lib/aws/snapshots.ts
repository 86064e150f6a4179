/** Database snapshot taken before a promotion into an environment that asks for one (the release's Snapshotter port). */
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from "@aws-sdk/client-rds";
import type { Snapshotter } from "../release/ports/index.ts";
import { type AwsClientOptions, awsClientConfig } from "./clients.ts";

export interface RdsLike {
  send(command: CreateDBSnapshotCommand | DescribeDBSnapshotsCommand): Promise<{ DBSnapshots?: { Status?: string }[] }>;
}

export class RdsSnapshots implements Snapshotter {
  constructor(
    private readonly client: RdsLike,
    private readonly pollMs = 10_000,
    private readonly timeoutMs = 60 * 60_000,
  ) {}

  async snapshot(dbInstanceId: string, snapshotId: string): Promise<string> {
    await this.client.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: dbInstanceId, DBSnapshotIdentifier: snapshotId }),
    );
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const out = await this.client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
      const status = out.DBSnapshots?.[0]?.Status;
      if (status === "available") return snapshotId;
      if (status === "failed" || Date.now() > deadline)
        throw new Error(`snapshot ${snapshotId} of ${dbInstanceId} ended ${status ?? "unknown"}`);
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }
}

export function rdsSnapshots(o: AwsClientOptions): Snapshotter {
  return new RdsSnapshots(new RDSClient(awsClientConfig(o, 3)));
}
