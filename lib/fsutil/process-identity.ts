/**
 * Who a process is, precisely enough to prove it gone: its host, the boot of that host's kernel
 * (`/proc/sys/kernel/random/boot_id`), its PID namespace (`readlink /proc/self/ns/pid`), its pid and
 * its start time (field 22 of `/proc/<pid>/stat`, clock ticks since boot). A lock's holder is judged
 * dead only when all of these say so: a pid means nothing in another PID namespace or on another
 * host, and a pid that runs again may be another process (a reused pid: another start time).
 */
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

export interface ProcessIdentity {
  readonly host: string;
  readonly pid: number;
  /** Absent where the system has no /proc (then no pid is ever judged: the lock's refresh decides). */
  readonly bootId?: string;
  readonly pidNamespace?: string;
  readonly startTicks?: number;
}

function readOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined when unreadable. */
export function startTicksOf(pid: number | "self"): number | undefined {
  const stat = readOrUndefined(() => readFileSync(`/proc/${pid}/stat`, "utf8"));
  if (stat === undefined) return undefined;
  // Field 2 (the command name, in parentheses) may hold spaces and parentheses: count after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[19]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

/** This process, as a lock records its holder. */
export function ownIdentity(): ProcessIdentity {
  const bootId = readOrUndefined(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
  const pidNamespace = readOrUndefined(() => readlinkSync("/proc/self/ns/pid"));
  const startTicks = startTicksOf("self");
  return {
    host: hostname(),
    pid: process.pid,
    ...(bootId ? { bootId } : {}),
    ...(pidNamespace ? { pidNamespace } : {}),
    ...(startTicks !== undefined ? { startTicks } : {}),
  };
}

/** What this host can see of a process of its own PID namespace. */
export interface ProcessProbe {
  /** False only when no process has that pid here (ESRCH). */
  running(pid: number): boolean;
  startTicks(pid: number): number | undefined;
}

export const procProbe: ProcessProbe = {
  running: (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== "ESRCH";
    }
  },
  startTicks: (pid) => startTicksOf(pid),
};

/**
 * Whether `holder` is gone, as seen by `self`: `dead` (with why) only when the identity proves it,
 * `alive`, or `unknown` (another host, another boot, another PID namespace, or a record without the
 * identity: only the lock's refresh can tell then).
 */
export type HolderVerdict =
  | { readonly state: "dead"; readonly why: string }
  | { readonly state: "alive" }
  | { readonly state: "unknown"; readonly why: string };

export function judgeHolder(
  holder: Partial<ProcessIdentity> & { readonly pid: number; readonly host: string },
  self: ProcessIdentity,
  probe: ProcessProbe = procProbe,
): HolderVerdict {
  if (holder.host !== self.host) return { state: "unknown", why: `it runs on another host (${holder.host})` };
  if (!holder.bootId || !self.bootId || holder.bootId !== self.bootId)
    return { state: "unknown", why: "its record names another boot of this host, or none" };
  if (!holder.pidNamespace || !self.pidNamespace || holder.pidNamespace !== self.pidNamespace) {
    return {
      state: "unknown",
      why: [
        `it runs in another PID namespace (${holder.pidNamespace ?? "not recorded"}; `,
        `this one is ${self.pidNamespace ?? "unknown"}), where its pid means nothing here`,
      ].join(""),
    };
  }
  if (!Number.isSafeInteger(holder.pid) || holder.pid <= 0)
    return { state: "unknown", why: "its record names no valid pid" };
  if (!probe.running(holder.pid)) return { state: "dead", why: "which is no longer running" };
  const now = probe.startTicks(holder.pid);
  if (holder.startTicks !== undefined && now !== undefined && now !== holder.startTicks) {
    return {
      state: "dead",
      why: `which is no longer running (pid ${holder.pid} now belongs to a process started later)`,
    };
  }
  return { state: "alive" };
}
