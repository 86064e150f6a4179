/** Names of the database snapshots a promotion takes (lib/aws/snapshots.ts takes them). */

/** `<env>-<reason>-<yyyymmddhhmmss>`: sortable and valid as an RDS identifier. */
export function snapshotIdFor(env: string, at: Date, reason = "pre-promote"): string {
  return `${env}-${reason}-${at
    .toISOString()
    .replace(/[-:TZ.]/g, "")
    .slice(0, 14)}`;
}
