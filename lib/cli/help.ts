/** Help pages: every envctl command ends its --help with examples. */
import type { Command } from "commander";

/** Appends an "Examples:" section (command, then what it does) to `cmd`'s help. */
export function examples(cmd: Command, list: readonly (readonly [string, string])[]): Command {
  const width = Math.max(...list.map(([c]) => c.length));
  return cmd.addHelpText(
    "after",
    `\nExamples:\n${list.map(([c, what]) => `  $ ${c.padEnd(width)}  # ${what}`).join("\n")}`,
  );
}
