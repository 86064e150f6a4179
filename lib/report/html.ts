/**
 * The environments report as one self-contained HTML page: inline CSS and SVG, no script, no
 * external resource (a Content-Security-Policy forbids any), so it opens from a CI artifact or an
 * e-mail attachment exactly as generated. Pure: the same data gives the same bytes.
 */
import { formatEvidence } from "../release/judge/sequential.ts";
import { calendarText } from "./calendar-view.ts";
import { graphSvg } from "./html-graph.ts";
import { CSS } from "./html-style.ts";
import { esc, money, slug, time } from "./html-text.ts";
import { graphLevels, type ReportData, type ReportEnvironment, type ReportHistoryEntry } from "./model.ts";

export { esc, graphLevels };

// ------------------------------------------------------------------ promotion graph (SVG)

function slotsHtml(e: ReportEnvironment): string {
  return e.slots
    .map(
      (s) => `<div class="slot" data-slot="${s.slot}">
  <span class="name">${s.slot}${s.live ? " ★" : ""}</span>
  <span><code>${esc(s.version ?? "—")}</code>${
    s.schema
      ? ` <span class="meta" title="database schema versions this version runs on">schema ${esc(s.schema)}</span>`
      : ""
  }</span>
  <div class="bar" title="${s.slot}: ${s.weight} % of the traffic"><span class="${s.slot}" style="width:${s.weight}%"></span></div>
  <span class="pct">${s.weight} %</span>
</div>`,
    )
    .join("\n");
}

function databaseHtml(e: ReportEnvironment): string {
  const d = e.database;
  if (!d) return "";
  return (
    `<div class="meta database">database ` +
    `${esc(d.instance)}: schema ${d.schema ?? "none"}${d.dirty ? " <strong>DIRTY</strong> (a migration stopped midway)" : ""} (recorded ` +
    `${esc(time(d.readAt))})</div>`
  );
}

function rolloutHtml(e: ReportEnvironment): string {
  const r = e.rollout;
  if (!r) return "";
  const done = r.steps.filter((s) => s.state === "done").length;
  return `<div class="block rollout" data-rollout="${esc(r.target)}">
  <div class="label">Rollout in progress${r.paused ? ' <span class="badge warn">paused</span>' : ""}</div>
  <div>${esc(r.target)} <code>${esc(r.version ?? "—")}</code>: ${done} of ${r.steps.length} steps applied, since ${esc(time(r.startedAt))}</div>
  <ol class="steps">${r.steps.map((s) => `<li class="${s.state}">${esc(s.label)}</li>`).join("")}</ol>
</div>`;
}

function measurement(
  m: {
    requests: number;
    errors: number;
    slow?: number | null;
    errorRatePercent: number | null;
    p99Seconds: number | null;
  } | null,
): string[] {
  if (!m) return ["—", "—", "—", "—", "—"];
  return [
    String(m.requests),
    String(m.errors),
    m.slow === undefined || m.slow === null ? "—" : String(m.slow),
    m.errorRatePercent === null ? "—" : `${Number(m.errorRatePercent.toFixed(2))} %`,
    m.p99Seconds === null ? "—" : `${Number(m.p99Seconds.toFixed(3))} s`,
  ];
}

/** Each sequential test's evidence (likelihood ratio) against the bound that fails the step. */
function evidenceHtml(a: NonNullable<ReportEnvironment["lastAnalysis"]>): string {
  if (!a.evidence?.length) return "";
  const rows = a.evidence.map((e) => {
    const crossed = e.logEvidence >= e.logBound;
    return (
      `<tr data-test="${esc(e.test)}"><td>${esc(e.test)}</td><td ` +
      `class="num">${esc(formatEvidence(e.logEvidence))}</td><td ` +
      `class="num">${esc(formatEvidence(e.logBound))}</td><td ` +
      `class="${crossed ? "crossed" : "below"}">${crossed ? "crossed: fails the step" : "below"}</td></tr>`
    );
  });
  return `<table class="evidence"><tr><th>test</th><th class="num">evidence</th><th class="num">bound</th><th></th></tr>
  ${rows.join("\n  ")}</table>`;
}

