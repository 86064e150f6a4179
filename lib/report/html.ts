/**
 * The environments report as one self-contained HTML page: inline CSS and SVG, no script, no
 * external resource (a Content-Security-Policy forbids any), so it opens from a CI artifact or an
 * e-mail attachment exactly as generated. Pure: the same data gives the same bytes.
 */
import { formatEvidence } from "../release/judge/sequential.ts";
import { graphLevels, type ReportData, type ReportEnvironment, type ReportHistoryEntry } from "./model.ts";

export { graphLevels };

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** Text and attribute values, escaped. */
export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const money = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const time = (iso: string) => iso.replace("T", " ").replace(/(:\d\d)(\.\d+)?Z$/, "$1 UTC");
const slug = (name: string) => `env-${name.replace(/[^a-z0-9-]/gi, "-")}`;

const CSS = `
:root { --blue: #2563eb; --green: #16a34a; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; --warn: #b45309; --bad: #dc2626; --ok: #15803d; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 20px 32px 12px; background: #0f172a; color: #f8fafc; }
header h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; }
header p { margin: 0; color: #cbd5e1; font-size: 13px; }
main { padding: 20px 32px 40px; max-width: 1400px; }
h2 { font-size: 16px; margin: 28px 0 10px; }
section.graph { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow-x: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.card h3 { margin: 0; font-size: 16px; display: flex; gap: 8px; align-items: center; }
.card .meta { color: var(--muted); font-size: 12px; margin: 2px 0 10px; }
.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 1px 7px; border-radius: 999px; background: #e2e8f0; color: #334155; }
.tier-production { background: #fee2e2; color: #991b1b; } .tier-staging { background: #fef3c7; color: #92400e; } .tier-development { background: #dcfce7; color: #166534; }
.pass { background: #dcfce7; color: var(--ok); } .fail { background: #fee2e2; color: var(--bad); } .inconclusive, .warn { background: #fef3c7; color: var(--warn); }
.slot { display: grid; grid-template-columns: 64px 84px 1fr 48px; gap: 8px; align-items: center; margin: 4px 0; }
.slot .name { font-weight: 600; } .slot .pct { text-align: right; font-variant-numeric: tabular-nums; }
.bar { height: 12px; background: #f1f5f9; border-radius: 6px; overflow: hidden; }
.bar > span { display: block; height: 100%; }
.bar .blue { background: var(--blue); } .bar .green { background: var(--green); }
.block { margin-top: 10px; padding-top: 8px; border-top: 1px dashed var(--line); }
.label { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin-bottom: 4px; }
ol.steps { list-style: none; display: flex; flex-wrap: wrap; gap: 6px; padding: 0; margin: 4px 0; }
ol.steps li { padding: 2px 10px; border-radius: 999px; font-size: 12px; border: 1px solid var(--line); color: var(--muted); }
ol.steps li.done { background: var(--ink); color: #fff; border-color: var(--ink); }
ol.steps li.current { border: 2px solid var(--warn); color: var(--warn); font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.pending { margin-top: 8px; padding: 6px 8px; border-radius: 6px; background: #fee2e2; color: #7f1d1d; font-size: 12px; }
ul.reasons { margin: 4px 0; padding-left: 18px; font-size: 12px; }
table.evidence { margin-top: 6px; } td.crossed { color: var(--bad); font-weight: 600; } td.below { color: var(--muted); }
.requirement { margin: 6px 0 0; } .observed { margin-top: 6px; color: var(--warn); }
details summary { cursor: pointer; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
`;

// ------------------------------------------------------------------ promotion graph (SVG)

const NODE_W = 180;
const NODE_H = 64;
const GAP_X = 90;
const GAP_Y = 22;

