/**
 * A stand-in for AWS STS (the AWS Query protocol the SDK speaks), for envctl run as a subprocess
 * without AWS (AWS_ENDPOINT_URL_STS points here). It behaves as moto does for accounts:
 * - GetCallerIdentity with an access key id of 12 digits is that account
 *   (`arn:aws:iam::<id>:user/<id>`); any other key id is a person of account 999999999999
 *   (`arn:aws:iam::999999999999:user/<key id>`: AWS_ACCESS_KEY_ID=alice is alice);
 * - AssumeRole returns credentials acting in the role's account
 *   (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), for anyone.
 * - S3 (path-style, AWS_ENDPOINT_URL_S3 points here too) for the approval ledger
 *   (lib/aws/approval-ledger.ts): objects in memory, and what the state bucket's policy enforces:
 *   an object under `approvals/` is written only with the caller's own aws:userid as its key's
 *   last part and as its `approver` tag (and an IAM user's own name as `username`).
 * One server per test process, started on first use.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

let url: string | undefined;
const objects = new Map<string, { body: string; tags: string }>();

/** The caller of an access key id, as GetCallerIdentity answers for it. */
function callerOf(key: string): { account: string; arn: string; userId: string; username?: string } {
  const assumed = /^role\.(\d{12})\.([^.]+)\.(.+)$/.exec(key);
  if (assumed) {
    const [, account, role, session] = assumed;
    const roleId = `AROA${role!.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
    return {
      account: account!,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
      userId: `${roleId}:${session}`,
    };
  }
  const userId = `AIDA${key.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
  if (/^\d{12}$/.test(key)) return { account: key, arn: `arn:aws:iam::${key}:user/${key}`, userId, username: key };
  return { account: "999999999999", arn: `arn:aws:iam::999999999999:user/${key}`, userId, username: key };
}

const s3Error = (code: string, status: number) =>
  [
    status,
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>stand-in: ${code}</Message></Error>`,
  ] as const;

/** One S3 request: [status, body]. */
function s3(
  method: string,
  path: string,
  query: URLSearchParams,
  tagging: string,
  body: string,
  caller: ReturnType<typeof callerOf>,
): readonly [number, string] {
  const [, bucket, ...rest] = path.split("/");
  const key = decodeURIComponent(rest.join("/"));
  const id = `${bucket}/${key}`;
  if (method === "PUT") {
    if (key.startsWith("approvals/")) {
      const tags = new URLSearchParams(tagging);
      const own = key.split("/").at(-1) === caller.userId && tags.get("approver") === caller.userId;
      const name = caller.username === undefined || tags.get("username") === caller.username;
      if (!own || !name) return s3Error("AccessDenied", 403);
    }
    objects.set(id, { body, tags: tagging });
    return [200, ""];
  }
  if (method === "GET" && key === "" && query.get("list-type") === "2") {
    const prefix = query.get("prefix") ?? "";
    const keys = [...objects.keys()]
      .filter((k) => k.startsWith(`${bucket}/${prefix}`))
      .map((k) => k.slice(bucket!.length + 1))
      .sort();
    const contents = keys.map((k) => `<Contents><Key>${k}</Key><Size>1</Size></Contents>`).join("");
    return [
      200,
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
    ];
  }
  const o = objects.get(id);
  if (!o) return s3Error("NoSuchKey", 404);
  if (query.has("tagging")) {
    const tags = [...new URLSearchParams(o.tags)]
      .map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`)
      .join("");
    return [200, `<?xml version="1.0" encoding="UTF-8"?><Tagging><TagSet>${tags}</TagSet></Tagging>`];
  }
  return [200, o.body];
}

const xml = (action: string, result: string) =>
  `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></${action}Response>`;

export function stsStandIn(): string {
  if (url) return url;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const p = new URLSearchParams(body);
      const key = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ""))?.[1] ?? "";
      res.setHeader("content-type", "text/xml");
      if (!p.get("Action")) {
        const u = new URL(req.url ?? "/", "http://stand-in");
        const tagging = String(req.headers["x-amz-tagging"] ?? "");
        const [status, out] = s3(req.method ?? "GET", u.pathname, u.searchParams, tagging, body, callerOf(key));
        return res.writeHead(status).end(out);
      }
      if (p.get("Action") === "AssumeRole") {
        const [, account, role] = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(p.get("RoleArn") ?? "") ?? [];
        if (!account)
          return res
            .writeHead(400)
            .end(
              `<ErrorResponse><Error><Code>ValidationError</Code><Message>bad RoleArn</Message></Error></ErrorResponse>`,
            );
        const session = p.get("RoleSessionName") ?? "s";
        const arn = `arn:aws:sts::${account}:assumed-role/${role}/${session}`;
        return res.end(
          xml(
            "AssumeRole",
            `<Credentials><AccessKeyId>role.${account}.${role}.${session}</AccessKeyId><SecretAccessKey>x</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>${arn}</Arn><AssumedRoleId>AROA:${session}</AssumedRoleId></AssumedRoleUser>`,
          ),
        );
      }
      if (p.get("Action") === "GetCallerIdentity") {
        const c = callerOf(key);
        return res.end(
          xml("GetCallerIdentity", `<Arn>${c.arn}</Arn><UserId>${c.userId}</UserId><Account>${c.account}</Account>`),
        );
      }
      res
        .writeHead(400)
        .end(
          `<ErrorResponse><Error><Code>InvalidAction</Code><Message>stand-in: ${p.get("Action")}</Message></Error></ErrorResponse>`,
        );
    });
  });
  // No host: the bind is synchronous, so the address is known at once (the sandbox is made synchronously).
  server.listen(0);
  server.unref();
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return url;
}
