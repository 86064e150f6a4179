/**
 * Who a principal is, as a person, pure. An approval counts once per person, so every identity an
 * approver or an author is known by is reduced to one key before any comparison:
 *
 * - a GitHub login (CI): the login, case-folded (GitHub logins are case-insensitive);
 * - an IAM user (`arn:aws:iam::<account>:user/<path>/<name>`): the user name, case-folded (IAM
 *   names are unique regardless of case);
 * - an IAM Identity Center session (`…:assumed-role/AWSReservedSSO_<set>_<id>/<user>`): the user
 *   name Identity Center set as the session name, case-folded; the permission set does not
 *   matter (one person through two permission sets is one person).
 *
 * Any other assumed-role session is refused: its session name is whatever the caller passed to
 * sts:AssumeRole, so `…/envstack-deploy/ops-2` and `…/envstack-deploy/OPS-3` may be one person.
 * So are the root user, federated users and anything unrecognised. Names are compared on their
 * printable-ASCII form only: anything else (look-alike letters, spaces, control characters) is
 * refused rather than guessed at.
 */

export type Person =
  | { readonly ok: true; readonly key: string; readonly kind: "github" | "iam-user" | "sso" }
  | { readonly ok: false; readonly why: string };

const PRINTABLE = /^[\x21-\x7e]+$/;
const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const IAM_USER = /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;
const ASSUMED_ROLE = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{1,64})$/;
const SSO_ROLE = /^AWSReservedSSO_[\w+=,.@-]+$/;

/** The person behind `identity` (a GitHub login or an AWS principal ARN), or why it names nobody in particular. */
export function personOf(identity: string): Person {
  const id = identity.normalize("NFKC").trim();
  if (!PRINTABLE.test(id))
    return { ok: false, why: "has characters other than printable ASCII: it cannot be told apart from a look-alike" };
  if (GITHUB_LOGIN.test(id)) return { ok: true, key: `github:${id.toLowerCase()}`, kind: "github" };
  const user = IAM_USER.exec(id);
  if (user) return { ok: true, key: `aws:${user[1]!.toLowerCase()}`, kind: "iam-user" };
  const role = ASSUMED_ROLE.exec(id);
  if (role && SSO_ROLE.test(role[1]!)) return { ok: true, key: `aws:${role[2]!.toLowerCase()}`, kind: "sso" };
  if (role) {
    return {
      ok: false,
      why:
        `is a session of role ${role[1]}, whose session name (${role[2]}) is chosen by whoever assumes it: it names no person. Approve as an IAM ` +
        `Identity Center user or an IAM user`,
    };
  }
  if (/:root$/.test(id)) return { ok: false, why: "is an account's root user: it names no person" };
  return {
    ok: false,
    why: "is neither a GitHub login, an IAM user nor an IAM Identity Center session: it names no person",
  };
}

/** Whether two identities are one person (false when either names nobody in particular). */
export function samePerson(a: string, b: string): boolean {
  const pa = personOf(a);
  const pb = personOf(b);
  return pa.ok && pb.ok && pa.key === pb.key;
}
