/**
 * The environment's database on AWS (and on the emulator acting as AWS), by its compute: on EC2
 * SSM Run Command on an instance of the slot (lib/aws/ssm-runner.ts); on EKS a Kubernetes Job (not
 * in this build: it fails closed). Every SDK client is loaded on first use; a migration (a write)
 * checks the caller's account first. docs/operations/database-changes.md says what runs where.
 */
import type { AwsClientOptions } from "../aws/clients.ts";
import type { SsmRunner } from "../aws/ssm-runner.ts";
import type { Environment } from "../config/schema.ts";
import { POSTGRES_CLIENT_IMAGE } from "../constructs/database-runner.ts";
import { databaseIdentifier, databaseRunnerDocument } from "../constructs/naming.ts";
import { redact } from "../database/redact.ts";
import type { Database, MigrationRequest } from "../release/ports/index.ts";

/** The SSM runner of an EC2 environment, its SDK clients created on first use. */
export function ssmRunnerOf(e: Environment, o: AwsClientOptions): () => Promise<SsmRunner> {
  let runner: Promise<SsmRunner> | undefined;
  return () =>
    (runner ??= (async () => {
      const [{ SsmRunner }, { SSMClient }, { EC2Client }, { RDSClient }, { awsClientConfig }] = await Promise.all([
        import("../aws/ssm-runner.ts"),
        import("@aws-sdk/client-ssm"),
        import("@aws-sdk/client-ec2"),
        import("@aws-sdk/client-rds"),
        import("../aws/clients.ts"),
      ]);
      const config = awsClientConfig(o, 3);
      return new SsmRunner({
        environment: e.name,
        region: e.region,
        document: databaseRunnerDocument(e.name),
        imageRepository: e.image.repository,
        clientImage: POSTGRES_CLIENT_IMAGE,
        redact,
        ssm: new SSMClient(config),
        ec2: new EC2Client(config),
        rds: new RDSClient(config),
      });
    })());
}

/** A database no runner of this build reaches: every read and migration fails (the schema gates fail closed). */
function unreachable(why: string): Database {
  return {
    readSchema: () => Promise.reject(new Error(why)),
    migrate: () => Promise.reject(new Error(why)),
  };
}

/** The database port of an environment on AWS: the runner its compute calls for. */
export function awsDatabase(e: Environment, o: AwsClientOptions, instance = databaseIdentifier(e.name)): Database {
  switch (e.compute.kind) {
    case "ec2": {
      const runner = ssmRunnerOf(e, o);
      return {
        readSchema: async () => (await runner()).database(instance).readSchema(),
        migrate: async (req: MigrationRequest) => {
          await (await import("../aws/identity.ts")).assertAccount(o);
          return (await runner()).database(instance).migrate(req);
        },
      };
    }
    case "eks":
      return unreachable(`${e.name}: the EKS runner (a Kubernetes Job) is not in this build: nothing was read or run`);
    default: {
      const unknown: never = e.compute;
      return unreachable(`${e.name}: no database runner for compute ${(unknown as { kind: string }).kind}`);
    }
  }
}
