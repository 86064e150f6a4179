/** Time and signals of the real process: the rollout's sleep, and Ctrl-C / SIGTERM. */
import { EXIT } from "./exit-codes.ts";

export const realSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/**
 * The first SIGINT/SIGTERM aborts the returned signal (the rollout returns traffic, or leaves it,
 * and exits 8); a second one exits at once.
 */
export function interruptOn(
  signals: NodeJS.Signals[],
  say: (t: string) => void,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      say(`${sig} again: exiting now`);
      process.exit(EXIT.interrupted);
    }
    say(`${sig}: stopping the rollout (press Ctrl-C again to exit at once)`);
    controller.abort(new Error(sig));
  };
  for (const s of signals) process.on(s, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}
