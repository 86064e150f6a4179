/**
 * `envctl status [env] --live` and `--watch`: the release file beside what runs (the ALB's
 * weights, target health per slot, the gate's alarms, the last analysis), differences marked.
 * The view is the pure `liveStatusOf` (lib/cli/views/live-status.ts); the reading is `observe`
 * (lib/review/live.ts); this file only wires them to the command line.
 */
import type { LoadedEnvironment } from "../../config/load.ts";
import type { Environment } from "../../config/schema.ts";
import { loadRelease, readAudit } from "../../release/store/index.ts";
import { type LiveSources, observe } from "../../review/live.ts";
import { EXIT } from "../exit-codes.ts";
import { formatLiveStatus, type LiveStatusView, liveFacts, liveStatusOf } from "../views/live-status.ts";
import { lastAnalysisOf, statusOf } from "../views/status.ts";
import { stamp, watch } from "../watch.ts";

export interface LiveDeps {
  readonly root: string;
  readonly environments: readonly LoadedEnvironment[];
  readonly sources: (env: Environment) => LiveSources;
  readonly now: () => Date;
}

/** One live view per environment; the release file is read again each time (it changes during a rollout). */
export async function readLive(d: LiveDeps): Promise<LiveStatusView[]> {
  return Promise.all(
    d.environments.map(async (e) => {
      const release = loadRelease(d.root, e.config.name);
      const view = statusOf({ ...e, release }, lastAnalysisOf(readAudit(d.root, e.config.name)));
      return liveStatusOf(view, await observe(e.config.name, d.sources(e.config), d.now()));
    }),
  );
}

export interface LiveOutput {
  readonly json: boolean;
  /** A line of output (newline added). */
  readonly out: (text: string) => void;
  /** Raw output, for redrawing on a terminal. */
  readonly write: (text: string) => void;
  readonly tty: boolean;
}

/** `status --live`: prints once; the exit code says whether what runs agrees with the files. */
export async function statusLive(d: LiveDeps, o: LiveOutput, single: boolean): Promise<number> {
  const views = await readLive(d);
  o.out(o.json ? JSON.stringify(single ? views[0] : views, null, 2) : formatLiveStatus(views));
  return views.some((v) => v.differences.length > 0) ? EXIT.drift : EXIT.ok;
}

/** Facts of all views, flat: what `--watch` compares off a terminal. */
function facts(views: readonly LiveStatusView[]): Record<string, string> {
  return Object.assign({}, ...views.map(liveFacts)) as Record<string, string>;
}

/**
 * `status --watch`: until stopped. Off a terminal: the first view, then a timestamped line per
 * fact that changed; with --json one JSON line per round in which anything but the time changed.
 */
export async function statusWatch(
  d: LiveDeps,
  o: LiveOutput,
  intervalSeconds: number,
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const withoutTime = (views: readonly LiveStatusView[]) => JSON.stringify(views.map(({ observedAt: _, ...v }) => v));
  await watch<LiveStatusView[]>({
    read: () => readLive(d),
    render: formatLiveStatus,
    changes: (previous, current, at) => {
      if (o.json) return previous && withoutTime(previous) === withoutTime(current) ? [] : [JSON.stringify(current)];
      if (!previous) return [formatLiveStatus(current)];
      const [before, after] = [facts(previous), facts(current)];
      return Object.keys(after)
        .filter((k) => before[k] !== after[k])
        .map((k) => `${stamp(at)} ${k}: ${before[k] ?? "-"} → ${after[k]}`);
    },
    write: o.write,
    tty: o.tty && !o.json,
    intervalSeconds,
    now: d.now,
    sleep,
    signal,
  });
}
