/**
 * The view models the console's pages and the static report both render (./views.ts): the
 * overview (the report's model of every environment plus the time since its last release), an
 * environment's page (configuration names, services, promotion, the settings diff between the
 * slots) and its history. Pure functions of the project on disk.
 */
import type { LoadedEnvironment, Project } from "../config/load.ts";
import { readAudit } from "../release/store/index.ts";
import { type HistoryRow, historyRows } from "./history.ts";
import { type CollectOptions, collectReport, type ReportData, type ReportEnvironment } from "./model.ts";

/** Outcomes that count as a release (the time since the last one). */
const RELEASES = /^(deployed|rolled-back|aborted|rollout-complete|completed|promoted)/;

export interface OverviewEnvironment extends ReportEnvironment {
  /** Absent where unknown (the report of given data). */
  readonly lastRelease?: { readonly at: string; readonly ago: string } | null;
}

export interface Overview extends Omit<ReportData, "environments" | "history"> {
  readonly environments: readonly OverviewEnvironment[];
  /** Recent activity across the environments, newest first. */
  readonly activity: readonly HistoryRow[];
}

/** "3 min", "2 h", "5 d". */
export function ago(from: string, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(from)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} d`;
}

export function overviewOf(project: Project, o: CollectOptions): Overview {
  const { history, ...report } = collectReport(project, { historyLimit: 15, ...o });
  return {
    ...report,
    activity: history,
    environments: report.environments.map((e) => {
      const last = [...readAudit(project.root, e.name)].reverse().find((a) => RELEASES.test(a.outcome));
      return { ...e, lastRelease: last ? { at: last.at, ago: ago(last.at, o.now) } : null };
    }),
  };
}

/** An environment's history, newest first. */
export const historyOf = (root: string, env: string): HistoryRow[] => historyRows(root, env).reverse();

export interface EnvironmentDetail {
  readonly name: string;
  readonly tier: string;
  readonly region: string;
  readonly account: string;
  readonly live: string;
  readonly config: {
    readonly settings: readonly string[];
    readonly secrets: readonly string[];
    readonly counts: { readonly public: number; readonly sensitive: number };
  };
  readonly services: {
    /** "PostgreSQL 17.4 (db.t4g.micro)"; null: no database. */
    readonly database: string | null;
    /** The schema version envctl last recorded ("3"; "3 (dirty)"); null: not tracked. */
    readonly schema: string | null;
    readonly cache: string | null;
  };
  readonly promotesTo: readonly string[];
  readonly rollbackTo: readonly string[];
  /** Settings whose values differ between the slots (plain settings: never secrets). */
  readonly settingsDiff: readonly {
    readonly name: string;
    readonly blue: string | null;
    readonly green: string | null;
  }[];
}

export function environmentOf(e: LoadedEnvironment): EnvironmentDetail {
  const c = e.config;
  const settings = Object.keys(c.app?.settings ?? {}).sort();
  const secrets = (c.app?.secrets ?? []).map((s) => s.name).sort();
  const blue = e.release.slots.blue.settings?.values ?? {};
  const green = e.release.slots.green.settings?.values ?? {};
  const names = [...new Set([...Object.keys(blue), ...Object.keys(green)])].sort();
  const text = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  const db = e.release.database;
  return {
    name: c.name,
    tier: c.tier,
    region: c.region,
    account: c.account.id,
    live: e.release.live,
    config: { settings, secrets, counts: { public: settings.length, sensitive: secrets.length } },
    services: {
      database: c.database ? `PostgreSQL ${c.database.engineVersion} (${c.database.instanceClass})` : null,
      schema: db && db.schema !== null && db.schema !== undefined ? `${db.schema}${db.dirty ? " (dirty)" : ""}` : null,
      cache: c.cache ? `Redis ${c.cache.engineVersion} (${c.cache.nodeType}, ${c.cache.replicas} replicas)` : null,
    },
    promotesTo: c.release.promotesTo,
    rollbackTo: c.release.rollbackTo,
    settingsDiff: names
      .filter((n) => text(blue[n]) !== text(green[n]))
      .map((n) => ({ name: n, blue: text(blue[n]), green: text(green[n]) })),
  };
}
