/**
 * The one place envctl reads a secret's value: the credentials of a notification target (a Slack
 * or webhook URL, a signing key) named by `{ secret: "<name>" }` in an environment's `notify`.
 * Read when a delivery needs it, kept in memory for the process, never printed or recorded.
 */
import { type AwsClientOptions, awsClientConfig, describeAwsError } from "./clients.ts";

export function notifySecretReader(o: AwsClientOptions): (id: string) => Promise<string> {
  const cache = new Map<string, Promise<string>>();
  return (id) => {
    const hit = cache.get(id);
    if (hit !== undefined) return hit;
    const read = (async () => {
      const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
      try {
        const r = await new SecretsManagerClient(awsClientConfig(o, 2)).send(
          new GetSecretValueCommand({ SecretId: id }),
        );
        if (!r.SecretString) throw new Error("it has no string value");
        return r.SecretString.trim();
      } catch (err) {
        throw new Error(`could not read the notification secret ${id}: ${describeAwsError(err)}`);
      }
    })();
    cache.set(id, read);
    read.catch(() => cache.delete(id));
    return read;
  };
}
