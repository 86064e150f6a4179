/** `envctl diff <a> <b>`: two environments side by side (lib/cli/views/diff.ts). */
import type { Command } from "commander";
import { unknownEnvironmentMessage } from "../../config/suggest.ts";
import { RefusedError } from "../../release/model/errors.ts";
import { examples } from "../help.ts";
import type { Common, Shell } from "../shell.ts";
import { comparisonMatrix, costRows, formatMatrix } from "../views/diff.ts";
import { common } from "./options.ts";

export function registerDiffCommand(program: Command, shell: Shell): void {
  examples(
    common(
      program
        .command("diff")
        .argument("<envA>", "environment")
        .argument("<envB>", "environment")
        .description("compare two environments side by side, differences marked ≠"),
      false,
    ),
    [
      ["envctl diff staging production", "sizing, versions, weights, database, cost ... side by side"],
      ["envctl diff dev staging --json", "the rows, machine-readable"],
    ],
  ).action(async (a: string, b: string, o: Common) => {
    const project = await shell.load();
    const find = (n: string) => {
      const e = project.environments.find((x) => x.config.name === n);
      if (!e)
        throw new RefusedError(
          unknownEnvironmentMessage(
            n,
            project.environments.map((x) => x.config.name),
          ),
        );
      return e;
    };
    const [ea, eb] = [find(a), find(b)];
    const rows = comparisonMatrix(ea, eb, costRows(ea.config, eb.config));
    shell.out(o.json ? JSON.stringify({ environments: [a, b], rows }, null, 2) : formatMatrix([a, b], rows));
  });
}
