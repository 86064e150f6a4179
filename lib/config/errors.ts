/**
 * Configuration problems are collected, never thrown one at a time: the user gets ONE report
 * naming every environment, field and rule that is wrong.
 */
import type { z } from "zod";

export interface Problem {
  /** Environment (or file) the problem belongs to. */
  readonly subject: string;
  /** Dotted field path, e.g. `network.cidr`; empty for the whole subject. */
  readonly path: string;
  /** The rule that was broken, phrased to follow the path. */
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly problems: readonly Problem[],
    readonly title = "invalid configuration",
  ) {
    super(`${title}:\n${formatProblems(problems)}`);
    this.name = "ConfigError";
  }
}

export function formatProblem(p: Problem): string {
  return [`${p.subject}:`, p.path, p.message].filter((s) => s !== "").join(" ");
}

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => `  - ${formatProblem(p)}`).join("\n");
}

export function pathToString(path: readonly PropertyKey[]): string {
  return path
    .map((k) => (typeof k === "number" ? `[${k}]` : String(k)))
    .join(".")
    .replace(/\.\[/g, "[");
}

/** Converts zod issues into problems of one subject. */
export function zodProblems(subject: string, error: z.ZodError, prefix: readonly PropertyKey[] = []): Problem[] {
  return error.issues.map((issue) => ({
    subject,
    path: pathToString([...prefix, ...issue.path]),
    message: describeIssue(issue),
  }));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) return "is required";
  if (issue.code === "unrecognized_keys") return `has unknown field(s) ${issue.keys.join(", ")}`;
  // A record key that breaks its own rules: say which rules, not "Invalid key in record".
  if (issue.code === "invalid_key") return issue.issues.map((i) => describeIssue(i as z.core.$ZodIssue)).join("; ");
  return issue.message.replace(/^Invalid input: /, "");
}

/**
 * The warnings of a focused load (`Project.warnings`), for stderr: the environments left out and
 * why, without failing the command that did not need them. Empty when there are none.
 */
export function formatWarnings(problems: readonly Problem[]): string {
  if (problems.length === 0) return "";
  return `warning: left out, not needed by this command:\n${formatProblems(problems)}`;
}
