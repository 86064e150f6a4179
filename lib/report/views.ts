/**
 * One view per thing, shared by the console's pages (lib/ui) and the static report (./html.ts), so
 * the two never drift: an environment's card, the overview (cards and recent activity), the
 * history table, and an environment's page (configuration, services, promotion graph, cost, the
 * settings diff between the slots, history). `live`: the console's rendering (links to its
 * pages, the health boxes its script fills, where a rollout is followed); without it, the report's
 * (anchors in the one file, nothing live). Buttons are the console's own, around these views. Pure.
 */

import type { HistoryRow } from "./history.ts";
import { graphSvg } from "./html-graph.ts";
import { esc, money, slug, time } from "./html-text.ts";
import type { ReportEnvironment } from "./model.ts";
import {
  analysisHtml,
  calendarHtml,
  costHtml,
  databaseHtml,
  driftHtml,
  maintenanceHtml,
  rolloutHtml,
  slotsHtml,
} from "./view-parts.ts";
import type { EnvironmentDetail, Overview, OverviewEnvironment } from "./views-data.ts";

export interface ViewMode {
  /** The console (true) or the static report (false). */
  readonly live: boolean;
}

/** Where an environment is shown: its console page, or its section of the report. */
export const environmentHref = (name: string, mode: ViewMode) =>
  mode.live ? `/environments/${encodeURIComponent(name)}` : `#page-${slug(name).slice(4)}`;

/** Filled by the console's script from /api/environments/<env>/health (what runs now, read through the ports). */
const healthBox = (name: string) => `<div class="meta health" data-health="${esc(name)}">health: reading…</div>`;

/** One table row; each cell is HTML already escaped (a cell starting with `<td`/`<th` is used as is). */
export const row = (cells: readonly string[], tag: "td" | "th" = "td", attrs = "") =>
  `<tr${attrs}>${cells.map((c) => (c.startsWith("<td") || c.startsWith("<th") ? c : `<${tag}>${c}</${tag}>`)).join("")}</tr>`;

/** An environment's card: slots, health (live), database, rollout, maintenance, pending deploy, last analysis, calendar, drift, cost. */
export function cardView(e: ReportEnvironment & Partial<Pick<OverviewEnvironment, "lastRelease">>, mode: ViewMode) {
  const badges = [
    `<span class="badge tier-${esc(e.tier)}">${esc(e.tier)}</span>`,
    e.preview ? '<span class="badge">preview</span>' : "",
    e.maintenance ? '<span class="badge warn">maintenance</span>' : "",
    e.pending ? '<span class="badge fail">deploy pending</span>' : "",
  ].join("");
  const last =
    e.lastRelease === undefined ? "" : ` · last release ${e.lastRelease ? `${esc(e.lastRelease.ago)} ago` : "never"}`;
  const pending = e.pending
    ? `<div class="pending">PENDING: the deploy of ${esc(e.pending.stacks.join(", "))} by ` +
      `<code>${esc(e.pending.command)}</code> since ${esc(time(e.pending.since))} did not finish: ` +
      `run <code>envctl reconcile ${esc(e.name)}</code></div>`
    : "";
  return `<article class="card" id="${slug(e.name)}" data-environment="${esc(e.name)}">
  <h3><a href="${esc(environmentHref(e.name, mode))}">${esc(e.name)}</a> ${badges}</h3>
  <div class="meta">${esc(e.region)} · ${esc(e.compute)}${last}</div>
  ${slotsHtml(e)}
  ${mode.live ? healthBox(e.name) : ""}
  ${databaseHtml(e)}
  ${rolloutHtml(e, mode.live ? `/environments/${encodeURIComponent(e.name)}/rollout` : undefined)}
  ${maintenanceHtml(e)}
  ${pending}
  ${analysisHtml(e)}
  ${calendarHtml(e)}
  <div class="block"><div class="label">Drift</div>${driftHtml(e)}</div>
  <div class="block"><div class="label">Cost</div>${costHtml(e)}</div>
</article>`;
}

const took = (s: number | undefined) =>
  s === undefined ? "" : s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;

