/** Cross-environment rules, checked once every environment has loaded. Pure functions. */

import { cidrsOverlap, parseCidr } from "./cidr.ts";
import type { Problem } from "./errors.ts";
import { globalHostProblems } from "./global-host.ts";
import type { Environment } from "./schema.ts";

/**
 * `known`: names of every environment that exists, also those whose file did not load (a
 * reference to a broken environment is reported by its own problems, not as "unknown").
 */
export function checkEnvironments(envs: readonly Environment[], known: readonly string[] = []): Problem[] {
  return [
    ...uniqueNames(envs),
    ...cidrOverlaps(envs),
    ...sharedAccounts(envs),
    ...envs.flatMap(tierRules),
    ...envs.flatMap(recoveryRules),
    ...promotionGraph(envs, known),
    ...globalHostProblems(
      envs,
      known.every((n) => envs.some((e) => e.name === n)),
    ),
  ];
}

function uniqueNames(envs: readonly Environment[]): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const e of envs) {
    if (seen.has(e.name)) problems.push({ subject: e.name, path: "name", message: `is defined more than once` });
    seen.add(e.name);
  }
  return problems;
}

function cidrOverlaps(envs: readonly Environment[]): Problem[] {
  const problems: Problem[] = [];
  const parsed = envs.map((e) => parseCidr(e.network.cidr));
  envs.forEach((a, i) => {
    const ca = parsed[i];
    for (const [j, b] of envs.slice(0, i).entries()) {
      const cb = parsed[j];
      if (ca && cb && cidrsOverlap(ca, cb)) {
        // Either side may be the one to change: name the overlap from both.
        problems.push({
          subject: a.name,
          path: "network.cidr",
          message: `${a.network.cidr} overlaps ${b.name} (${b.network.cidr})`,
        });
        problems.push({
          subject: b.name,
          path: "network.cidr",
          message: `${b.network.cidr} overlaps ${a.name} (${a.network.cidr})`,
        });
      }
    }
  });
  return problems;
}

/**
 * One account per environment: two environments may share an account only when each names the
 * other in `account.sharedWith`, or both belong to the same account group (`account.group`,
 * lib/config/schema/account.ts) — production's configuration applied in dev's account, or the
 * reverse, is the accident this prevents, so a production-tier environment never shares through a
 * group. A group is one account: its members must agree on the id. A preview (`expiresAt`) is a
 * copy of its base environment and lives in the base's account: previews are left out.
 */
function sharedAccounts(envs: readonly Environment[]): Problem[] {
  const problems: Problem[] = [];
  const permanent = envs.filter((e) => e.expiresAt === undefined);
  const groupAccount = new Map<string, Environment>();
  for (const e of permanent) {
    const group = e.account.group;
    if (group === undefined) continue;
    if (e.tier === "production") {
      problems.push({
        subject: e.name,
        path: "account.group",
        message:
          "must not be set in the production tier: production shares its account only with the environments " +
          "it names in account.sharedWith (and that name it)",
      });
      continue;
    }
    const first = groupAccount.get(group);
    if (!first) groupAccount.set(group, e);
    else if (first.account.id !== e.account.id)
      problems.push({
        subject: e.name,
        path: "account.id",
        message: `${e.account.id} is not the account of group ${group} (${first.account.id}, as ${first.name} says): a group is one account`,
      });
  }
  // Pairs only within an account: linear in the environments for an estate of one account each.
  const byAccount = new Map<string, Environment[]>();
  for (const e of permanent) byAccount.set(e.account.id, [...(byAccount.get(e.account.id) ?? []), e]);
  for (const members of byAccount.values()) {
    members.forEach((a, i) => {
      for (const b of members.slice(0, i)) {
        if (a.name === b.name) continue;
        const grouped =
          a.account.group !== undefined &&
          a.account.group === b.account.group &&
          a.tier !== "production" &&
          b.tier !== "production";
        if (grouped) continue;
        for (const [x, y] of [
          [a, b],
          [b, a],
        ] as const) {
          if (!x.account.sharedWith.includes(y.name)) {
            problems.push({
              subject: x.name,
              path: "account.id",
              message:
                `${x.account.id} is also ${y.name}'s account: each environment has its own account, or both name each other ` +
                `in account.sharedWith, or both belong to one account group outside the production tier (${x.name} does not name ${y.name})`,
            });
          }
        }
      }
    });
  }
  return problems;
}

/** What the production tier may never lack. */
function tierRules(e: Environment): Problem[] {
  if (e.tier !== "production") return [];
  const p = (path: string, message: string): Problem => ({ subject: e.name, path, message });
  return [
    ...(e.database.multiAz ? [] : [p("database.multiAz", "must be true in the production tier")]),
    ...(e.database.deletionProtection ? [] : [p("database.deletionProtection", "must be true in the production tier")]),
    ...(e.network.natGateways === "per-az"
      ? []
      : [p("network.natGateways", "must be per-az (one NAT per AZ) in the production tier")]),
    ...(e.certificateArn ? [] : [p("certificateArn", "is required in the production tier (HTTPS only)")]),
    ...(e.release.snapshotBeforePromote
      ? []
      : [p("release.snapshotBeforePromote", "must be true in the production tier")]),
    ...(e.approvals && e.approvals.required < 1
      ? [
          p(
            "approvals.required",
            "must be at least 1 in the production tier (someone other than the author approves each change; default 2)",
          ),
        ]
      : []),
    ...(e.compute.kind === "eks" ? eksProductionRules(e.compute, p) : []),
  ];
}

