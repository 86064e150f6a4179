/**
 * A release-store writer for test/store-kill.test.ts, meant to be killed: it makes `count`
 * sequential changes to `<root>/environments/releases/<env>.json` through the code path of
 * `envctl shift <env> --no-deploy` (withLock → loadRelease → core.shift → commit, as
 * lib/release/commands.ts shift and lib/release/deploy-protocol.ts applyTransition do), without loading the whole project so that a
 * hundred of them start quickly.
 *
 * Each change moves blue's weight to the next value of 1..99 (computed under the lock from the state
 * on disk), so every change differs from the one before. After `commit()` returns (and the lock is
 * released) it prints `committed <seq> <blue weight>` with a synchronous write: a line on stdout is a
 * change the writer saw acknowledged. `ready` is printed once the modules are loaded.
 * With `hold` as the count it takes the lock, prints `holding` and keeps it until killed.
 *
 * With `gated` it loads, then waits for a line on stdin before it starts (so that the test can
 * start the next writer while the current one runs).
 *
 * Two more counts make one change each, interrupted between reading the file and committing it
 * (test/store-lock.test.ts): `pause` prints `loaded` and waits for a line on stdin; `stall:<ms>`
 * prints `loaded` and blocks its event loop for that long (no timer runs: the lock is not refreshed).
 *
 * Usage: node --import tsx test/support/store-writer.ts <root> <env> <count|hold> <waitSeconds> [gated]
 * (the test runs the same file bundled, for a fast start).
 */
import { writeSync } from "node:fs";
import * as core from "../../lib/release/core.ts";
import { commit, loadRelease, withLock } from "../../lib/release/store/index.ts";

const say = (line: string) => writeSync(1, `${line}\n`);

async function main(root: string, env: string, count: string, wait: number): Promise<void> {
  say("ready");
  if (count === "hold") {
    await withLock(
      root,
      env,
      wait,
      async () => {
        say("holding");
        await new Promise((resolve) => setTimeout(resolve, 3_600_000));
      },
      `envctl shift ${env} (store-writer ${process.pid}, holding)`,
    );
  }
  const pause =
    count === "pause" ? () => new Promise<void>((resolve) => process.stdin.once("data", () => resolve())) : undefined;
  const stall = count.startsWith("stall:") ? Number(count.slice("stall:".length)) : undefined;
  if (pause || stall !== undefined) {
    const command = `envctl shift ${env} --to blue (store-writer ${process.pid}, ${count})`;
    const written = await withLock(
      root,
      env,
      wait,
      async () => {
        const before = loadRelease(root, env);
        say("loaded");
        if (pause) await pause();
        if (stall !== undefined) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stall);
        const change: core.Change = { by: "store-writer", at: new Date().toISOString(), command };
        return commit(root, before, core.shift(before, "blue", (before.slots.blue.weight % 99) + 1), {
          change,
          outcome: "edited",
        });
      },
      command,
    );
    say(`committed ${written.lastChange!.seq} ${written.slots.blue.weight}`);
    process.stdin.destroy();
    return;
  }
  for (let i = 0; i < Number(count); i++) {
    const command = `envctl shift ${env} --to blue (store-writer ${process.pid})`;
    const written = await withLock(
      root,
      env,
      wait,
      async () => {
        const before = loadRelease(root, env);
        const change: core.Change = { by: "store-writer", at: new Date().toISOString(), command };
        const after = core.shift(before, "blue", (before.slots.blue.weight % 99) + 1);
        return commit(root, before, after, { change, outcome: "edited" });
      },
      command,
    );
    say(`committed ${written.lastChange!.seq} ${written.slots.blue.weight}`);
  }
}

const [root, env, count, wait, gated] = process.argv.slice(2);
if (!root || !env || !count || !wait)
  throw new Error("usage: store-writer.ts <root> <env> <count|hold|pause|stall:<ms>> <waitSeconds> [gated]");
const run = () =>
  main(root, env, count, Number(wait)).catch((err: Error) => {
    process.stderr.write(`${err.name}: ${err.message}\n`);
    process.exitCode = 1;
    process.stdin.destroy();
  });
if (gated === "gated") {
  process.stdin.once("data", () => {
    process.stdin.destroy();
    void run();
  });
} else {
  void run();
}
