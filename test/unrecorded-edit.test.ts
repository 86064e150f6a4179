/**
 * A release file edited outside envctl (a hand edit, or a merged pull request that changed it)
 * and then changed by an ordinary command: the change says so in its output, its approval and its
 * history record, naming what the edit changed, so the edit is never absorbed unseen.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { unrecordedEdit } from "../lib/release/model/unrecorded.ts";
import { envctlInProcess } from "./support/envctl-deps.ts";

const fileOf = (dir: string, env: string) => join(dir, "environments/releases", `${env}.json`);
const read = (dir: string, env: string) => JSON.parse(readFileSync(fileOf(dir, env), "utf8"));
const audit = (dir: string, env: string) =>
  readFileSync(join(dir, "environments/releases", `${env}.audit.jsonl`), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("an edit of the release file that no record accounts for", () => {
  it("is nothing while the file is what its last record says; named field by field once it is not (pure)", async () => {
    const h = envctlInProcess();
    expect(await h.run("stage", "dev", "--version", "1.6.0")).toBe(0);
    const r = read(h.dir, "dev");
    expect(unrecordedEdit(r)).toBeNull();
    r.slots.green.version = "9.9.9-unreviewed";
    r.slots.green.weight = 100;
    r.slots.blue.weight = 0;
    expect(unrecordedEdit(r)).toBe(
      'slots.blue.weight 100 → 0, slots.green.version "1.6.0" → "9.9.9-unreviewed", slots.green.weight 0 → 100',
    );
  });

  it("then changed by an ordinary command: said in the output and in the command's record, never absorbed unseen", async () => {
    const h = envctlInProcess();
    expect(await h.run("stage", "dev", "--version", "1.6.0")).toBe(0);
    const seq = read(h.dir, "dev").lastChange.seq;
    const r = read(h.dir, "dev");
    r.slots.green.version = "9.9.9-unreviewed";
    writeFileSync(fileOf(h.dir, "dev"), `${JSON.stringify(r, null, 2)}\n`);
    h.lines.length = 0;
    expect(await h.run("shift", "dev", "--to", "green", "--percent", "10"), h.text()).toBe(0);
    const said = `includes an edit of the release file made outside envctl since record ${seq}: slots.green.version "1.6.0" → "9.9.9-unreviewed"`;
    expect(h.text()).toContain(`dev: this change ${said}; its approval and its record say so`);
    const last = audit(h.dir, "dev")
      .filter((x) => !x.kind)
      .at(-1);
    expect(last).toMatchObject({ outcome: "deployed", from: { slots: { green: { version: "9.9.9-unreviewed" } } } });
    expect(last.note).toContain(said);
    // The next change starts from what was recorded: nothing more to say.
    h.lines.length = 0;
    expect(await h.run("shift", "dev", "--to", "green", "--percent", "20")).toBe(0);
    expect(h.text()).not.toContain("outside envctl");
  });
});
