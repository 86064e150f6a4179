/**
 * The CLI reference (docs/reference/cli.md) is generated from envctl's commander definitions: it
 * lists every command with its arguments, options and examples, and the exit codes of
 * lib/cli/exit-codes.ts; the committed file is what the generator writes today.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { envctlProgram } from "../lib/cli/envctl.ts";
import { EXIT } from "../lib/cli/exit-codes.ts";
import { CLI_REFERENCE, cliReference, exitCodes, REGENERATE } from "../lib/cli/reference.ts";
import { REPO } from "./support/project.ts";

/** Every command path below `cmd` (`analysis plan`), as commander knows them. */
function paths(cmd: Command, prefix = ""): string[] {
  return cmd.commands
    .filter((c) => c.name() !== "help")
    .flatMap((c) => [`${prefix}${c.name()}`, ...paths(c, `${prefix}${c.name()} `)]);
}

describe("the CLI reference", () => {
  const generated = cliReference();

  it("is up to date: the committed file is what the generator writes", () => {
    const committed = readFileSync(join(REPO, CLI_REFERENCE), "utf8");
    if (committed !== generated) {
      const a = committed.split("\n");
      const b = generated.split("\n");
      const line = a.findIndex((l, i) => l !== b[i]);
      expect.fail(
        `${CLI_REFERENCE} is stale: run \`${REGENERATE}\` and commit it (first difference at line ${line + 1}: ${JSON.stringify(a[line])} → ${JSON.stringify(b[line])})`,
      );
    }
  });

  it("has a section for every command and subcommand, with every option commander defines", () => {
    const { program } = envctlProgram();
    const all = paths(program);
    expect(all.length).toBeGreaterThan(40);
    for (const p of all) expect(generated, p).toContain(`\n## envctl ${p}\n`);
    const rollout = program.commands.find((c) => c.name() === "rollout")!;
    for (const o of rollout.options) expect(generated, o.flags).toContain(`\`${o.flags}\``);
    expect(generated).toContain("\n| `--ignore-plan` |");
  });

  it("lists every exit code of lib/cli/exit-codes.ts with its meaning", () => {
    const codes = exitCodes();
    expect(codes.map((c) => [c.name, c.code])).toEqual(Object.entries(EXIT));
    for (const c of codes) {
      expect(c.meaning.length, c.name).toBeGreaterThan(10);
      expect(c.meaning, c.name).not.toMatch(/\/\*|\*\/|export /);
    }
    expect(generated).toContain("| 3 | `gateStopped` | The gate stopped the release");
  });
});