function graphSvg(d: ReportData): string {
  const envs = d.environments;
  const levels = graphLevels(
    envs.map((e) => e.name),
    d.edges,
  );
  const columns: string[][] = [];
  for (const e of envs) {
    const level = levels.get(e.name)!;
    columns[level] = [...(columns[level] ?? []), e.name];
  }
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, c) => {
    col.forEach((n, r) => {
      pos.set(n, { x: 16 + c * (NODE_W + GAP_X), y: 16 + r * (NODE_H + GAP_Y) });
    });
  });
  const width = 32 + columns.length * NODE_W + Math.max(0, columns.length - 1) * GAP_X;
  const height = 32 + Math.max(...columns.map((c) => c.length)) * (NODE_H + GAP_Y) - GAP_Y + 28;
  const edges = d.edges
    .filter((e) => pos.has(e.from) && pos.has(e.to))
    .map((e) => {
      const a = pos.get(e.from)!;
      const b = pos.get(e.to)!;
      if (e.kind === "promotes") {
        const [x1, y1, x2, y2] = [a.x + NODE_W, a.y + NODE_H / 2, b.x, b.y + NODE_H / 2];
        const mx = (x1 + x2) / 2;
        return `<path class="edge" d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}" fill="none" stroke="#334155" stroke-width="1.6" marker-end="url(#arrow)"><title>${esc(e.from)} promotes into ${esc(e.to)}</title></path>`;
      }
      // rollback-only path: dashed, under the nodes, right to left
      const [x1, y1, x2, y2] = [a.x + NODE_W / 2, a.y + NODE_H, b.x + NODE_W / 2, b.y + NODE_H];
      const low = Math.max(y1, y2) + 24;
      return `<path class="edge rollback" d="M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2 + 2}" fill="none" stroke="#b45309" stroke-width="1.4" stroke-dasharray="5 4" marker-end="url(#arrow-rollback)"><title>${esc(e.from)} may roll back into ${esc(e.to)} (--rollback)</title></path>`;
    });
  const nodes = envs.map((e) => {
    const p = pos.get(e.name)!;
    const live = e.slots.find((s) => s.live)!;
    const canary = e.slots.find((s) => !s.live && s.weight > 0);
    const fill = e.tier === "production" ? "#fef2f2" : e.tier === "staging" ? "#fffbeb" : "#f0fdf4";
    return `<a href="#${slug(e.name)}"><g class="node" data-environment="${esc(e.name)}">
  <rect x="${p.x}" y="${p.y}" width="${NODE_W}" height="${NODE_H}" rx="8" fill="${fill}" stroke="#94a3b8"/>
  <text x="${p.x + 12}" y="${p.y + 22}" font-size="14" font-weight="600" fill="#0f172a">${esc(e.name)}</text>
  <text x="${p.x + NODE_W - 12}" y="${p.y + 22}" font-size="11" text-anchor="end" fill="#64748b">${esc(e.tier)}</text>
  <text x="${p.x + 12}" y="${p.y + 42}" font-size="12" fill="#0f172a">${esc(live.slot)} ${esc(live.version ?? "-")} · ${live.weight} %</text>
  <text x="${p.x + 12}" y="${p.y + 57}" font-size="11" fill="${canary ? "#b45309" : "#64748b"}">${canary ? `canary ${esc(canary.slot)} ${esc(canary.version ?? "-")} · ${canary.weight} %` : e.rollout ? "rollout starting" : "no canary"}</text>
</g></a>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="promotion graph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<defs>
  <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#334155"/></marker>
  <marker id="arrow-rollback" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#b45309"/></marker>
</defs>
${edges.join("\n")}
${nodes.join("\n")}
</svg>`;
}

// ------------------------------------------------------------------ environment cards

function slotsHtml(e: ReportEnvironment): string {
  return e.slots
    .map(
      (s) => `<div class="slot" data-slot="${s.slot}">
  <span class="name">${s.slot}${s.live ? " ★" : ""}</span>
  <span><code>${esc(s.version ?? "—")}</code>${s.schema ? ` <span class="meta" title="database schema versions this version runs on">schema ${esc(s.schema)}</span>` : ""}</span>
  <div class="bar" title="${s.slot}: ${s.weight} % of the traffic"><span class="${s.slot}" style="width:${s.weight}%"></span></div>
  <span class="pct">${s.weight} %</span>
</div>`,
    )
    .join("\n");
}

function databaseHtml(e: ReportEnvironment): string {
  const d = e.database;
  if (!d) return "";
  return `<div class="meta database">database ${esc(d.instance)}: schema ${d.schema ?? "none"}${d.dirty ? " <strong>DIRTY</strong> (a migration stopped midway)" : ""} (recorded ${esc(time(d.readAt))})</div>`;
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
    return `<tr data-test="${esc(e.test)}"><td>${esc(e.test)}</td><td class="num">${esc(formatEvidence(e.logEvidence))}</td><td class="num">${esc(formatEvidence(e.logBound))}</td><td class="${crossed ? "crossed" : "below"}">${crossed ? "crossed: fails the step" : "below"}</td></tr>`;
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
    ? `a pass needs ${a.required.requests === null ? "more canary requests than any bake gives" : `${a.required.requests} canary requests`} ${esc(a.required.basis)}`
    : "";
  const planned = a.plannedRequests ? `the traffic plan required ${a.plannedRequests} canary requests` : "";
  const requirement = [required, planned].filter(Boolean).join("; ");
  return `<div class="block analysis">
  <div class="label">Last analysis</div>
  <div><span class="badge ${esc(a.verdict)}">${esc(a.verdict)}</span> step ${esc(a.step === "watch" ? "watch" : a.step + 1)} at ${a.percent} %, ${esc(time(a.at))} (${a.polls} polls)</div>
  ${a.reasons.length ? `<ul class="reasons">${a.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>` : ""}
  <table class="counts"><tr><th></th><th class="num">requests</th><th class="num">5xx</th><th class="num">slow</th><th class="num">error rate</th><th class="num">p99</th></tr>
  ${row("canary", a.canary)}
  ${row("stable", a.stable)}</table>
  ${evidenceHtml(a)}
  ${requirement ? `<div class="meta requirement">${requirement}</div>` : ""}
  ${a.observed?.length ? `<div class="observed"><div class="label">Observe-only (not acted on)</div><ul class="reasons">${a.observed.map((r) => `<li>${esc(r)}</li>`).join("")}</ul></div>` : ""}
</div>`;
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
  return `<details><summary><span class="badge fail">drifted: ${drifted.map(label).join(", ")}</span></summary><ul class="reasons">${drifted.flatMap((d) => d.resources.map((r) => `<li><code>${esc(d.stack)}: ${esc(r.address)}</code>: ${esc(attrs(r).join(", "))}</li>`)).join("")}</ul></details>`;
}

function costHtml(e: ReportEnvironment): string {
  if ("error" in e.cost)
    return `<span class="badge warn">cost unknown</span> <span class="meta">${esc(e.cost.error)}</span>`;
  return `<details><summary><strong>${money(e.cost.total)}</strong> / month (estimate)</summary><table>${e.cost.lines.map((l) => `<tr><td>${esc(l.item)}</td><td class="num">${l.quantity}</td><td class="num">${money(l.monthly)}</td></tr>`).join("")}</table></details>`;
}

function cardHtml(e: ReportEnvironment): string {
  return `<article class="card" id="${slug(e.name)}" data-environment="${esc(e.name)}">
  <h3>${esc(e.name)} <span class="badge tier-${esc(e.tier)}">${esc(e.tier)}</span>${e.preview ? ' <span class="badge">preview</span>' : ""}</h3>
  <div class="meta">${esc(e.region)} · ${esc(e.compute)}</div>
  ${slotsHtml(e)}
  ${databaseHtml(e)}
  ${rolloutHtml(e)}
  ${e.maintenance ? `<div class="pending">MAINTENANCE since ${esc(time(e.maintenance.since))} by ${esc(e.maintenance.by)}: users get the 503 page${e.maintenance.allowCidrs.length ? `; bypass CIDRs ${esc(e.maintenance.allowCidrs.join(", "))}` : ""}${e.maintenance.allowHeader ? `; bypass header ${esc(e.maintenance.allowHeader)}` : ""}. End it: <code>envctl maintenance ${esc(e.name)} off</code></div>` : ""}
  ${e.pending ? `<div class="pending">PENDING: the deploy of ${esc(e.pending.stacks.join(", "))} by <code>${esc(e.pending.command)}</code> since ${esc(time(e.pending.since))} did not finish: run <code>envctl reconcile ${esc(e.name)}</code></div>` : ""}
  ${analysisHtml(e)}
  <div class="block"><div class="label">Drift</div>${driftHtml(e)}</div>
  <div class="block"><div class="label">Cost</div>${costHtml(e)}</div>
</article>`;
}

function historyHtml(h: readonly ReportHistoryEntry[]): string {
  if (h.length === 0)
    return `<p class="meta">No changes recorded yet (the audit records in environments/releases/*.audit.jsonl are empty).</p>`;
  return `<table class="history"><tr><th>when</th><th>environment</th><th class="num">#</th><th>outcome</th><th>command</th><th>weights</th><th>by</th></tr>
${h.map((x) => `<tr><td>${esc(time(x.at))}</td><td>${esc(x.environment)}</td><td class="num">${x.seq}</td><td>${esc(x.outcome)}</td><td><code>${esc(x.command)}</code>${x.note ? `<div class="meta">${esc(x.note)}</div>` : ""}</td><td>${esc(x.weights)}${x.schema ? `<div class="meta">schema ${esc(x.schema)}</div>` : ""}</td><td>${esc(x.by)}</td></tr>`).join("\n")}
</table>`;
}

/** The whole page. */
export function renderReport(d: ReportData): string {
  const rollouts = d.environments.filter((e) => e.rollout).length;
  const total = d.environments.reduce((s, e) => s + ("error" in e.cost ? 0 : e.cost.total), 0);
  return `<!doctype html>
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
  <p>${d.environments.length} environments · ${rollouts} rollout${rollouts === 1 ? "" : "s"} in progress · ${money(total)} / month estimated (prices as of ${esc(d.pricesAsOf)}) · generated ${esc(time(d.generatedAt))} from the release files</p>
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
<footer>Versions and weights are what the release files say; <code>envctl status --live</code> reads what the load balancers serve. Drift: ${d.driftChecked ? "from the drift result given to <code>envctl report --drift</code>" : "not checked (pass <code>--drift drift.json</code> from <code>envctl drift --json</code>)"}. Cost: estimates from <code>lib/cost/prices.ts</code>.</footer>
</main>
</body>
</html>
`;
}
