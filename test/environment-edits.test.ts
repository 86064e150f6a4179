/**
 * A long-running process (the tests, a console) sees every edit of an environment file: the loader
 * keys its module cache by the hash of the file's content, not by its modification time and size.
 * An edit that keeps both (same length, and the time set back, as two writes within one tick of the
 * file system's clock do) must still be seen, here under vitest's module runner as in Node.
 */
import { readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProject } from "../lib/config/load.ts";
import { tempProject } from "./support/project.ts";

const timeoutOf = async (dir: string) => {
  const project = await loadProject(dir);
  return project.environments.find((e) => e.config.name === "dev")!.config.app?.settings?.REQUEST_TIMEOUT_MS;
};

describe("the environment loader in a long-running process", () => {
  it("sees an edit that keeps the file's size and modification time", async () => {
    const dir = tempProject();
    const file = join(dir, "environments/dev.ts");
    // A whole second, so that the time set back is exactly the time read before.
    const time = Math.floor(Date.now() / 1000) - 60;
    utimesSync(file, time, time);
    const { size } = statSync(file);
    expect(await timeoutOf(dir)).toBe(10000);
    for (const value of [20000, 30000, 10000]) {
      writeFileSync(
        file,
        readFileSync(file, "utf8").replace(/REQUEST_TIMEOUT_MS: \d+/, `REQUEST_TIMEOUT_MS: ${value}`),
      );
      utimesSync(file, time, time);
      const after = statSync(file);
      expect([after.size, after.mtimeMs]).toEqual([size, time * 1000]);
      expect(await timeoutOf(dir)).toBe(value);
    }
  });
});
