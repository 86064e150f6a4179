/**
 * What the settings commands need of a secret store (the port): write a value, describe a secret.
 * The Secrets Manager adapter is lib/aws/secrets-manager.ts; lib/cli wires it in.
 */
/** What envctl knows of one secret, never its value. */
export interface SecretStatus {
  /** Secrets Manager name, e.g. `webapp/dev/SMTP_PASSWORD`. */
  readonly id: string;
  /** `set`: has a current value; `empty`: created by Terraform, no value yet; `missing`: not created (environment not deployed). */
  readonly state: "set" | "empty" | "missing";
  readonly arn?: string;
  /** Version id of the current value. */
  readonly currentVersion?: string;
  /** Versions kept (current, previous, pending). */
  readonly versions: number;
  /** When the current value was written (ISO). */
  readonly lastChanged?: string;
  readonly rotation: { readonly enabled: boolean; readonly everyDays?: number; readonly next?: string };
}

export interface SecretStore {
  /** Writes a new current value; returns its version id. */
  put(id: string, value: string): Promise<{ versionId: string }>;
  describe(id: string): Promise<SecretStatus>;
}

/** Thrown when Secrets Manager could not be reached or refused: the message names the secret and the cause. */
export class SecretStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretStoreError";
  }
}
