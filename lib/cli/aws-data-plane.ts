/**
 * Data copies on AWS (and on the emulator acting as AWS): the databases are RDS instances
 * (lib/recovery/data-copy.ts restores, tags and deletes them), the SQL of the masking, its
 * verification and the schema read run inside the target's network through the target's runner
 * (EC2: SSM Run Command, lib/aws/ssm-runner.ts; EKS: no SQL runner yet, every query fails closed).
 * A query that cannot run fails: the copy is then dropped and the target keeps its database.
 */
import type { AwsClientOptions } from "../aws/clients.ts";
import type { Environment } from "../config/schema.ts";
import { databaseIdentifier } from "../constructs/naming.ts";
import { CATALOG_SQL, parseCatalog } from "../database/catalog.ts";
import type { DataPlane } from "../database/copy.ts";
import type { RdsCopies } from "../recovery/data-copy.ts";
import { ssmRunnerOf } from "./aws-database.ts";
import { UserError } from "./report.ts";

/** The data plane of a copy from `source` into `target`, acting with the target's AWS options. */
export function awsDataPlane(
  source: Environment,
  target: Environment,
  o: AwsClientOptions,
  log: (line: string) => void,
): DataPlane {
  if (source.region !== target.region || source.account.id !== target.account.id)
    throw new UserError(
      `data copy ${source.name} → ${target.name}: on AWS a copy stays in one account and region ` +
        `(${source.name}: ${source.account.id} ${source.region}, ${target.name}: ${target.account.id} ${target.region}); ` +
        "share and copy the snapshot by hand, then restore it (docs/operations/database-changes.md)",
    );
  let copies: Promise<RdsCopies> | undefined;
  const rds = () =>
    (copies ??= (async () => {
      const [{ RdsCopies }, { RDSClient }, { awsClientConfig }, { assertAccount }] = await Promise.all([
        import("../recovery/data-copy.ts"),
        import("@aws-sdk/client-rds"),
        import("../aws/clients.ts"),
        import("../aws/identity.ts"),
      ]);
      await assertAccount(o);
      return new RdsCopies({
        rds: new RDSClient(awsClientConfig(o, 3)),
        environment: target.name,
        targetInstance: databaseIdentifier(target.name),
      });
    })());
  const sql = async (instance: string, text: string): Promise<string> => {
    if (target.compute.kind !== "ec2")
      throw new Error(
        `${target.name}: SQL inside an EKS environment's network would run as a Kubernetes Job, which is not built yet: nothing was run`,
      );
    const runner = await ssmRunnerOf(target, o)();
    return runner.read(instance, "sql", log, text);
  };
  return {
    restoreLatest: async (from, as, say) => {
      // Nothing is restored that could not be masked and verified: on EKS the SQL would fail after the restore.
      if (target.compute.kind !== "ec2")
        throw new UserError(
          `data copy into ${target.name}: the SQL runner of an EKS environment (a Kubernetes Job running SQL) is not built yet: nothing was restored`,
        );
      return (await rds()).restoreLatest(from, as, say);
    },
    exists: async (instance) => (await rds()).exists(instance),
    catalog: async (instance) => parseCatalog(JSON.parse(await sql(instance, CATALOG_SQL))),
    run: (instance, text) => sql(instance, text),
    readSchema: async (instance) => {
      if (target.compute.kind !== "ec2")
        throw new Error(`${target.name}: a copy into an EKS environment is not supported yet: nothing was read`);
      const runner = await ssmRunnerOf(target, o)();
      return runner.database(instance).readSchema();
    },
    drop: async (instance) => (await rds()).drop(instance),
  };
}
