/**
 * Approvals recorded where the platform proves who made them: one S3 object per approval in the
 * environment's account's state bucket, `approvals/<env>/<change id>/<aws:userid>`, written with
 * the approver's own credentials (never the deploy role) and tagged `approver=<aws:userid>` and,
 * for an IAM user, `username=<aws:username>`. The bucket policy the bootstrap stack writes
 * (lib/stacks/bootstrap-stack.ts) denies any other tag values, and any writer other than an IAM
 * user or an IAM Identity Center session, so an object can only say who wrote it. A file edit adds
 * nothing here. Reading back, the key and the tag must agree, or the object is ignored.
 *
 * The emulator (moto) does not evaluate bucket policies: there the objects are written and read
 * back, but nothing stops a forged key (docs/operations/threat-model.md says what is tested where).
 */
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { type ChangeRequest, parseRequest } from "../release/store/approvals.ts";
import { type AwsClientOptions, baseCredentials, CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from "./clients.ts";

/** Who approved, as the platform proved it, and when. */
export interface LedgerApproval {
  /** The approver's principal: an IAM user ARN, or an IAM Identity Center session ARN. */
  readonly by: string;
  readonly at: string;
}

/** The approver, as STS GetCallerIdentity named them. */
export interface Approver {
  readonly arn: string;
  readonly userId?: string;
}

/** The approvals of the changes of one environment, and the changes waiting for them. */
export interface ApprovalLedger {
  /** Records that a change waits for approval (`requests/<env>/<change id>.json`; a pointer, trusted for nothing). */
  request(req: ChangeRequest): Promise<void>;
  /** The changes waiting, oldest first; malformed ones are left out. */
  requests(): Promise<ChangeRequest[]>;
  /** Records `who`'s approval of `changeId`; S3 refuses it unless `who` is the caller. */
  approve(changeId: string, who: Approver, at: string): Promise<void>;
  /** The approvals of `changeId` the platform vouches for; ignored ones are reported through `ignored`. */
  list(changeId: string, ignored?: (why: string) => void): Promise<LedgerApproval[]>;
  /**
   * Records that `who` authored `changeId` (a scheduled change, started later by someone else):
   * `approvals/<env>/<change>/author/<aws:userid>`, under the same bucket policy as an approval,
   * so a person can only ever name themself.
   */
  author(changeId: string, who: Approver, at: string): Promise<void>;
  /** The authors of `changeId` the platform vouches for. */
  authors(changeId: string, ignored?: (why: string) => void): Promise<LedgerApproval[]>;
}

const USER_ID = /^(AIDA[A-Z0-9]+|AROA[A-Z0-9]+:[\w+=,.@-]{2,64})$/;

/** The prefix of a change's approvals. */
export function approvalPrefix(env: string, changeId: string): string {
  return `approvals/${env}/${changeId}/`;
}

/** The ledger of `env` in `bucket`, with the caller's own (base) credentials. */
export function s3ApprovalLedger(o: AwsClientOptions, bucket: string, env: string): ApprovalLedger {
  const client = () => {
    const credentials = baseCredentials(o);
    return new S3Client({
      region: o.region,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      // A custom endpoint (the emulator, a stand-in) has no per-bucket host names.
      forcePathStyle: o.endpoint !== undefined || process.env.AWS_ENDPOINT_URL_S3 !== undefined,
      ...(credentials ? { credentials } : {}),
    });
  };
  const readText = async (s3: S3Client, key: string) =>
    (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? "";
  /** One object under `prefix`, keyed and tagged by the writer's own aws:userid (the bucket policy enforces both). */
  const write = async (prefix: string, who: Approver, at: string) => {
    if (!who.userId || !USER_ID.test(who.userId)) {
      throw new Error(`STS gave no user id an approval can be recorded under for ${who.arn}`);
    }
    const username = /:user\/(?:.*\/)?([^/]+)$/.exec(who.arn)?.[1];
    const tags = new URLSearchParams({ approver: who.userId, ...(username ? { username } : {}) }).toString();
    const s3 = client();
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}${who.userId}`,
          Body: JSON.stringify({ arn: who.arn, at }),
          ContentType: "application/json",
          Tagging: tags,
        }),
      );
    } finally {
      s3.destroy();
    }
  };
  /** The objects directly under `prefix` whose key and tag agree: who S3 proves wrote each. */
  const read = async (prefix: string, ignored: (why: string) => void) => {
    const s3 = client();
    const out: LedgerApproval[] = [];
    try {
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: "/", ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          const key = o.Key ?? "";
          const userId = key.slice(prefix.length);
          const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
          const tag = (k: string) => tagging.TagSet?.find((t) => t.Key === k)?.Value;
          if (!USER_ID.test(userId) || tag("approver") !== userId) {
            ignored(`${key}: its key and its approver tag disagree: not an approval S3 vouches for`);
            continue;
          }
          let claimed: { arn?: string; at?: string } = {};
          try {
            claimed = JSON.parse(await readText(s3, key)) as typeof claimed;
          } catch {
            // the claim is only used where it agrees with what S3 proved
          }
          const by = provenIdentity(userId, tag("username"), claimed.arn ?? "");
          if (by) out.push({ by, at: claimed.at ?? "" });
          else
            ignored(`${key}: ${userId} is neither an IAM user with its user name nor an IAM Identity Center session`);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } finally {
      s3.destroy();
    }
    return out;
  };
  return {
    async request(req) {
      const s3 = client();
      try {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `requests/${env}/${req.changeId}.json`,
            Body: JSON.stringify(req),
            ContentType: "application/json",
          }),
        );
      } finally {
        s3.destroy();
      }
    },
    async requests() {
      const s3 = client();
      const out: ChangeRequest[] = [];
      try {
        let token: string | undefined;
        do {
          const page = await s3.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: `requests/${env}/`, ContinuationToken: token }),
          );
          for (const o of page.Contents ?? []) {
            const req = parseRequest(await readText(s3, o.Key ?? ""));
            if (req) out.push(req);
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } finally {
        s3.destroy();
      }
      return out.sort((a, b) => a.at.localeCompare(b.at));
    },
    approve: (changeId, who, at) => write(approvalPrefix(env, changeId), who, at),
    author: (changeId, who, at) => write(`${approvalPrefix(env, changeId)}author/`, who, at),
    list: (changeId, ignored = () => undefined) => read(approvalPrefix(env, changeId), ignored),
    authors: (changeId, ignored = () => undefined) => read(`${approvalPrefix(env, changeId)}author/`, ignored),
  };
}

/**
 * The principal an approval object proves: an IAM user by the user name S3 checked
 * (`username` = aws:username), an IAM Identity Center session by its session name (the part of
 * aws:userid after the role id, set by Identity Center). The object's own `arn` is a claim: it is
 * used only where it agrees (the account, the permission set's role name).
 */
export function provenIdentity(userId: string, username: string | undefined, claimed: string): string | undefined {
  const account = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(claimed)?.[1] ?? "000000000000";
  if (userId.startsWith("AIDA")) return username ? `arn:aws:iam::${account}:user/${username}` : undefined;
  const session = userId.slice(userId.indexOf(":") + 1);
  const role = /:assumed-role\/(AWSReservedSSO_[\w+=,.@-]+)\/([\w+=,.@-]+)$/.exec(claimed);
  return `arn:aws:sts::${account}:assumed-role/${role && role[2] === session ? role[1] : "AWSReservedSSO_unnamed"}/${session}`;
}
