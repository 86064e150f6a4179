/**
 * The console's pages, rendered on the server: the frame, the buttons, and the views it shares with
 * `envctl report` (lib/report/views.ts: cards, overview, an environment's sections, history), so
 * the console and the report never drift. Pure; every text escaped. The page script (./client.ts)
 * re-fetches the page's main part when the release files change, and sends the buttons' actions.
 */
import { esc } from "../report/html.ts";
import { CSS as REPORT_CSS } from "../report/html-style.ts";
import { cardView, environmentView, overviewView } from "../report/views.ts";
import type { EnvironmentDetail, HistoryRow, Overview } from "./data.ts";

/** The console's style: the report's sheet (the shared views), and what only the console has (header, buttons, log). */
export const CSS = `${REPORT_CSS}
header { padding:12px 28px; display:flex; gap:24px; align-items:center; } header a { color:#f8fafc; text-decoration:none; }
header .mode { margin-left:auto; color:#cbd5e1; font-size:12px; } main { padding:18px 28px 40px; }
h1 { font-size:20px; margin:4px 0 12px; } .card h3 a { color:inherit; } .cards { grid-template-columns:repeat(auto-fill,minmax(400px,1fr)); }
.actions { display:flex; gap:8px; margin:10px 0; }
button { font:inherit; padding:5px 12px; border-radius:6px; border:1px solid #94a3b8; background:#fff; cursor:pointer; }
button.danger { border-color:var(--bad); color:var(--bad); } button:disabled { opacity:.5; }
#log { white-space:pre-wrap; font:12px ui-monospace, monospace; background:#0f172a; color:#e2e8f0;
  padding:8px; border-radius:6px; max-height:220px; overflow:auto; }
#log:empty { display:none; } .words li { margin:2px 0; } svg text { font:11px system-ui, sans-serif; fill:#475569; }
g.node.current rect { filter: drop-shadow(0 1px 2px #0f172a55); } table.plan td.bad { color:var(--bad); font-weight:600; }
`;

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

const LIVE = { live: true } as const;

export function overviewHtml(o: Overview): string {
  return `<h1>Overview</h1>${overviewView(o, LIVE)}`;
}

/** An environment's page: what runs (slots, health, buttons), then the shared sections (the report's too). */
export function environmentHtml(
  d: EnvironmentDetail,
  o: Pick<Overview, "environments" | "edges">,
  history: readonly HistoryRow[],
  readOnly: boolean,
): string {
  const card = o.environments.find((e) => e.name === d.name)!;
  const buttons = readOnly
    ? ""
    : `<div class="actions">${
        card.rollout
          ? `<a href="/environments/${esc(d.name)}/rollout">the rollout's controls</a>`
          : `<button data-action="rollout" data-env="${esc(d.name)}" data-tier="${esc(d.tier)}">Start rollout</button>`
      }<button class="danger" data-action="rollback" data-env="${esc(d.name)}" data-tier="${esc(d.tier)}">Roll back</button></div>`;
  return `<h1>${esc(d.name)} <span class="badge tier-${esc(d.tier)}">${esc(d.tier)}</span></h1>
${cardView(card, LIVE)}${buttons}
${environmentView(d, o, history, LIVE)}`;
}

export function loginHtml(failed: boolean): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>envctl ui: sign in</title><style>${CSS}</style></head>
<body><main><h1>envctl ui</h1><form method="post" action="/login"><p>The console's access token (the file given to <code>envctl ui --token-file</code>):</p>
<input type="password" name="token" autocomplete="off" size="48" autofocus> <button type="submit">Sign in</button>
${failed ? '<p class="badge fail">wrong token</p>' : ""}</form></main></body></html>`;
}