/** Production EKS: the API endpoint is never open to the whole internet. */
function eksProductionRules(
  c: Extract<Environment["compute"], { kind: "eks" }>,
  p: (path: string, message: string) => Problem,
): Problem[] {
  return c.publicAccessCidrs.flatMap((cidr, i) =>
    parseCidr(cidr)?.prefix === 0
      ? [
          p(
            `compute.publicAccessCidrs[${i}]`,
            `must not be ${cidr} in the production tier: keep the API endpoint private ([]) or list the admin networks`,
          ),
        ]
      : [],
  );
}

/** Backups: a copy goes to another region; production keeps one there, behind a vault lock. */
function recoveryRules(e: Environment): Problem[] {
  const p = (path: string, message: string): Problem => ({ subject: e.name, path, message });
  const b = e.backup;
  const problems =
    b?.copyToRegion === e.region
      ? [p("backup.copyToRegion", `must be another region than the environment's own (${e.region})`)]
      : [];
  if (e.tier !== "production") return problems;
  if (!b)
    return [
      p(
        "backup",
        "is required in the production tier (AWS Backup plan with a copy to a second region and a vault lock)",
      ),
    ];
  return [
    ...problems,
    ...(b.copyToRegion
      ? []
      : [p("backup.copyToRegion", "is required in the production tier (disaster-recovery copy in a second region)")]),
    ...(b.vaultLock ? [] : [p("backup.vaultLock", "is required in the production tier")]),
  ];
}

/**
 * Promotion edges must name existing environments, each once, and form no cycle; an environment is
 * either a forward target (`promotesTo`) or a rollback target (`rollbackTo`), never both; and a
 * rollback edge points backwards: to an environment that (directly or through others) promotes
 * into this one.
 */
function promotionGraph(envs: readonly Environment[], known: readonly string[]): Problem[] {
  const names = new Set([...envs.map((e) => e.name), ...known]);
  const problems: Problem[] = [];
  for (const e of envs) {
    for (const [field, targets] of [
      ["promotesTo", e.release.promotesTo],
      ["rollbackTo", e.release.rollbackTo],
    ] as const) {
      targets.forEach((t, i) => {
        const p = (message: string) => problems.push({ subject: e.name, path: `release.${field}[${i}]`, message });
        if (!names.has(t)) p(`names unknown environment ${t}`);
        if (t === e.name) p(`cannot name the environment itself`);
        const first = targets.indexOf(t);
        if (first !== i) p(`names ${t} again (already release.${field}[${first}]): each edge once`);
      });
    }
    e.release.rollbackTo.forEach((t, i) => {
      const p = (message: string) => problems.push({ subject: e.name, path: `release.rollbackTo[${i}]`, message });
      if (e.release.rollbackTo.indexOf(t) !== i || t === e.name || !envs.some((x) => x.name === t)) return;
      const forward = e.release.promotesTo.indexOf(t);
      if (forward >= 0)
        p(
          `names ${t}, which release.promotesTo[${forward}] also names: an edge is a promotion or a rollback path, not both`,
        );
      else if (!promotesInto(envs, t, e.name)) {
        const ahead = promotesInto(envs, e.name, t) ? ` (${e.name} promotes into ${t}: that is a forward edge)` : "";
        p(
          `must point backwards along the promotion graph: ${t} does not promote into ${e.name}, directly or through other environments${ahead}`,
        );
      }
    });
  }
  const cycle = findCycle(envs);
  if (cycle) {
    problems.push({
      subject: cycle[0]!,
      path: "release.promotesTo",
      message: `forms a promotion cycle: ${cycle.join(" → ")}`,
    });
  }
  return problems;
}

/** True when `from` reaches `to` along promotesTo edges (one or more). */
function promotesInto(envs: readonly Environment[], from: string, to: string): boolean {
  const edges = new Map(envs.map((e) => [e.name, e.release.promotesTo]));
  const seen = new Set<string>();
  const queue = [...(edges.get(from) ?? [])];
  while (queue.length > 0) {
    const n = queue.shift()!;
    if (n === to) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    queue.push(...(edges.get(n) ?? []));
  }
  return false;
}

function findCycle(envs: readonly Environment[]): string[] | undefined {
  const edges = new Map(envs.map((e) => [e.name, e.release.promotesTo.filter((t) => t !== e.name)]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "visiting") return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, "visiting");
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      const c = visit(m);
      if (c) return c;
    }
    stack.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of edges.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}
