/**
 * A release-store writer for test/store-kill.test.ts, meant to be killed: it makes `count`
 * sequential changes to `<root>/environments/releases/<env>.json` through the code path of
 * `envctl shift <env> --no-deploy` (withLock → loadRelease → core.shift → commit, as
 * lib/release/operations.ts shift/applyTransition do), without loading the whole project so that a
 * hundred of them start quickly.
 *
 * Each change moves blue's weight to the next value of 1..99 (computed under the lock from the state
 * on disk), so every change differs from the one before. After `commit()` returns (and the lock is
 * released) it prints `committed <seq> <blue weight>` with a synchronous write: a line on stdout is a
 * change the writer saw acknowledged. `ready` is printed once the modules are loaded.
 *
 * Usage: node --import tsx test/support/store-writer.ts <root> <env> <count> <waitSeconds>
 */
import { writeSync } from "node:fs";
import * as core from "../../lib/release/core.ts";
import { commit, loadRelease, withLock } from "../../lib/release/store.ts";

const [root, env, count, wait] = process.argv.slice(2);
if (!root || !env || !count || !wait) throw new Error("usage: store-writer.ts <root> <env> <count> <waitSeconds>");

const say = (line: string) => writeSync(1, `${line}\n`);
say("ready");
for (let i = 0; i < Number(count); i++) {
  const command = `envctl shift ${env} --to blue (store-writer ${process.pid})`;
  const written = await withLock(root, env, Number(wait), async () => {
    const before = loadRelease(root, env);
    const change: core.Change = { by: "store-writer", at: new Date().toISOString(), command };
    const after = core.shift(before, "blue", (before.slots.blue.weight % 99) + 1, change);
    return commit(root, before, after, { change, outcome: "edited" });
  }, command);
  say(`committed ${written.lastChange!.seq} ${written.slots.blue.weight}`);
}
