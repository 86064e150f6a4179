/**
 * The maintenance bypass header's value, read from Secrets Manager for the one moment envctl
 * copies it into the listener rule (./maintenance.ts). The value is never returned to the release
 * core, printed, recorded or passed to Terraform; errors name the secret, never the value.
 * The SDK is loaded on first use.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { once } from "../core/once.ts";
import { HEADER_VALUE } from "../release/model/maintenance.ts";
import { type AwsClientOptions, awsClientConfig, describeAwsError } from "./clients.ts";

/** A secret's value at one version (`version` undefined: the current one). */
export interface BypassSecrets {
  read(id: string, version?: string): Promise<{ readonly version: string; readonly value: string }>;
}

const loadSdk = once(() => import("@aws-sdk/client-secrets-manager"));

/** Secrets Manager's GetSecretValue; `fake` replaces the SDK client (tests). */
export function bypassSecrets(o: AwsClientOptions, fake?: Pick<SecretsManagerClient, "send">): BypassSecrets {
  const real = once(() => loadSdk().then((m) => new m.SecretsManagerClient(awsClientConfig(o, 3))));
  return {
    async read(id, version) {
      const { GetSecretValueCommand } = await loadSdk();
      const client = fake ?? (await real());
      let r: { VersionId?: string; SecretString?: string };
      try {
        r = await client.send(new GetSecretValueCommand({ SecretId: id, ...(version ? { VersionId: version } : {}) }));
      } catch (err) {
        throw new Error(`could not read the bypass header's secret ${id}: ${describeAwsError(err)}`);
      }
      const value = r.SecretString ?? "";
      if (!HEADER_VALUE.test(value))
        throw new Error(
          `the bypass header's secret ${id} must hold 1-128 visible ASCII characters as a string ` +
            "(the ALB's limit for a header condition value); its value is not shown",
        );
      if (!r.VersionId) throw new Error(`Secrets Manager returned no version id for ${id}`);
      return { version: r.VersionId, value };
    },
  };
}
