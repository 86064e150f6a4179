/**
 * Whose credentials envctl acts with: STS GetCallerIdentity with the credentials a client of the
 * environment signs with (its deploy role's when it has one), and the account check every write
 * of envctl's AWS adapters makes first. A mismatch is refused, naming both accounts.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { RefusedError } from "../release/model/errors.ts";
import { type AwsClientOptions, baseCredentials, credentialsOf, stsConfig } from "./clients.ts";

export interface CallerIdentity {
  readonly account: string;
  /** The principal: `arn:aws:sts::<account>:assumed-role/<role>/<session>`, `arn:aws:iam::<account>:user/<name>`. */
  readonly arn: string;
  /** aws:userid: `AIDA…` (an IAM user), `AROA…:<session name>` (a role session). */
  readonly userId?: string;
}

/** STS GetCallerIdentity with the environment's credentials. */
export async function callerIdentity(o: AwsClientOptions, base = false): Promise<CallerIdentity> {
  const credentials = base ? baseCredentials(o) : credentialsOf(o);
  const sts = new STSClient({ ...stsConfig(o), ...(credentials ? { credentials } : {}) });
  try {
    const r = await sts.send(new GetCallerIdentityCommand({}));
    if (!r.Account || !r.Arn) throw new Error("STS GetCallerIdentity returned no account");
    return { account: r.Account, arn: r.Arn, ...(r.UserId ? { userId: r.UserId } : {}) };
  } finally {
    sts.destroy();
  }
}

/** A write refused before it was made: the credentials are of another account than the environment's. */
export class AccountMismatchError extends RefusedError {
  constructor(
    readonly environment: string,
    readonly expected: string,
    readonly actual: string,
    readonly arn: string,
  ) {
    super(
      `refusing to change ${environment}: it deploys into account ` +
        `${expected}, but the credentials are of account ` +
        `${actual} (${arn}). Nothing was changed. Use credentials of ${expected} (or its deploy role); 'envctl doctor ${environment}' checks them`,
    );
    this.name = "AccountMismatchError";
  }
}

/** The refusal, when the caller's account is not the environment's; nothing otherwise. */
export function accountMismatch(
  environment: string,
  expected: string,
  caller: CallerIdentity,
): AccountMismatchError | undefined {
  return caller.account === expected
    ? undefined
    : new AccountMismatchError(environment, expected, caller.account, caller.arn);
}

const checked = new Map<string, Promise<void>>();

/**
 * Resolves when the caller's account is the environment's (checked once per process and
 * options); rejects with {@link AccountMismatchError}, or with the reason it could not be read
 * (fail closed: a write never goes ahead unchecked). Without `o.account`, nothing is checked.
 */
export function assertAccount(o: AwsClientOptions): Promise<void> {
  const a = o.account;
  if (!a) return Promise.resolve();
  const key = JSON.stringify([a, o.endpoint, o.emulatorAccount, o.region]);
  let p = checked.get(key);
  if (!p) {
    p = (async () => {
      let caller: CallerIdentity;
      try {
        caller = await callerIdentity(o);
      } catch (err) {
        throw new RefusedError(
          `refusing to change ${o.environment ?? "the environment"}: cannot tell which account the ` +
            `credentials are of (${(err as Error).message}); nothing was changed`,
        );
      }
      const refused = accountMismatch(o.environment ?? "the environment", a.id, caller);
      if (refused) throw refused;
    })();
    p.catch(() => checked.delete(key));
    checked.set(key, p);
  }
  return p;
}