/** The history: across environments (`across`: an environment column) or one environment's; newest first. */
export function historyView(items: readonly HistoryRow[], across: boolean): string {
  if (items.length === 0)
    return `<p class="meta">No changes recorded yet (the audit records in environments/releases/*.audit.jsonl are empty).</p>`;
  const head = ["when", ...(across ? ["environment"] : []), "#", "who", "command", "outcome", "weights"];
  const rows = items.map((h) =>
    row(
      [
        esc(time(h.at)),
        ...(across ? [esc(h.environment)] : []),
        `<td class="num">${h.seq}</td>`,
        esc(h.by),
        `<code>${esc(h.command)}</code>${h.note ? `<div class="meta">${esc(h.note)}</div>` : ""}`,
        esc(h.outcome),
        `${esc(h.weights)}${h.schema ? `<div class="meta">schema ${esc(h.schema)}</div>` : ""}`,
        esc(h.approvers?.join(", ") ?? ""),
        esc(took(h.durationSeconds)),
      ],
      "td",
      ` data-seq="${h.seq}"`,
    ),
  );
  return `<table class="history">${row([...head, "approvers", "took"], "th")}\n${rows.join("\n")}</table>`;
}

/** The overview: the promotion graph, every environment's card and the recent activity across them. */
export function overviewView(o: Overview, mode: ViewMode): string {
  const graph = graphSvg(o, { href: (n) => (mode.live ? environmentHref(n, mode) : `#${slug(n)}`) });
  return `<h2>Promotion graph</h2><section class="graph">${graph}</section>
<h2>Environments</h2><section class="cards">${o.environments.map((e) => cardView(e, mode)).join("\n")}</section>
<h2>Recent activity</h2><section class="activity">${historyView(o.activity, true)}</section>`;
}

/** An environment's page: configuration, services, promotion graph, cost, settings diff, history. */
export function environmentView(
  d: EnvironmentDetail,
  o: Pick<Overview, "environments" | "edges">,
  history: readonly HistoryRow[],
  mode: ViewMode,
): string {
  const list = (xs: readonly string[]) => (xs.length ? xs.map((x) => `<code>${esc(x)}</code>`).join(", ") : "none");
  const card = o.environments.find((e) => e.name === d.name)!;
  const names = new Set([d.name, ...d.promotesTo, ...d.rollbackTo]);
  for (const e of o.edges) if (e.to === d.name) names.add(e.from);
  const near = {
    environments: o.environments.filter((e) => names.has(e.name)),
    edges: o.edges.filter((e) => names.has(e.from) && names.has(e.to)),
  };
  const from = o.edges.filter((e) => e.kind === "promotes" && e.to === d.name).map((e) => e.from);
  const costRows = "error" in card.cost ? [] : card.cost.lines;
  const cost =
    "error" in card.cost
      ? `<p class="meta">cost unknown: ${esc(card.cost.error)}</p>`
      : `<div><strong>${money(card.cost.total)}</strong> / month (estimate)</div>` +
        `<table class="cost">${row(["item", "quantity", "monthly"], "th")}${costRows
          .map((l) =>
            row([esc(l.item), `<td class="num">${l.quantity}</td>`, `<td class="num">${money(l.monthly)}</td>`]),
          )
          .join("")}</table>`;
  return (
    `<section class="environment-page" id="page-${slug(d.name).slice(4)}" data-environment-page="${esc(d.name)}">
<div class="meta">${esc(d.region)} · account ${esc(d.account)} · live slot ${esc(d.live)}</div>
<h2>Configuration</h2><div class="card" data-part="config"><div>${d.config.counts.public} public settings: ${list(d.config.settings)}</div>
<div>${d.config.counts.sensitive} secrets (names only): ${list(d.config.secrets)}</div></div>
<h2>Services</h2><div class="card" data-part="services"><div>database: ${esc(d.services.database ?? "none")}${
      d.services.schema !== null ? ` · schema ${esc(d.services.schema)}` : ""
    }</div><div>cache: ${esc(d.services.cache ?? "none")}</div></div>
<h2>Promotion</h2><div class="card graph" data-part="promotion" data-promotes-to="${esc(d.promotesTo.join(" "))}" ` +
    `data-promoted-from="${esc(from.join(" "))}"><div>promoted from ${list(from)} · promotes to ${list(d.promotesTo)}` +
    `${d.rollbackTo.length ? ` · may roll back into ${list(d.rollbackTo)}` : ""}</div>
${graphSvg(near, { current: d.name, href: (n) => environmentHref(n, mode) })}</div>
<h2>Cost</h2><div class="card" data-part="cost"${"error" in card.cost ? "" : ` data-total="${card.cost.total.toFixed(2)}"`}>${cost}</div>
<h2>Settings that differ between the slots</h2><div data-part="settings-diff">${
      d.settingsDiff.length
        ? `<table class="diff">${row(["setting", "blue", "green"], "th")}${d.settingsDiff
            .map((s) => row([`<code>${esc(s.name)}</code>`, esc(s.blue ?? "—"), esc(s.green ?? "—")]))
            .join("")}</table>`
        : `<p class="meta">the slots run the same settings</p>`
    }</div>
<h2>History</h2><div data-part="history">${historyView(history, false)}</div></section>`
  );
}
