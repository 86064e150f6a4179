import type { Environment } from "../config/schema.ts";
import type { Cache } from "../constructs/cache.ts";
import type { Database } from "../constructs/database.ts";
import { skipCheck } from "../policy/checkov-skip.ts";

/**
 * What the environment file chose against checkov's defaults, said at the resources it
 * concerns (dev's and staging's cost-driven sizing; production sets every one of these).
 */
export function tierExceptions(env: Environment, database: Database, cache: Cache): void {
  const db = database.instance;
  const file = `as ${env.name}'s environment file sets`;
  if (env.monitoring.level === "basic") {
    skipCheck(
      db,
      "CKV_AWS_118",
      `basic monitoring ${file} (monitoring.level): enhanced monitoring comes with the enhanced and full levels`,
    );
    skipCheck(
      db,
      "CKV_AWS_353",
      `basic monitoring ${file} (monitoring.level): Performance Insights comes with the enhanced and full levels`,
    );
  }
  if (!env.database.multiAz)
    skipCheck(db, "CKV_AWS_157", `single-AZ ${file} (database.multiAz); the production tier requires multi-AZ`);
  if (!env.database.deletionProtection)
    skipCheck(
      db,
      "CKV_AWS_293",
      `no deletion protection ${file} (database.deletionProtection): it is torn down and rebuilt freely; the production tier requires it`,
    );
  if (!env.cache.automaticFailover)
    skipCheck(
      cache.replicationGroup,
      "CKV2_AWS_50",
      `one Redis node without failover ${file} (cache.replicas, cache.automaticFailover); production runs a replica with failover`,
    );
}
