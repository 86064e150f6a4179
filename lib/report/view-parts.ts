/**
 * The parts of an environment's card, shared by the console's pages (lib/ui) and the static report
 * (./html.ts) through ./views.ts: pure functions of the report's model giving escaped HTML.
 */
import { formatEvidence } from "../release/judge/sequential.ts";
import { calendarText } from "./calendar-view.ts";
import { esc, money, time } from "./html-text.ts";
import type { ReportEnvironment } from "./model.ts";

export function slotsHtml(e: Pick<ReportEnvironment, "slots">): string {
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

export function databaseHtml(e: ReportEnvironment): string {
  const d = e.database;
  if (!d) return "";
  return (
    `<div class="meta database">database ` +
    `${esc(d.instance)}: schema ${d.schema ?? "none"}${d.dirty ? " <strong>DIRTY</strong> (a migration stopped midway)" : ""} (recorded ` +
    `${esc(time(d.readAt))})</div>`
  );
}

/** A rollout's steps: done, current, next. */
export function stepsHtml(r: NonNullable<ReportEnvironment["rollout"]>): string {
  return `<ol class="steps">${r.steps.map((s) => `<li class="${s.state}">${esc(s.label)}</li>`).join("")}</ol>`;
}

/** The rollout in progress; `follow`: where its live view is (the console), if anywhere. */
export function rolloutHtml(e: ReportEnvironment, follow?: string): string {
  const r = e.rollout;
  if (!r) return "";
  const done = r.steps.filter((s) => s.state === "done").length;
  const link = follow ? ` — <a href="${esc(follow)}">follow it</a>` : "";
  return `<div class="block rollout" data-rollout="${esc(r.target)}">
  <div class="label">Rollout in progress${r.paused ? ' <span class="badge warn">paused</span>' : ""}</div>
  <div>${esc(r.target)} <code>${esc(r.version ?? "—")}</code>: ${done} of ${r.steps.length} steps applied, since ${esc(time(r.startedAt))}${link}</div>
  ${stepsHtml(r)}
</div>`;
}

export function measurement(
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
export function evidenceHtml(a: NonNullable<ReportEnvironment["lastAnalysis"]>): string {
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

export function analysisHtml(e: ReportEnvironment): string {
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

export function driftHtml(e: ReportEnvironment): string {
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

export function costHtml(e: ReportEnvironment): string {
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

export function maintenanceHtml(e: ReportEnvironment): string {
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

export function calendarHtml(e: ReportEnvironment): string {
  if (!e.calendar) return "";
  const lines = calendarText(e.calendar).map((l) => `<div class="meta">${esc(l)}</div>`);
  return `<div class="block calendar"><div class="label">Release calendar</div>${lines.join("")}</div>`;
}
