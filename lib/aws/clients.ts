/**
 * AWS SDK v3 client configuration shared by envctl's readers and writers: the ambient credentials
 * on AWS (or the environment's deploy role assumed with them, lib/aws/identity.ts), fake ones of
 * the environment's account on the emulator, and timeouts on every request so that an unreachable
 * service fails within seconds (the rollout gate fails closed on it) instead of hanging.
 */
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";

/** Credentials as the SDK takes them. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}
export type CredentialsProvider = () => Promise<Credentials>;

/** The account an environment deploys into (lib/config/schema/account.ts), as the clients need it. */
export interface AccountTarget {
  readonly id: string;
  readonly deployRoleArn?: string;
  readonly externalId?: string;
  readonly sessionTags?: Readonly<Record<string, string>>;
}

export interface AwsClientOptions {
  readonly region: string;
  /** Emulator endpoint (the `local` target); real AWS otherwise. */
  readonly endpoint?: string;
  /** The environment's account: its deploy role is assumed, and writes check the caller's account first. @default the ambient credentials, unchecked */
  readonly account?: AccountTarget;
  /** The environment's name, for messages. */
  readonly environment?: string;
  /** Emulator only: the account its credentials act as (ENVSTACK_EMULATOR_ACCOUNT). @default the environment's own */
  readonly emulatorAccount?: string;
}

/** Milliseconds to connect, and to wait for a response, per request. */
export const CONNECT_TIMEOUT_MS = 3_000;
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The credentials before any role: on the emulator, an access key id of 12 digits acts as that
 * account (moto); on AWS, the SDK's default chain (undefined).
 */
export function baseCredentials(o: AwsClientOptions): Credentials | undefined {
  if (!o.endpoint) return undefined;
  return { accessKeyId: o.emulatorAccount ?? o.account?.id ?? "test", secretAccessKey: "test" };
}

/** The credentials a client of `o` signs with: the deploy role's when the account has one. */
export function credentialsOf(o: AwsClientOptions): Credentials | CredentialsProvider | undefined {
  return o.account?.deployRoleArn ? deployRoleCredentials(o) : baseCredentials(o);
}

/** One provider per account, role and endpoint: the role is assumed once and its credentials reused until 5 minutes before they expire. */
const assumed = new Map<string, CredentialsProvider>();

/**
 * The deploy role's credentials (STS AssumeRole with the base credentials, the account's external
 * id and session tags). A refusal names the role and the account the base credentials are of.
 */
export function deployRoleCredentials(o: AwsClientOptions): CredentialsProvider {
  const a = o.account!;
  const key = JSON.stringify([a.deployRoleArn, a.externalId, a.sessionTags, o.endpoint, o.emulatorAccount, o.region]);
  const known = assumed.get(key);
  if (known) return known;
  let cached: Credentials | undefined;
  const provider: CredentialsProvider = async () => {
    if (cached?.expiration && cached.expiration.getTime() - Date.now() > 5 * 60_000) return cached;
    const base = baseCredentials(o);
    const sts = new STSClient({ ...stsConfig(o), ...(base ? { credentials: base } : {}) });
    try {
      const r = await sts.send(
        new AssumeRoleCommand({
          RoleArn: a.deployRoleArn,
          RoleSessionName: sessionName(),
          ...(a.externalId ? { ExternalId: a.externalId } : {}),
          ...(a.sessionTags ? { Tags: Object.entries(a.sessionTags).map(([Key, Value]) => ({ Key, Value })) } : {}),
        }),
      );
      const c = r.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("STS returned no credentials");
      cached = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
      return cached;
    } catch (err) {
      throw new Error(
        `cannot assume ${a.deployRoleArn}${o.environment ? ` (${o.environment}'s deploy role)` : ""}: ${(err as Error).message}`,
      );
    } finally {
      sts.destroy();
    }
  };
  assumed.set(key, provider);
  return provider;
}

/** STS of `o`: the regional endpoint (or the emulator), the same timeouts as every client. */
export function stsConfig(o: AwsClientOptions) {
  return {
    region: o.region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
  };
}

/** `envctl-<user>`: the session name CloudTrail shows for envctl's calls (STS: 2-64 characters of `\w+=,.@-`). */
function sessionName(): string {
  const user = (process.env.GITHUB_ACTOR ?? process.env.USER ?? "user").replace(/[^\w+=,.@-]/g, "-");
  return `envctl-${user}`.slice(0, 64);
}

/** SDK client config: one attempt per call (callers retry with their own backoff and messages). */
export function awsClientConfig(o: AwsClientOptions, attempts = 1) {
  const credentials = credentialsOf(o);
  return {
    region: o.region,
    maxAttempts: attempts,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  };
}

/** A short description of an SDK or network error for messages (no stack): the release's own (lib/release/model/errors.ts). */
export { describeCause as describeAwsError } from "../release/model/errors.ts";
