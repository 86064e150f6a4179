/**
 * The local control plane's processes: each started with its output going to a log file in the
 * control plane's directory (never to a pipe: a caller blocked in spawnSync would stop draining a
 * pipe, and the process would hang writing to it), waited for until a readiness check passes, and
 * stopped with SIGTERM, then SIGKILL. A process still running when Node exits is killed with it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A started component: its name (as errors name it), the process and its log file. */
export interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
}

/** Starts `bin` in `dir`, its output appended to `dir/logs/<name>.log`. */
export function startProcess(dir: string, name: string, bin: string, args: string[]): Started {
  const log = join(dir, "logs", `${name}.log`);
  mkdirSync(join(dir, "logs"), { recursive: true });
  const fd = openSync(log, "a");
  const child = spawn(bin, args, { stdio: ["ignore", fd, fd], cwd: dir });
  closeSync(fd);
  // A caller that exits without stop() (a failed test run) leaves no control plane behind.
  const reap = () => child.kill("SIGKILL");
  process.once("exit", reap);
  child.once("exit", () => process.removeListener("exit", reap));
  return { name, child, log };
}

/** The end of a component's log, for error messages. */
export const tail = (p: Started) => {
  try {
    return readFileSync(p.log, "utf8").slice(-3000);
  } catch {
    return "";
  }
};

/** Waits until `ready()` holds, at most `seconds`; fails naming the component (and its log's tail) if it exits or times out. */
export async function until(p: Started, what: string, seconds: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}) before ${what}: ${tail(p)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${p.name}: no ${what} within ${seconds} s: ${tail(p)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export function stopProcess(p: Started): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once("exit", () => resolve());
    p.child.kill("SIGTERM");
    setTimeout(() => p.child.kill("SIGKILL"), 5000).unref();
  });
}
