/**
 * The console's pages, rendered on the server from the console's data (./data.ts): pure functions
 * giving HTML, every text escaped (lib/report/html.ts's `esc`). The page script (./client.ts)
 * re-fetches the page's main part when the release files change, and sends the buttons' actions.
 */
import { esc } from "../report/html.ts";
import type { EnvironmentDetail, HistoryItem, Overview, OverviewEnvironment } from "./data.ts";

export const CSS = `
:root { --blue:#2563eb; --green:#16a34a; --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc; --warn:#b45309; --bad:#dc2626; --ok:#15803d; }
* { box-sizing: border-box; } body { margin:0; font:14px/1.45 system-ui, sans-serif; color:var(--ink); background:var(--bg); }
header { padding:12px 28px; background:#0f172a; color:#f8fafc; display:flex; gap:24px; align-items:center; }
header a { color:#f8fafc; text-decoration:none; } header .mode { margin-left:auto; color:#cbd5e1; font-size:12px; }
main { padding:18px 28px 40px; max-width:1400px; } h1 { font-size:20px; margin:4px 0 12px; } h2 { font-size:16px; margin:22px 0 8px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(380px,1fr)); gap:14px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card h3 { margin:0; font-size:16px; display:flex; gap:8px; align-items:center; } .meta { color:var(--muted); font-size:12px; }
.badge { display:inline-block; font-size:11px; font-weight:600; padding:1px 7px; border-radius:999px; background:#e2e8f0; color:#334155; }
.tier-production { background:#fee2e2; color:#991b1b; } .tier-staging { background:#fef3c7; color:#92400e; }
.tier-development { background:#dcfce7; color:#166534; }
.pass { background:#dcfce7; color:var(--ok); } .fail { background:#fee2e2; color:var(--bad); } .inconclusive, .warn { background:#fef3c7; color:var(--warn); }
.slot { display:grid; grid-template-columns:64px 90px 1fr 60px; gap:8px; align-items:center; margin:3px 0; }
.bar { height:12px; background:#f1f5f9; border-radius:6px; overflow:hidden; } .bar > span { display:block; height:100%; }
.bar .blue { background:var(--blue); } .bar .green { background:var(--green); }
table { border-collapse:collapse; width:100%; font-size:12px; background:#fff; }
th, td { text-align:left; padding:4px 6px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); } td.num { text-align:right; font-variant-numeric:tabular-nums; }
ol.steps { list-style:none; display:flex; flex-wrap:wrap; gap:6px; padding:0; margin:6px 0; }
ol.steps li { padding:2px 10px; border-radius:999px; font-size:12px; border:1px solid var(--line); color:var(--muted); }
ol.steps li.done { background:var(--ink); color:#fff; } ol.steps li.current { border:2px solid var(--warn); color:var(--warn); font-weight:600; }
.actions { display:flex; gap:8px; margin:10px 0; }
button { font:inherit; padding:5px 12px; border-radius:6px; border:1px solid #94a3b8; background:#fff; cursor:pointer; }
button.danger { border-color:var(--bad); color:var(--bad); } button:disabled { opacity:.5; }
#log { white-space:pre-wrap; font:12px ui-monospace, monospace; background:#0f172a; color:#e2e8f0;
  padding:8px; border-radius:6px; max-height:220px; overflow:auto; }
#log:empty { display:none; } .words li { margin:2px 0; } svg text { font:11px system-ui, sans-serif; fill:#475569; }
`;

/** One table row: `cells` in `<td>` (or `<th>`). Each cell is HTML already escaped. */
export const row = (cells: readonly string[], tag: "td" | "th" = "td", attrs = "") =>
  `<tr${attrs}>${cells.map((c) => (c.startsWith("<td") || c.startsWith("<th") ? c : `<${tag}>${c}</${tag}>`)).join("")}</tr>`;

const time = (iso: string) => iso.replace("T", " ").replace(/(:\d\d)(\.\d+)?Z$/, "$1 UTC");

