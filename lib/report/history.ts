/**
 * An environment's history as the console and the report show it: each change of the audit
 * records with who made it, who approved it (the history's approval notes), how long it took (from
 * the rollout's or the deploy's start), the weights and the schema before → after. Pure over the store.
 */
import { type AuditEntry, readAudit, readNotes } from "../release/store/index.ts";

export interface HistoryRow {
  readonly environment: string;
  readonly seq: number;
  readonly at: string;
  readonly by: string;
  readonly command: string;
  readonly outcome: string;
  /** "blue 100 / green 0 → blue 90 / green 10" */
  readonly weights: string;
  /** The database's schema version before → after the change ("2 → 3"), when the history records it. */
  readonly schema?: string;
  readonly note?: string;
  /** Who approved the change, when it needed approvals. */
  readonly approvers?: readonly string[];
  /** Seconds from the start of what this change ends (a rollout, a deploy). */
  readonly durationSeconds?: number;
}

const weights = (s: AuditEntry["to"]) => `blue ${s.slots.blue.weight} / green ${s.slots.green.weight}`;

/** What each ending outcome ends: the outcome of its start. */
const STARTS: readonly [RegExp, string][] = [
  [/^(rollout-complete|completed|rolled-back|aborted)$/, "rollout-started"],
  [/^(deployed|deploy-failed)$/, "deploying"],
];

function durationOf(audit: readonly AuditEntry[], i: number): number | undefined {
  const a = audit[i]!;
  const start = STARTS.find(([end]) => end.test(a.outcome))?.[1];
  if (!start) return undefined;
  for (let j = i - 1; j >= 0; j--) {
    const b = audit[j]!;
    if (b.outcome === start) return Math.max(0, Math.round((Date.parse(a.at) - Date.parse(b.at)) / 1000));
    if (STARTS.some(([end]) => end.test(b.outcome)) && start === "rollout-started") return undefined;
  }
  return undefined;
}

/** The history of `env`, oldest first. */
export function historyRows(root: string, env: string): HistoryRow[] {
  const approvals = readNotes(root, env, "approval") as unknown as {
    at: string;
    approvers?: string[];
    summary?: string;
  }[];
  const audit = readAudit(root, env);
  return audit.map((a, i): HistoryRow => {
    // The approval recorded for this change: after the one before it, at or before it, naming its command.
    const after = i > 0 ? audit[i - 1]!.at : "";
    const command = a.command.replace(/^envctl /, "");
    const approved = approvals.filter((n) => n.at >= after && n.at <= a.at && n.summary?.includes(command)).at(-1);
    const duration = durationOf(audit, i);
    return {
      environment: env,
      seq: a.seq,
      at: a.at,
      by: a.by,
      command: a.command,
      outcome: a.outcome,
      weights: `${weights(a.from)} → ${weights(a.to)}`,
      ...(a.from.schema !== undefined || a.to.schema !== undefined
        ? { schema: `${a.from.schema ?? "none"} → ${a.to.schema ?? "none"}` }
        : {}),
      ...(a.note ? { note: a.note } : {}),
      ...(approved?.approvers ? { approvers: approved.approvers } : {}),
      ...(duration !== undefined ? { durationSeconds: duration } : {}),
    };
  });
}
