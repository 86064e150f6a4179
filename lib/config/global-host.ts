/**
 * Where the `global` stack (the cross-environment dashboard) lives: the account that says
 * `hostsGlobal: true` (environments/_defaults.ts), in the region of the first permanent environment
 * of that account. Several environments may carry that account (spreading another environment's
 * file keeps its account); all that say so must name one account and region. With a single
 * account it may go unsaid; across accounts it must be explicit, never "whichever environment
 * sorts first". Pure.
 */
import type { Problem } from "./errors.ts";
import type { Environment } from "./schema.ts";

const permanent = (envs: readonly Environment[]) => envs.filter((e) => e.expiresAt === undefined);
const placeOf = (e: Environment) => `${e.account.id} in ${e.region}`;

/** The environment whose account and region hold the global stack; undefined when there is none. */
export function globalHost(envs: readonly Environment[]): Environment | undefined {
  const p = permanent(envs);
  return p.find((e) => e.account.hostsGlobal) ?? p[0];
}

/**
 * The rule: the environments whose account says `hostsGlobal` name one account and region, and
 * one does when the permanent environments span more than one account. `complete`: every
 * environment file loaded (a broken one may be the host: a missing host is not reported then).
 */
export function globalHostProblems(envs: readonly Environment[], complete = true): Problem[] {
  const p = permanent(envs);
  const hosts = p.filter((e) => e.account.hostsGlobal);
  const places = [...new Set(hosts.map(placeOf))];
  if (places.length > 1)
    return hosts.map((e) => ({
      subject: e.name,
      path: "account.hostsGlobal",
      message:
        `is said of ${places.length} accounts or regions (${places.join(", ")}): ` +
        "the global stack lives in one account and region",
    }));
  const accounts = new Set(p.map((e) => e.account.id));
  if (hosts.length === 0 && accounts.size > 1 && complete)
    return [
      {
        subject: p[0]!.name,
        path: "account.hostsGlobal",
        message:
          `must be true on the one account that holds the global stack (the dashboard): the environments ` +
          `span ${accounts.size} accounts (${[...accounts].join(", ")}), so it is never implied`,
      },
    ];
  return [];
}
