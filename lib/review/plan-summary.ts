/**
 * Plan summaries for reviewers: the engine's JSON plans (`tofu show -json`) turned into what
 * changes where, in words. Pure and deterministic (everything sorted), so output can be diffed.
 */
import { slotOfTargetGroupArn } from "../constructs/naming.ts";

/** The parts of `tofu show -json` a summary reads. */
export interface PlanJson {
  resource_changes?: {
    address: string;
    type: string;
    mode?: string;
    change: { actions: string[]; before?: unknown; after?: unknown };
  }[];
}

export type Action = "create" | "update" | "replace" | "delete";

/** Resources whose replacement or deletion loses data or breaks every other stack. */
export const STATEFUL_TYPES = [
  "aws_db_instance",
  "aws_rds_cluster",
  "aws_rds_cluster_instance",
  "aws_elasticache_replication_group",
  "aws_elasticache_cluster",
  "aws_s3_bucket",
  "aws_kms_key",
  "aws_eks_cluster",
  "aws_dynamodb_table",
  "aws_efs_file_system",
  "aws_ebs_volume",
] as const;

export interface StackSummary {
  stack: string;
  environment: string;
  /** The change removes the stack: its plan is a destroy plan (`<stack>.destroy.json`). */
  removed: boolean;
  counts: Record<Action, number>;
  resources: { address: string; action: Action }[];
  traffic: { address: string; from: Record<string, number>; to: Record<string, number> }[];
  versions: { slot: string; from: string | null; to: string | null }[];
  blocking: { address: string; type: string; action: Action }[];
}

export interface Summary {
  stacks: StackSummary[];
  blocking: (StackSummary["blocking"][number] & { stack: string; environment: string })[];
}

/** `dev-traffic` → `dev`; `bootstrap-<account>` and `global` are shared. */
export function environmentOfStack(stack: string): string {
  if (stack.startsWith("bootstrap-") || stack === "global") return "(shared)";
  return stack.replace(/-(traffic|workloads)$/, "");
}

function actionOf(actions: string[]): Action | undefined {
  const a = [...actions].sort().join(",");
  if (a === "create") return "create";
  if (a === "update") return "update";
  if (a === "delete") return "delete";
  if (a === "create,delete") return "replace";
  return undefined; // no-op, read
}

// biome-ignore lint/suspicious/noExplicitAny: the engine's JSON, untyped
type Obj = Record<string, any>;

/** Slot weights of a listener rule's forward action, by slot name found in the target group ARN. */
function weightsOf(rule: unknown): Record<string, number> | undefined {
  const groups = (rule as Obj | null)?.action?.[0]?.forward?.[0]?.target_group as Obj[] | undefined;
  if (!groups?.length) return undefined;
  const out: Record<string, number> = {};
  for (const g of groups) {
    const slot = slotOfTargetGroupArn(String(g.arn ?? "")) ?? String(g.arn ?? "?");
    out[slot] = Number(g.weight ?? 0);
  }
  return out;
}

/** Slot and version of an ASG (tags) or a Kubernetes deployment (labels). */
function slotVersion(type: string, v: unknown): { slot: string; version: string | null } | undefined {
  const o = v as Obj | null;
  if (!o) return undefined;
  if (type === "aws_autoscaling_group") {
    const tags = (o.tag ?? []) as Obj[];
    const slot = tags.find((t) => t.key === "Slot")?.value;
    const version = tags.find((t) => t.key === "Version")?.value;
    return slot ? { slot, version: version === "none" ? null : (version ?? null) } : undefined;
  }
  if (type.startsWith("kubernetes_deployment")) {
    const labels = (o.metadata?.[0]?.labels ?? {}) as Obj;
    const image = String(o.spec?.[0]?.template?.[0]?.spec?.[0]?.container?.[0]?.image ?? "");
    const slot = labels["envstack.io/slot"] ?? labels.slot;
    const replicas = Number(o.spec?.[0]?.replicas ?? 1);
    return slot ? { slot, version: replicas === 0 ? null : (image.split(":").at(-1) ?? null) } : undefined;
  }
  return undefined;
}

/**
 * The stack a plan file is for: `<stack>.json` (or `<stack>.plan.json`); `<stack>.destroy.json`
 * is the destroy plan of a stack the change removes.
 */
