/** `envctl report --html <file>`: the environments report, one self-contained page (lib/report). */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError, zodProblems } from "../../config/errors.ts";
import type { Project } from "../../config/load.ts";
import { renderReport, reportPages } from "../../report/html.ts";
import { collectReport } from "../../report/model.ts";
import type { StackDrift } from "../../review/drift.ts";
import { examples } from "../help.ts";
import { UserError } from "../report.ts";

export interface ReportDeps {
  readonly load: () => Promise<Project>;
  readonly out: (text: string) => void;
  readonly now: () => Date;
  readonly cwd: () => string;
}

/** The shape of `envctl drift --json`. */
const DriftSchema = z.array(
  z.strictObject({
    stack: z.string().min(1),
    status: z.enum(["in sync", "drifted"]),
    resources: z.array(z.strictObject({ address: z.string(), attributes: z.array(z.string()) })),
  }),
);

function readDrift(file: string): StackDrift[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new UserError(`report: --drift ${file}: not a readable JSON file (${(e as Error).message})`);
  }
  const parsed = DriftSchema.safeParse(json);
  if (!parsed.success)
    throw new ConfigError(
      zodProblems(file, parsed.error),
      "report: --drift is not the output of 'envctl drift --json'",
    );
  return parsed.data;
}

export function registerReportCommand(program: Command, d: ReportDeps): void {
  examples(
    program
      .command("report")
      .description(
        "the environments report: one self-contained HTML page, the console's overview and environment " +
          "pages without buttons (promotion graph, versions and weights, rollouts and their last analysis, history, drift, cost)",
      )
      .option("--html <file>", "write the page here")
      .option(
        "--drift <file>",
        "a drift result to show (the output of 'envctl drift --json'); default: drift not checked",
      )
      .option("--json", "print the report's data instead (machine-readable)"),
    [
      ["envctl report --html report.html", "open it in a browser; no server, no network"],
      ["envctl drift --json > drift.json; envctl report --html report.html --drift drift.json", "with drift"],
      ["envctl report --json", "the same data, machine-readable"],
    ],
  ).action(async (o: { html?: string; drift?: string; json?: boolean }) => {
    if (!o.html && !o.json) throw new UserError("report: pass --html <file> (or --json for the data)");
    const drift = o.drift ? readDrift(resolve(d.cwd(), o.drift)) : undefined;
    const project = await d.load();
    const data = collectReport(project, { now: d.now(), drift });
    if (o.html) {
      const file = resolve(d.cwd(), o.html);
      const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
      // The console's views (lib/report/views.ts), rendered to one file: no buttons, nothing live.
      writeFileSync(tmp, renderReport(reportPages(project, { now: d.now(), drift })));
      renameSync(tmp, file);
    }
    if (o.json) d.out(JSON.stringify(data, null, 2));
    else {
      const rollouts = data.environments.filter((e) => e.rollout).map((e) => e.name);
      d.out(
        `wrote ${o.html}: ${data.environments.length} environments, ` +
          `${rollouts.length ? `rollout in progress in ${rollouts.join(", ")}` : "no rollout in progress"}, ` +
          `${data.history.length} recent changes, drift ${data.driftChecked ? "included" : "not checked"}`,
      );
    }
  });
}
