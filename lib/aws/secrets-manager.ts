/**
 * envctl's view of Secrets Manager: write a value, describe a secret (versions, last change,
 * rotation). Never reads a value: there is no GetSecretValue here. The SDK is loaded on first use
 * (most envctl commands never call Secrets Manager).
 */

import { randomUUID } from "node:crypto";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { once } from "../core/once.ts";
import { type SecretStore, SecretStoreError } from "../settings/secret-store.ts";
import { type AwsClientOptions, awsClientConfig, describeAwsError } from "./clients.ts";

const notFound = (err: unknown) => (err as { name?: string }).name === "ResourceNotFoundException";

const loadSdk = once(() => import("@aws-sdk/client-secrets-manager"));

/** The store on Secrets Manager; `fake` replaces the SDK client (tests). */
export function secretsManagerStore(o: AwsClientOptions, fake?: Pick<SecretsManagerClient, "send">): SecretStore {
  const real = once(() => loadSdk().then((m) => new m.SecretsManagerClient(awsClientConfig(o, 3))));
  const clientOf = (): Promise<Pick<SecretsManagerClient, "send">> => (fake ? Promise.resolve(fake) : real());
  return {
    async put(id, value) {
      // A write: the credentials must be of the environment's account (./identity.ts).
      if (!fake) await (await import("./identity.ts")).assertAccount(o);
      const { PutSecretValueCommand } = await loadSdk();
      const client = await clientOf();
      try {
        const r = await client.send(
          new PutSecretValueCommand({ SecretId: id, SecretString: value, ClientRequestToken: randomUUID() }),
        );
        return { versionId: r.VersionId ?? "" };
      } catch (err) {
        if (notFound(err))
          throw new SecretStoreError(
            `secret ${id} does not exist: deploy the environment first (Terraform creates the secret, envctl sets its value)`,
          );
        throw new SecretStoreError(`could not write ${id}: ${describeAwsError(err)}`);
      }
    },
    async describe(id) {
      const { DescribeSecretCommand, ListSecretVersionIdsCommand } = await loadSdk();
      const client = await clientOf();
      try {
        const d = await client.send(new DescribeSecretCommand({ SecretId: id }));
        const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: id }));
        const list = versions.Versions ?? [];
        const current = list.find((v) => v.VersionStages?.includes("AWSCURRENT"));
        return {
          id,
          state: current ? "set" : "empty",
          ...(d.ARN ? { arn: d.ARN } : {}),
          ...(current?.VersionId ? { currentVersion: current.VersionId } : {}),
          versions: list.length,
          ...(current?.CreatedDate ? { lastChanged: current.CreatedDate.toISOString() } : {}),
          rotation: {
            enabled: d.RotationEnabled === true,
            ...(d.RotationRules?.AutomaticallyAfterDays ? { everyDays: d.RotationRules.AutomaticallyAfterDays } : {}),
            ...(d.NextRotationDate ? { next: d.NextRotationDate.toISOString() } : {}),
          },
        };
      } catch (err) {
        if (notFound(err)) return { id, state: "missing", versions: 0, rotation: { enabled: false } };
        throw new SecretStoreError(`could not describe ${id}: ${describeAwsError(err)}`);
      }
    },
  };
}
