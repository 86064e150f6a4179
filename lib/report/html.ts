/**
 * The environments report as one self-contained HTML page: inline CSS and SVG, no script, no
 * external resource (a Content-Security-Policy forbids any), so it opens from a CI artifact or an
 * e-mail attachment exactly as generated. Pure: the same data gives the same bytes.
 */
import type { Project } from "../config/load.ts";
import { CSS } from "./html-style.ts";
import { esc, money, time } from "./html-text.ts";
import { type CollectOptions, graphLevels, type ReportData } from "./model.ts";
import { environmentView, overviewView } from "./views.ts";
import { type EnvironmentDetail, environmentOf, historyOf, type Overview, overviewOf } from "./views-data.ts";

export { esc, graphLevels };

/** What the report renders: the console's overview and each environment's page. */
export interface ReportPages {
  readonly overview: Overview;
  readonly pages: readonly { readonly detail: EnvironmentDetail; readonly history: ReturnType<typeof historyOf> }[];
}

/** The console's views of the project, for the report (the same functions the console's pages call). */
export function reportPages(project: Project, o: CollectOptions): ReportPages {
  const overview = overviewOf(project, { historyLimit: 20, ...o });
  const pages = overview.environments.map((card) => {
    const e = project.environments.find((x) => x.config.name === card.name)!;
    return { detail: environmentOf(e), history: historyOf(project.root, card.name) };
  });
  return { overview, pages };
}

const STATIC = { live: false } as const;

/** The whole page. */
export function renderReport(data: ReportData | ReportPages): string {
  const given: ReportPages = "overview" in data ? data : { overview: { ...data, activity: data.history }, pages: [] };
  const { overview: d, pages } = given;
  const rollouts = d.environments.filter((e) => e.rollout).length;
  const total = d.environments.reduce((s, e) => s + ("error" in e.cost ? 0 : e.cost.total), 0);
  return (
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(d.project)}: environments</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${esc(d.project)}: environments</h1>
  <p>${d.environments.length} environments · ` +
    `${rollouts} rollout${rollouts === 1 ? "" : "s"} in progress · ` +
    `${money(total)} / month estimated (prices as of ${esc(d.pricesAsOf)}) · generated ${esc(time(d.generatedAt))} from the release files</p>
</header>
<main>
${overviewView(d, STATIC)}
${pages.map((p) => `<h2>${esc(p.detail.name)}</h2>\n${environmentView(p.detail, d, p.history, STATIC)}`).join("\n")}
<footer>Versions and weights are what the release files say; <code>envctl status --live</code> reads ` +
    `what the load balancers serve. Drift: ` +
    `${
      d.driftChecked
        ? "from the drift result given to <code>envctl report " + "--drift</code>"
        : "not checked (pass <code>--drift drift.json</code> from <code>envctl drift --json</code>)"
    }. Cost: estimates from <code>lib/cost/prices.ts</code>.</footer>
</main>
</body>
</html>
`
  );
}
