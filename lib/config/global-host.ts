/**
 * Where the `global` stack (the cross-environment dashboard) lives: the account and region of the
 * one permanent environment with `hostsGlobal: true`. With a single account it may go unsaid (that
 * account, the first environment's region); across accounts it must be explicit, never "whichever
 * environment sorts first". Pure.
 */
import type { Problem } from "./errors.ts";
import type { Environment } from "./schema.ts";

const permanent = (envs: readonly Environment[]) => envs.filter((e) => e.expiresAt === undefined);

/** The environment whose account and region hold the global stack; undefined when there is none. */
export function globalHost(envs: readonly Environment[]): Environment | undefined {
  const p = permanent(envs);
  return p.find((e) => e.hostsGlobal) ?? p[0];
}

/** The rule: at most one host, and one when the permanent environments span more than one account. */
export function globalHostProblems(envs: readonly Environment[]): Problem[] {
  const p = permanent(envs);
  const hosts = p.filter((e) => e.hostsGlobal);
  if (hosts.length > 1)
    return hosts.map((e) => ({
      subject: e.name,
      path: "hostsGlobal",
      message: `must be true in one environment only (also: ${hosts
        .filter((x) => x !== e)
        .map((x) => x.name)
        .join(", ")}): the global stack lives in one account`,
    }));
  const accounts = new Set(p.map((e) => e.account.id));
  if (hosts.length === 0 && accounts.size > 1)
    return [
      {
        subject: p[0]!.name,
        path: "hostsGlobal",
        message:
          `must be true in the one environment whose account holds the global stack (the dashboard): the ` +
          `environments span ${accounts.size} accounts (${[...accounts].join(", ")}), so it is never implied`,
      },
    ];
  return [];
}
