/**
 * The rollout view: its steps, the target slot's weight over time, and for each analysis the
 * tests' evidence per poll against their bounds (inline SVG, log scale as the judge computes it),
 * the canary's and the stable slot's counts per poll, and the verdict in words. Pure.
 */
import { formatEvidence } from "../release/judge/sequential.ts";
import type { TrafficPlan } from "../release/rollout/plan.ts";
import { esc } from "../report/html.ts";
import { slotsHtml, stepsHtml } from "../report/view-parts.ts";
import { row } from "../report/views.ts";
import type { RolloutView } from "./data.ts";
import type { EvidencePoint } from "./evidence.ts";

const W = 520;
const H = 150;
const PAD = 30;
const COLORS = ["#dc2626", "#f97316", "#7c3aed", "#0891b2"];

const tip = (p: RolloutView["weights"][number]) => `<title>${esc(p.at)} ${p.percent} % (${esc(p.outcome)})</title>`;
const td = (v: string | number) => `<td class="num">${v}</td>`;
const xy = (x: number, y: number) => `${x.toFixed(1)},${y.toFixed(1)}`;

/** The target's weight after each change since the rollout started: a step line, 0-100 %. */
export function weightsSvg(v: RolloutView): string {
  const pts = v.weights;
  if (pts.length === 0) return `<p class="meta">no change recorded since the rollout started</p>`;
  const x = (i: number) => PAD + (i * (W - 2 * PAD)) / Math.max(1, pts.length - 1);
  const y = (p: number) => H - PAD + ((PAD * 2 - H) * p) / 100;
  const d = pts.map((p, i) => `${i === 0 ? "M" : "L"}${xy(x(i), y(p.percent))}`).join(" ");
  return `<svg class="weights" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="canary weight over time">
<line x1="${PAD}" y1="${y(0)}" x2="${W - PAD}" y2="${y(0)}" stroke="#cbd5e1"/><line x1="${PAD}" y1="${y(100)}" x2="${W - PAD}" y2="${y(100)}" stroke="#e2e8f0"/>
<text x="2" y="${y(0) + 4}">0 %</text><text x="2" y="${y(100) + 4}">100</text>
<path d="${d}" fill="none" stroke="#16a34a" stroke-width="2"/>
${pts.map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.percent).toFixed(1)}" r="3" fill="#16a34a">${tip(p)}</circle>`).join("")}
</svg>`;
}

/** Each test's evidence per poll as a share of its bound (1 = the bound: the step fails there). */
export function evidenceSvg(series: readonly EvidencePoint[]): string {
  if (series.length === 0) return `<p class="meta">no per-poll counts recorded for this step</p>`;
  const names = series[0]!.tests.map((t) => t.name);
  const share = (e: { logEvidence: number; logBound: number }) =>
    Math.max(0, Math.min(1.2, e.logEvidence / e.logBound));
  const tMax = Math.max(1, series.at(-1)!.t);
  const x = (t: number) => PAD + (t * (W - 2 * PAD)) / tMax;
  const y = (s: number) => H - PAD - (s / 1.2) * (H - 2 * PAD);
  const lines = names.map((name, k) => {
    const d = series.map((p, i) => `${i === 0 ? "M" : "L"}${xy(x(p.t), y(share(p.tests[k]!)))}`).join(" ");
    const stroke = COLORS[k % COLORS.length];
    return `<path class="evidence-line" data-test="${esc(name)}" data-points="${series.length}" d="${d}" fill="none" stroke="${stroke}" stroke-width="2"/>`;
  });
  const legend = names.map(
    (n, k) => `<text x="${PAD + k * 125}" y="12" fill="${COLORS[k % COLORS.length]}">${esc(n)}</text>`,
  );
  return `<svg class="evidence" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="evidence against bound per poll">
