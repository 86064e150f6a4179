/** What each kind of target receives: the webhook's JSON, Slack's message, SNS's subject and text. */
import type { ReleaseEventPayload } from "../release/model/events.ts";

const weightsText = (p: ReleaseEventPayload) =>
  p.weights ? `blue ${p.weights.blue} % / green ${p.weights.green} %` : "weights unknown";
const versionsText = (p: ReleaseEventPayload) =>
  p.versions
    ? `blue ${p.versions.blue ?? "empty"}, green ${p.versions.green ?? "empty"} (live: ${p.versions.live})`
    : "versions unknown";

/** One-line title: `[critical] staging: rollback`. */
export function title(p: ReleaseEventPayload): string {
  return `[${p.severity}] ${p.environment}: ${p.event}`;
}

/** Plain text of an event (SNS e-mail, Slack's fallback). */
export function text(p: ReleaseEventPayload): string {
  return [
    title(p),
    p.reason,
    `versions: ${versionsText(p)}`,
    `weights: ${weightsText(p)}`,
    ...(p.evidence ? [`evidence: ${p.evidence}`] : []),
    `by ${p.by} at ${p.at}: ${p.command}`,
    ...(p.link ? [`link: ${p.link}`] : []),
  ].join("\n");
}

const ICON: Record<ReleaseEventPayload["severity"], string> = {
  info: ":information_source:",
  warning: ":warning:",
  critical: ":rotating_light:",
};

/** A Slack incoming webhook's body: `text` (mrkdwn) carries everything. */
export function slackBody(p: ReleaseEventPayload): string {
  const lines = [
    `${ICON[p.severity]} *${p.event}* in *${p.environment}* (${p.severity})`,
    p.reason,
    `*versions* ${versionsText(p)} · *weights* ${weightsText(p)}`,
    ...(p.evidence ? [`> ${p.evidence}`] : []),
    `_${p.by}: \`${p.command}\`_${p.link ? ` · <${p.link}|run>` : ""}`,
  ];
  return JSON.stringify({ text: lines.join("\n") });
}

/** The generic webhook's body: the payload as JSON. */
export function webhookBody(p: ReleaseEventPayload): string {
  return JSON.stringify(p);
}

/** SNS subject (at most 100 characters, SNS's limit) and message (text, then the JSON payload). */
export function snsMessage(p: ReleaseEventPayload): { subject: string; message: string } {
  return { subject: title(p).slice(0, 100), message: `${text(p)}\n\n${JSON.stringify(p)}` };
}
