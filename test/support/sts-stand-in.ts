/**
 * A stand-in for AWS STS (the AWS Query protocol the SDK speaks), for envctl run as a subprocess
 * without AWS (AWS_ENDPOINT_URL_STS points here). It behaves as moto does for accounts:
 * - GetCallerIdentity with an access key id of 12 digits is that account
 *   (`arn:aws:iam::<id>:user/<id>`); any other key id is a person of account 999999999999
 *   (`arn:aws:iam::999999999999:user/<key id>`: AWS_ACCESS_KEY_ID=alice is alice);
 * - AssumeRole returns credentials acting in the role's account
 *   (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), for anyone.
 * One server per test process, started on first use.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

let url: string | undefined;

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
        const assumed = /^role\.(\d{12})\.([^.]+)\.(.+)$/.exec(key);
        const [account, arn] = assumed
          ? [assumed[1]!, `arn:aws:sts::${assumed[1]}:assumed-role/${assumed[2]}/${assumed[3]}`]
          : /^\d{12}$/.test(key)
            ? [key, `arn:aws:iam::${key}:user/${key}`]
            : ["999999999999", `arn:aws:iam::999999999999:user/${key}`];
        return res.end(
          xml("GetCallerIdentity", `<Arn>${arn}</Arn><UserId>${key}</UserId><Account>${account}</Account>`),
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