${legend.join("")}<line x1="${PAD}" y1="${y(1)}" x2="${W - PAD}" y2="${y(1)}" stroke="#dc2626" stroke-dasharray="4 3"/>
<text x="${W - PAD - 36}" y="${y(1) - 4}">bound</text><line x1="${PAD}" y1="${y(0)}" x2="${W - PAD}" y2="${y(0)}" stroke="#cbd5e1"/>
<text x="${PAD}" y="${H - 8}">0 s</text><text x="${W - PAD - 30}" y="${H - 8}">${Math.round(tMax)} s</text>
${lines.join("\n")}</svg>`;
}

/** Canary against stable: requests per poll (bars), 5xx marked. */
export function countsTable(series: readonly EvidencePoint[]): string {
  if (series.length === 0) return "";
  const head = row(["t", "canary requests", "canary 5xx", "stable requests", "stable 5xx"], "th");
  const rows = series.map((p) =>
    row([
      td(`${Math.round(p.t)} s`),
      td(p.canary.requests),
      td(p.canary.errors),
      td(p.stable.requests),
      td(p.stable.errors),
    ]),
  );
  return `<details><summary>canary against stable, per poll</summary><table class="counts">${head}${rows.join("")}</table></details>`;
}

function evidenceTable(evidence: NonNullable<RolloutView["analyses"][number]["evidence"]>): string {
  if (evidence.length === 0) return "";
  const rows = evidence.map((e) =>
    row(
      [esc(e.test), td(esc(formatEvidence(e.logEvidence))), td(esc(formatEvidence(e.logBound)))],
      "td",
      ` data-test="${esc(e.test)}"`,
    ),
  );
  return `<table class="evidence">${row(["test", "evidence", "bound"], "th")}${rows.join("")}</table>`;
}

const r3 = (x: number) => Number(x.toPrecision(3));

/**
 * The rollout's traffic plan (lib/release/judge/traffic-plan.ts, as `envctl analysis plan` gives
 * it): the rate it assumes, and per weight step its bake, the canary requests it expects and
 * needs, and when a healthy canary passes or a regression fails (the time to a decision).
 */
export function planView(plan: TrafficPlan | { error: string } | null): string {
  if (plan === null) return "";
  if ("error" in plan)
    return `<h2>Traffic plan</h2><div class="card" data-part="traffic-plan" data-error="1"><p class="meta">${esc(plan.error)}</p></div>`;
  const head = row(
    ["step", "bake", "expected canary requests", "needed by its end", "healthy passes", "time to decision", ""],
    "th",
  );
  const rows = plan.steps.map((s) =>
    row(
      [
        `${s.canaryStep + 1} (${s.percent} %)`,
        `<td class="num">${s.bakeSeconds} s</td>`,
        `<td class="num">${s.expectedCanaryRequests}</td>`,
        `<td class="num">${Number.isFinite(s.requiredRequests) ? s.requiredRequests : "more than any bake gives"}</td>`,
        `<td class="num">${r3(s.passPercent)} %</td>`,
        esc(
          `pass after ${s.passAfterSeconds} s` +
            (s.failAfterSeconds === null ? "" : `; a ${plan.detect}× regression fails after ~${s.failAfterSeconds} s`),
        ),
        s.reachable ? "" : `<td class="bad">cannot reach a verdict${s.fix ? `: ${esc(s.fix)}` : ""}</td>`,
      ],
      "td",
      ` data-step="${s.canaryStep}" data-expected="${s.expectedCanaryRequests}" data-pass-after="${s.passAfterSeconds}"`,
    ),
  );
  return (
    `<h2>Traffic plan</h2><div class="card" data-part="traffic-plan" data-rps="${r3(plan.rps)}">
<div class="meta">${esc(plan.rpsSource.startsWith("--rps") ? `${r3(plan.rps)} requests/s (${plan.rpsSource})` : plan.rpsSource)} · ` +
    `stable error rate ${r3(plan.baseErrorRatePercent)} % (${esc(plan.baseErrorRateSource)}) · a healthy canary is rolled back ` +
    `with at most ${plan.falseRollbackPercent} %</div><table class="plan">${head}${rows.join("")}</table></div>`
  );
}

export function rolloutHtml(v: RolloutView, readOnly: boolean): string {
  const r = v.rollout;
  const b = (action: string, label: string, cls = "") =>
    `<button class="${cls}" data-action="${action}" data-env="${esc(v.environment)}" data-tier="${esc(v.tier)}">${label}</button>`;
  const buttons = readOnly
    ? ""
    : `<div class="actions">${
        r
          ? [
              b("rollout-continue", "Promote (continue)"),
              b("pause", "Pause"),
              b("rollout", "Resume"),
              b("abort", "Abort", "danger"),
            ].join("")
          : b("rollout", "Start rollout")
      }${b("rollback", "Roll back", "danger")}</div>`;
  const analyses = [...v.analyses].reverse();
  const paused = r?.paused ? ' <span class="badge warn">paused</span>' : "";
  return `<h1>Rollout of ${esc(v.environment)} <span class="badge tier-${esc(v.tier)}">${esc(v.tier)}</span></h1>
<section class="card" data-part="rollout" data-state="${r ? (r.paused ? "paused" : "running") : "none"}">
${r ? `<div>${esc(r.target)} <code>${esc(r.version ?? "—")}</code> since ${esc(r.startedAt)}${paused}</div>` : ""}
${r ? stepsHtml(r) : "<div>no rollout in progress</div>"}
${slotsHtml(v)}</section>${buttons}
${
  v.live.length
    ? `<h2>Step in progress</h2><article class="card live" data-polls="${v.live.length}">` +
      `<div class="meta">${v.live.length} polls so far: each test's evidence against its bound, as the judge sees it</div>` +
      `${evidenceSvg(v.live)}${countsTable(v.live)}</article>`
    : ""
}
${planView(v.plan)}
<h2>Canary weight over time</h2>${weightsSvg(v)}
<h2>Analyses</h2>${
    analyses.length === 0
      ? `<p class="meta">no analysis recorded yet</p>`
      : analyses
          .map(
            (a) => `<article class="card analysis" data-step="${esc(a.step)}" data-verdict="${esc(a.verdict)}">
<h3>${a.step === "watch" ? "post-switch watch" : `step ${Number(a.step) + 1} at ${a.percent} %`} <span class="badge ${esc(a.verdict)}">${esc(a.verdict)}</span>
<span class="meta">${esc(a.at)} · ${a.polls} polls</span></h3>
<ul class="words">${a.words.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>
${evidenceTable(a.evidence ?? [])}
${evidenceSvg(a.series)}${countsTable(a.series)}</article>`,
          )
          .join("\n")
  }`;
}