function analysisHtml(e: ReportEnvironment): string {
  const a = e.lastAnalysis;
  if (!a)
    return `<div class="block analysis"><div class="label">Last analysis</div><div class="meta">none recorded</div></div>`;
  const row = (name: string, m: typeof a.canary) =>
    `<tr><td>${name}${m ? ` (${esc(m.slot)})` : ""}</td>${measurement(m)
      .map((v) => `<td class="num">${v}</td>`)
      .join("")}</tr>`;
  const required = a.required
    ? `a pass needs ${
        a.required.requests === null
          ? "more canary requests than any bake " + "gives"
          : `${a.required.requests} canary requests`
      } ${esc(a.required.basis)}`
    : "";
  const planned = a.plannedRequests ? `the traffic plan required ${a.plannedRequests} canary requests` : "";
  const requirement = [required, planned].filter(Boolean).join("; ");
  return (
    `<div class="block analysis">
  <div class="label">Last analysis</div>
  <div><span class="badge ${esc(a.verdict)}">${esc(a.verdict)}</span> step ` +
    `${esc(a.step === "watch" ? "watch" : a.step + 1)} at ${a.percent} %, ${esc(time(a.at))} (${a.polls} polls)</div>
  ${a.reasons.length ? `<ul class="reasons">${a.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>` : ""}
  <table class="counts"><tr><th></th><th class="num">requests</th><th class="num">5xx</th><th ` +
    `class="num">slow</th><th class="num">error rate</th><th class="num">p99</th></tr>
  ${row("canary", a.canary)}
  ${row("stable", a.stable)}</table>
  ${evidenceHtml(a)}
  ${requirement ? `<div class="meta requirement">${requirement}</div>` : ""}
  ${
    a.observed?.length
      ? `<div class="observed"><div class="label">Observe-only (not acted ` +
        `on)</div><ul class="reasons">${a.observed.map((r) => `<li>${esc(r)}</li>`).join("")}</ul></div>`
      : ""
  }
</div>`
  );
}

function driftHtml(e: ReportEnvironment): string {
  if (e.drift === null) return `<span class="badge">drift not checked</span>`;
  const drifted = e.drift.filter((d) => d.status === "drifted");
  if (e.drift.length === 0) return `<span class="badge">drift not checked</span>`;
  if (drifted.length === 0) return `<span class="badge pass">in sync (${e.drift.length} stacks)</span>`;
  // `envctl drift --json` classes each attribute (lib/review/drift-severity.ts); older results carry none.
  const label = (d: (typeof drifted)[number]) => `${esc(d.stack)}${d.severity ? ` (${esc(d.severity)})` : ""}`;
  const attrs = (r: (typeof drifted)[number]["resources"][number]) =>
    r.classes ? r.classes.map((c) => `${c.attribute} (${c.severity})`) : r.attributes;
  return (
    `<details><summary><span class="badge fail">drifted: ` +
    `${drifted.map(label).join(", ")}</span></summary><ul ` +
    `class="reasons">${drifted
      .flatMap((d) =>
        d.resources.map(
          (r) => `<li><code>${esc(d.stack)}: ` + `${esc(r.address)}</code>: ${esc(attrs(r).join(", "))}</li>`,
        ),
      )
      .join("")}</ul></details>`
  );
}

function costHtml(e: ReportEnvironment): string {
  if ("error" in e.cost)
    return `<span class="badge warn">cost unknown</span> <span class="meta">${esc(e.cost.error)}</span>`;
  return (
    `<details><summary><strong>${money(e.cost.total)}</strong> / month ` +
    `(estimate)</summary><table>${e.cost.lines
      .map(
        (l) =>
          `<tr><td>${esc(l.item)}</td><td ` +
          `class="num">${l.quantity}</td><td class="num">${money(l.monthly)}</td></tr>`,
      )
      .join("")}</table></details>`
  );
}

function maintenanceHtml(e: ReportEnvironment): string {
  const m = e.maintenance;
  if (!m) return "";
  const bypass = [
    ...(m.allowCidrs.length ? [`bypass CIDRs ${esc(m.allowCidrs.join(", "))}`] : []),
    ...(m.allowHeader ? [`bypass header ${esc(m.allowHeader)}`] : []),
  ];
  return (
    `<div class="pending">MAINTENANCE since ${esc(time(m.since))} by ${esc(m.by)}: users get the 503 page` +
    `${bypass.map((b) => `; ${b}`).join("")}. End it: <code>envctl maintenance ${esc(e.name)} off</code></div>`
  );
}

function calendarHtml(e: ReportEnvironment): string {
  if (!e.calendar) return "";
  const lines = calendarText(e.calendar).map((l) => `<div class="meta">${esc(l)}</div>`);
  return `<div class="block calendar"><div class="label">Release calendar</div>${lines.join("")}</div>`;
}

function cardHtml(e: ReportEnvironment): string {
  return `<article class="card" id="${slug(e.name)}" data-environment="${esc(e.name)}">
  <h3>${esc(e.name)} <span class="badge tier-${esc(e.tier)}">${esc(e.tier)}</span>${e.preview ? ' <span class="badge">preview</span>' : ""}</h3>
  <div class="meta">${esc(e.region)} · ${esc(e.compute)}</div>
  ${slotsHtml(e)}
  ${databaseHtml(e)}
  ${rolloutHtml(e)}
  ${maintenanceHtml(e)}
  ${
    e.pending
      ? `<div class="pending">PENDING: the deploy of ` +
        `${esc(e.pending.stacks.join(", "))} by ` +
        `<code>${esc(e.pending.command)}</code> since ${esc(time(e.pending.since))} did not finish: run <code>envctl reconcile ${esc(e.name)}</code></div>`
      : ""
  }
  ${analysisHtml(e)}
  ${calendarHtml(e)}
  <div class="block"><div class="label">Drift</div>${driftHtml(e)}</div>
  <div class="block"><div class="label">Cost</div>${costHtml(e)}</div>
</article>`;
}

function historyHtml(h: readonly ReportHistoryEntry[]): string {
  if (h.length === 0)
    return `<p class="meta">No changes recorded yet (the audit records in environments/releases/*.audit.jsonl are empty).</p>`;
  return `<table class="history"><tr><th>when</th><th>environment</th><th class="num">#</th><th>outcome</th><th>command</th><th>weights</th><th>by</th></tr>
${h
  .map(
    (x) =>
      `<tr><td>${esc(time(x.at))}</td><td>${esc(x.environment)}</td><td ` +
      `class="num">${x.seq}</td><td>${esc(x.outcome)}</td><td><code>${esc(x.command)}</code>${
        x.note ? `<div class="meta">${esc(x.note)}</div>` : ""
      }</td><td>${esc(x.weights)}${x.schema ? `<div class="meta">schema ${esc(x.schema)}</div>` : ""}</td><td>${esc(x.by)}</td></tr>`,
  )
  .join("\n")}
</table>`;
}

/** The whole page. */
export function renderReport(d: ReportData): string {
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
<h2>Promotion graph</h2>
<section class="graph">${graphSvg(d)}</section>
<h2>Environments</h2>
<div class="cards">
${d.environments.map(cardHtml).join("\n")}
</div>
<h2>Recent history</h2>
${historyHtml(d.history)}
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
