/**
 * The environment a migration command runs with: what it needs and nothing of envctl's own (cloud
 * credentials, CI tokens, envctl's settings). From envctl's environment only an allow-list passes
 * (the locale, the home and temporary directories, the time zone, the trusted certificates); then
 * the slot's application settings (as the app runs with them), then the image contract's variables
 * (`DATABASE_URL`, `ENVSTACK_SCHEMA_TO`), and a PATH that starts with the migration tool's directory.
 */
import { delimiter } from "node:path";

/** Variables of envctl's environment a migration command may see: never credentials or tokens. */
export const MIGRATION_ENV_ALLOW = [
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "LC_MESSAGES",
  "TZ",
  "TMPDIR",
  "TEMP",
  "TMP",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
] as const;

/** Where PATH comes from when envctl's own has none. */
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

export function migrationEnvironment(
  parent: NodeJS.ProcessEnv,
  o: { settings: Readonly<Record<string, string>>; vars: Readonly<Record<string, string>>; toolDir: string },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of MIGRATION_ENV_ALLOW) {
    const v = parent[name];
    if (v !== undefined) env[name] = v;
  }
  for (const [k, v] of Object.entries(o.settings)) env[k] = v;
  for (const [k, v] of Object.entries(o.vars)) env[k] = v;
  env.PATH = `${o.toolDir}${delimiter}${parent.PATH || DEFAULT_PATH}`;
  return env;
}
