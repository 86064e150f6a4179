/**
 * The scheduled changes of an environment on disk (`releases/<env>.schedule.json`), written
 * atomically; callers hold the environment's lock. An unreadable file is an error (fail closed:
 * it never reads as "nothing scheduled" to a run that would then skip a change silently).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../../fsutil/atomic-write.ts";
import { type ScheduleFile, ScheduleFileSchema } from "../model/schedule.ts";
import { releaseFileOf } from "./release-file.ts";

/** At most this many changes are kept (the oldest that are no longer scheduled go first). */
const KEPT = 200;

export function scheduleFileOf(root: string, env: string): string {
  return join(dirname(releaseFileOf(root, env)), `${env}.schedule.json`);
}

export function readSchedule(root: string, env: string): ScheduleFile {
  const file = scheduleFileOf(root, env);
  if (!existsSync(file)) return { environment: env, changes: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}): fix or remove it`);
  }
  const r = ScheduleFileSchema.safeParse(parsed);
  if (!r.success || r.data.environment !== env) {
    const problem = r.success ? `it names ${r.data.environment}` : r.error.issues[0]?.message;
    throw new Error(`${file} is not a schedule of ${env} (${problem}): fix or remove it`);
  }
  return r.data;
}

export function writeSchedule(root: string, s: ScheduleFile): void {
  const open = s.changes.filter((c) => c.state === "scheduled");
  const done = s.changes.filter((c) => c.state !== "scheduled").slice(-Math.max(0, KEPT - open.length));
  const changes = s.changes.filter((c) => open.includes(c) || done.includes(c));
  writeFileAtomic(scheduleFileOf(root, s.environment), `${JSON.stringify({ ...s, changes }, null, 2)}\n`);
}
