/**
 * Passwords out of text envctl prints (a database URL, a migration command's output): every
 * `scheme://user:password@host` (postgres://, postgresql://, any scheme; the password may hold `/`,
 * `@`, `:`, `?`, `#` or percent-escapes: everything from the first `:` after `//` to the last `@` of
 * the URL goes), every query or keyword parameter naming a password (`?password=`, `&sslpassword=`,
 * `password='…'`, `PGPASSWORD=`). When in doubt it hides more, never less.
 */

/** A URL: a scheme, `//`, then everything up to whitespace (a password may hold quotes and brackets). */
const URL = /([a-z][a-z0-9+.-]*:\/\/)(\S*)/gi;
/** A parameter whose name holds "pass" (password, sslpassword, PGPASSWORD, passwd), its value up to `&`, `#` or whitespace, or quoted. */
const PASSWORD_PARAM =
  /((?:^|[\s?&;,({["'])[\w.-]*pass[\w.-]*["']?\s*[=:]\s*)('(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?|[^\s&#]+)/gi;

function hideUserinfo(rest: string): string {
  const at = rest.lastIndexOf("@");
  if (at < 0) return rest;
  const colon = rest.indexOf(":");
  if (colon < 0 || colon > at) return rest; // a user without a password
  return `${rest.slice(0, colon)}:***${rest.slice(at)}`;
}

export function redact(text: string): string {
  return text
    .replace(URL, (_, scheme: string, rest: string) => scheme + hideUserinfo(rest))
    .replace(PASSWORD_PARAM, "$1***");
}
