/**
 * The database of an environment on AWS (or on the emulator acting as AWS), by where its app runs:
 *
 * - EKS: the slot's image runs its command as a Kubernetes Job in the environment's namespace
 *   (lib/kube/migration-job.ts), the schema read the same way (lib/database/cluster.ts).
 * - EC2: SSM Run Command on an instance of the slot (lib/aws/ssm-runner.ts), with the document the
 *   environment stack writes; the schema read the same way. Its SDK clients are loaded on first
 *   use; a migration (a write) checks the caller's account first.
 *
 * The image contract (the labels) is read where envctl can see it: the image stand-ins of
 * `ENVSTACK_LOCAL_IMAGES` (or `<root>/images`) when they hold the version; otherwise the contract's
 * defaults apply (envctl does not read labels from the registry). docs/operations/database-changes.md
 * says what runs where.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AwsClientOptions } from "../aws/clients.ts";
import type { SsmRunner } from "../aws/ssm-runner.ts";
import type { Environment } from "../config/schema.ts";
import { POSTGRES_CLIENT_IMAGE } from "../constructs/database-runner.ts";
import { imageReference } from "../constructs/image.ts";
import { databaseIdentifier, databaseRunnerDocument } from "../constructs/naming.ts";
import { clusterDatabase } from "../database/cluster.ts";
import { imageContract } from "../database/image.ts";
import { localImage } from "../database/local.ts";
import { redact } from "../database/redact.ts";
import type { KubeTarget } from "../kube/config.ts";
import { kubeJobRunner } from "../kube/migration-job.ts";
import type { Release } from "../release/model/release.ts";
import type { Database, MigrationRequest } from "../release/ports/index.ts";

export interface AwsDatabaseIo {
  /** The environment's cluster (EKS). */
  readonly kube: KubeTarget;
  /** The environment's AWS options: its account and role (EC2's SSM runner). */
  readonly aws: AwsClientOptions;
  /** Directory of the image stand-ins (`<version>/image.json`). */
  readonly images: string;
  /** The environment's release file as it is now. */
  readonly release: () => Release;
  /** Where a schema read's log lines go. @default nowhere */
  readonly say?: (line: string) => void;
}

/** A database envctl cannot reach: every call rejects with `reason` (the callers fail closed). */
export function unreachableDatabase(reason: string): Database {
  const fail = async (): Promise<never> => {
    throw new Error(reason);
  };
  return { readSchema: fail, migrate: fail };
}

/** The contract of `version`: from its image stand-in when there is one, else the defaults. */
export function contractOf(images: string, version: string) {
  if (existsSync(join(images, version, "image.json")))
    return {
      contract: localImage(images, version).contract,
      from: `image ${version} (labels of ${join(images, version)})`,
    };
  return {
    contract: imageContract({}, `image ${version}`),
    from: `image ${version} (the contract's defaults: envctl does not read labels from the registry)`,
  };
}

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

/** The database port of an environment on AWS: the runner its compute calls for. */
export function awsDatabase(e: Environment, instance: string | undefined, io: AwsDatabaseIo): Database {
  switch (e.compute.kind) {
    case "eks":
      return clusterDatabase({
        env: e.name,
        runner: kubeJobRunner(e.name, io.kube),
        image: (version, digest) => imageReference(e.image.repository, version, digest),
        contract: (version) => contractOf(io.images, version),
        release: io.release,
        ...(instance !== undefined ? { instance } : {}),
        ...(io.say ? { say: io.say } : {}),
      });
    case "ec2": {
      const runner = ssmRunnerOf(e, io.aws);
      const db = instance ?? databaseIdentifier(e.name);
      return {
        readSchema: async () => (await runner()).database(db).readSchema(),
        migrate: async (req: MigrationRequest) => {
          await (await import("../aws/identity.ts")).assertAccount(io.aws);
          return (await runner()).database(db).migrate(req);
        },
      };
    }
    default: {
      const unknown: never = e.compute;
      return unreachableDatabase(`${e.name}: no database runner for compute ${(unknown as { kind: string }).kind}`);
    }
  }
}