export function planFileStack(fileName: string): { stack: string; removed: boolean } {
  const base = fileName.replace(/^.*\//, "");
  if (/\.destroy\.json$/.test(base)) return { stack: base.replace(/\.destroy\.json$/, ""), removed: true };
  return { stack: base.replace(/\.json$/, "").replace(/\.plan$/, ""), removed: false };
}

export function summarize(plans: { stack: string; plan: PlanJson; removed?: boolean }[]): Summary {
  const stacks = plans
    .map(({ stack, plan, removed }): StackSummary => {
      const counts: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0 };
      const s: StackSummary = {
        stack,
        environment: environmentOfStack(stack),
        removed: removed === true,
        counts,
        resources: [],
        traffic: [],
        versions: [],
        blocking: [],
      };
      for (const rc of plan.resource_changes ?? []) {
        if (rc.mode === "data") continue;
        const action = actionOf(rc.change.actions);
        if (!action) continue;
        counts[action]++;
        s.resources.push({ address: rc.address, action });
        if ((action === "replace" || action === "delete") && (STATEFUL_TYPES as readonly string[]).includes(rc.type)) {
          s.blocking.push({ address: rc.address, type: rc.type, action });
        }
        if (rc.type === "aws_lb_listener_rule") {
          const from = weightsOf(rc.change.before);
          const to = weightsOf(rc.change.after);
          if (to && JSON.stringify(from) !== JSON.stringify(to))
            s.traffic.push({ address: rc.address, from: from ?? {}, to });
        }
        const before = slotVersion(rc.type, rc.change.before);
        const after = slotVersion(rc.type, rc.change.after);
        const slot = after?.slot ?? before?.slot;
        if (slot && (before?.version ?? null) !== (after?.version ?? null)) {
          s.versions.push({ slot, from: before?.version ?? null, to: after?.version ?? null });
        }
      }
      s.resources.sort((a, b) => a.address.localeCompare(b.address));
      s.blocking.sort((a, b) => a.address.localeCompare(b.address));
      s.versions.sort((a, b) => a.slot.localeCompare(b.slot));
      return s;
    })
    .sort((a, b) => a.environment.localeCompare(b.environment) || a.stack.localeCompare(b.stack));
  return {
    stacks,
    blocking: stacks.flatMap((s) => s.blocking.map((b) => ({ ...b, stack: s.stack, environment: s.environment }))),
  };
}

const pct = (w: Record<string, number>, slot: string) => (slot in w ? String(w[slot]) : "–");

/** "blue 90 → 50, green 10 → 50" */
export function describeTraffic(t: StackSummary["traffic"][number]): string {
  return [...new Set([...Object.keys(t.from), ...Object.keys(t.to)])]
    .sort()
    .map((slot) => `${slot} ${pct(t.from, slot)} → ${pct(t.to, slot)}`)
    .join(", ");
}

export function toMarkdown(summary: Summary): string {
  const lines: string[] = ["## Plan summary", ""];
  if (summary.stacks.length === 0) return [...lines, "No plans given.", ""].join("\n");
  lines.push("| environment | stack | create | update | replace | delete |", "|---|---|---:|---:|---:|---:|");
  for (const s of summary.stacks) {
    const c = s.counts;
    lines.push(
      `| ${s.environment} | ${s.stack}${s.removed ? " (removed)" : ""} | ${c.create} | ${c.update} | ${c.replace} | ${c.delete} |`,
    );
  }
  lines.push("");
  for (const env of [...new Set(summary.stacks.map((s) => s.environment))]) {
    lines.push(`### ${env}`, "");
    for (const s of summary.stacks.filter((x) => x.environment === env)) {
      const total = s.resources.length;
      if (s.removed) {
        lines.push(
          `#### ${s.stack}: removed, destroys ${s.counts.delete} resource${s.counts.delete === 1 ? "" : "s"}`,
          "",
        );
        lines.push(`- **destroy**: the change removes the stack \`${s.stack}\`; applying it destroys everything below`);
      } else {
        lines.push(`#### ${s.stack}: ${total === 0 ? "no changes" : `${total} change${total === 1 ? "" : "s"}`}`, "");
      }
      for (const t of s.traffic) lines.push(`- **traffic**: ${env}: ${describeTraffic(t)}`);
      for (const v of s.versions) lines.push(`- **version** ${v.slot}: ${v.from ?? "(empty)"} → ${v.to ?? "(empty)"}`);
      for (const r of s.resources) lines.push(`- ${r.action}: \`${r.address}\``);
      lines.push("");
    }
  }
  lines.push("### Risk", "");
  if (summary.blocking.length === 0) {
    lines.push("No stateful resource is replaced or deleted.");
  } else {
    lines.push("**BLOCKING**: stateful resources would be replaced or deleted:", "");
    for (const b of summary.blocking)
      lines.push(`- ${b.environment} / ${b.stack}: ${b.action} \`${b.address}\` (${b.type})`);
  }
  const other = summary.stacks.flatMap((s) =>
    s.resources
      .filter(
        (r) => (r.action === "replace" || r.action === "delete") && !s.blocking.some((b) => b.address === r.address),
      )
      .map((r) => `${s.stack}: ${r.action} \`${r.address}\``),
  );
  if (other.length) lines.push("", "Other replacements and deletions:", "", ...other.map((o) => `- ${o}`));
  lines.push("");
  return lines.join("\n");
}
