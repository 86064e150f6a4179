/** Whether a plain value looks like a secret (it must then be one, in app.secrets). */

/**
 * Rules of every plain string: one line, nothing that looks like a secret. Messages never repeat
 * the value. (Terraform template sequences are refused for the whole environment file by the one
 * generic check of lib/config/template.ts.)
 */
export function plainTextProblems(value: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
  if (/[\u0000-\u001f\u007f]/.test(value))
    return ["must be one line without control characters (it becomes an environment variable)"];
  const secret = secretLikeness(value);
  return secret
    ? [`looks like a secret (${secret}): declare it in app.secrets and set its value with 'envctl secret set'`]
    : [];
}

/** Known credential formats; matched anywhere in the value. */
const CREDENTIAL_PATTERNS: readonly [RegExp, string][] = [
  [/-----BEGIN[A-Z ]*-----/, "a PEM block"],
  [/\b(AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}/, "a GitHub token"],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}/, "a Stripe key"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, "a JSON Web Token"],
  [/:\/\/[^/\s:@]+:[^/\s@]+@/, "a URL with a password"],
];

/** Why a value looks like a secret, or undefined. */
export function secretLikeness(value: string): string | undefined {
  for (const [pattern, what] of CREDENTIAL_PATTERNS) if (pattern.test(value)) return what;
  // Tokens of base64/base64url/hex characters; separators of host names, paths and sentences split them.
  for (const token of value.split(/[^A-Za-z0-9+/=_-]+/).flatMap((t) => t.split(/(?<=[a-z])\/(?=[a-z])/))) {
    if (/^[0-9a-fA-F]{32,}$/.test(token)) return `a ${token.length}-character hex string`;
    if (token.length >= 20 && randomLooking(token) && shannonEntropy(token) >= 4)
      return `a ${token.length}-character high-entropy string`;
  }
  return undefined;
}

/**
 * Lower case, upper case and digits all present; or two of them, the rarer making up at least a
 * quarter (random tokens mix evenly; `checkout-v2-enabled` or `ConfigurationLoader` do not).
 */
function randomLooking(s: string): boolean {
  const counts = [/[a-z]/g, /[A-Z]/g, /[0-9]/g].map((r) => s.match(r)?.length ?? 0).filter((n) => n > 0);
  if (counts.length === 3) return true;
  if (counts.length < 2) return false;
  return Math.min(...counts) / (counts[0]! + counts[1]!) >= 0.25;
}

/** Bits per character. */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