/** The frame around a page's main part. `csrf`: the session's token, for the page script's requests. */
export function layout(title: string, main: string, o: { csrf: string; readOnly: boolean; project: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · envctl ui</title>
<meta name="csrf" content="${esc(o.csrf)}"><meta name="read-only" content="${o.readOnly}">
<link rel="icon" href="data:,"><style>${CSS}</style><script src="/static/console.js" defer></script></head>
<body><header><a href="/"><strong>envctl ui</strong></a><span>${esc(o.project)}</span>
<span class="mode">${o.readOnly ? "read-only" : "actions enabled"} · <span id="live">connecting…</span></span></header>
<main id="view">${main}</main><div style="padding:0 28px 20px"><div id="result" role="status"></div><div id="log"></div></div></body></html>`;
}

export function slotsHtml(e: { slots: OverviewEnvironment["slots"] }): string {
  return e.slots
    .map(
      (s) =>
        `<div class="slot" data-slot="${s.slot}"><span><b>${s.slot}</b>${s.live ? " ★" : ""}</span>` +
        `<code>${esc(s.version ?? "—")}</code>` +
        `<div class="bar"><span class="${s.slot}" style="width:${s.weight}%"></span></div><span class="num">${s.weight} %</span></div>`,
    )
    .join("");
}

export function stepsHtml(r: NonNullable<OverviewEnvironment["rollout"]>): string {
  return `<ol class="steps">${r.steps.map((s) => `<li class="${s.state}">${esc(s.label)}</li>`).join("")}</ol>`;
}

/** Filled by the page script from /api/environments/<env>/health (what runs now, read through the ports). */
const healthBox = (name: string) => `<div class="meta health" data-health="${esc(name)}">health: reading…</div>`;

function rolloutLine(name: string, r: NonNullable<OverviewEnvironment["rollout"]>): string {
  const paused = r.paused ? '<span class="badge warn">paused</span>' : "";
  const link = `<a href="/environments/${esc(name)}/rollout">follow it</a>`;
  return `<div class="rollout"><b>Rollout</b> of ${esc(r.target)} ${paused} — ${link}${stepsHtml(r)}</div>`;
}

function cardHtml(e: OverviewEnvironment): string {
  const a = e.lastAnalysis;
  return `<article class="card" data-environment="${esc(e.name)}">
<h3><a href="/environments/${esc(e.name)}">${esc(e.name)}</a><span class="badge tier-${esc(e.tier)}">${esc(e.tier)}</span>
${e.maintenance ? '<span class="badge warn">maintenance</span>' : ""}${e.pending ? '<span class="badge fail">deploy pending</span>' : ""}</h3>
<div class="meta">${esc(e.region)} · ${esc(e.compute)} · last release ${e.lastRelease ? `${esc(e.lastRelease.ago)} ago` : "never"}</div>
${slotsHtml(e)}
${healthBox(e.name)}
${e.rollout ? rolloutLine(e.name, e.rollout) : ""}
${a ? `<div class="meta">last analysis: <span class="badge ${esc(a.verdict)}">${esc(a.verdict)}</span> at ${a.percent} %, ${esc(time(a.at))}</div>` : ""}
</article>`;
}

export function activityHtml(
  items: readonly {
    environment?: string;
    at: string;
    by: string;
    command: string;
    outcome: string;
    weights: string;
    approvers?: readonly string[];
  }[],
): string {
  if (items.length === 0) return `<p class="meta">no history yet</p>`;
  const across = items[0]!.environment !== undefined;
  const head = ["when", ...(across ? ["environment"] : []), "who", "command", "outcome", "weights", "approvers"];
  const rows = items.map((h) =>
    row([
      esc(time(h.at)),
      ...(across ? [esc(h.environment)] : []),
      esc(h.by),
      `<code>${esc(h.command)}</code>`,
      esc(h.outcome),
      esc(h.weights),
      esc(h.approvers?.join(", ") ?? ""),
    ]),
  );
  return `<table class="history">${row(head, "th")}\n${rows.join("\n")}</table>`;
}

export function overviewHtml(o: Overview): string {
  return `<h1>Environments</h1><section class="cards">${o.environments.map(cardHtml).join("\n")}</section>
<h2>Recent activity</h2>${activityHtml(o.activity)}`;
}

export function environmentHtml(
  d: EnvironmentDetail,
  card: OverviewEnvironment,
  history: readonly HistoryItem[],
  readOnly: boolean,
): string {
  const list = (xs: readonly string[]) => (xs.length ? xs.map((x) => `<code>${esc(x)}</code>`).join(", ") : "none");
  const buttons = readOnly
    ? ""
    : `<div class="actions">${
        card.rollout
          ? `<a href="/environments/${esc(d.name)}/rollout">the rollout's controls</a>`
          : `<button data-action="rollout" data-env="${esc(d.name)}" data-tier="${esc(d.tier)}">Start rollout</button>`
      }<button class="danger" data-action="rollback" data-env="${esc(d.name)}" data-tier="${esc(d.tier)}">Roll back</button></div>`;
  return `<h1>${esc(d.name)} <span class="badge tier-${esc(d.tier)}">${esc(d.tier)}</span></h1>
<div class="meta">${esc(d.region)} · account ${esc(d.account)} · live slot ${esc(d.live)} · promotes to ${list(d.promotesTo)}</div>
<section class="card" data-part="slots">${slotsHtml(card)}${healthBox(d.name)}</section>${buttons}
<h2>Configuration</h2><div class="card" data-part="config"><div>${d.config.counts.public} public settings: ${list(d.config.settings)}</div>
<div>${d.config.counts.sensitive} secrets (names only): ${list(d.config.secrets)}</div></div>
<h2>Services</h2><div class="card"><div>database: ${esc(d.services.database ?? "none")}</div><div>cache: ${esc(d.services.cache ?? "none")}</div></div>
<h2>Settings that differ between the slots</h2>${
    d.settingsDiff.length
      ? `<table class="diff">${row(["setting", "blue", "green"], "th")}${d.settingsDiff
          .map((s) => row([`<code>${esc(s.name)}</code>`, esc(s.blue ?? "—"), esc(s.green ?? "—")]))
          .join("")}</table>`
      : `<p class="meta">the slots run the same settings</p>`
  }
<h2>History</h2>${activityHtml(history)}`;
}

export function loginHtml(failed: boolean): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>envctl ui: sign in</title><style>${CSS}</style></head>
<body><main><h1>envctl ui</h1><form method="post" action="/login"><p>The console's access token (the file given to <code>envctl ui --token-file</code>):</p>
<input type="password" name="token" autocomplete="off" size="48" autofocus> <button type="submit">Sign in</button>
${failed ? '<p class="badge fail">wrong token</p>' : ""}</form></main></body></html>`;
}
