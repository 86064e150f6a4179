/**
 * The database of an environment on AWS (or on the emulator acting as AWS), by where its app runs:
 *
 * - EKS: the slot's image runs its command as a Kubernetes Job in the environment's namespace
 *   (lib/kube/migration-job.ts), the schema read the same way (lib/database/cluster.ts).
 * - EC2: no runner yet: every read and migration fails closed (the schema gates refuse, `migrate`
 *   is refused before anything runs).
 *
 * The image contract (the labels) is read where envctl can see it: the image stand-ins of
 * `ENVSTACK_LOCAL_IMAGES` (or `<root>/images`) when they hold the version; otherwise the contract's
 * defaults apply (envctl does not read labels from the registry).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Environment } from "../config/schema.ts";
import { imageReference } from "../constructs/image.ts";
import { clusterDatabase } from "../database/cluster.ts";
import { imageContract } from "../database/image.ts";
import { localImage } from "../database/local.ts";
import type { KubeTarget } from "../kube/client.ts";
import { kubeJobRunner } from "../kube/migration-job.ts";
import type { Release } from "../release/model/release.ts";
import type { Database } from "../release/ports/index.ts";

export interface AwsDatabaseIo {
  /** The environment's cluster. */
  readonly kube: KubeTarget;
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
    case "ec2":
      return unreachableDatabase(
        `${e.name}: no migration runner on EC2 yet (SSM Run Command is not built): the database cannot be reached`,
      );
  }
}
