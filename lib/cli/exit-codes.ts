/**
 * envctl's exit codes: the one table (docs/reference/cli.md lists it, these comments as the
 * meanings). Every command maps its outcome to one of these; lib/cli/report.ts maps errors to them.
 */
export const EXIT = {
  /** Done (also: nothing to change; a rollout waiting at a manual pause). */
  ok: 0,
  /** Invalid input or refused: nothing changed. Also `config diff` when a required key is missing, `release-check` on a mixed change. */
  invalid: 1,
  /** Drift found (`drift`), or `status --live`: what runs differs from the file, or cannot be read. */
  drift: 2,
  /** The gate stopped the release (rolled back by its analysis, or refused by its smoke checks). */
  gateStopped: 3,
  /** A deploy failed; the release file is marked pending. */
  deployFailed: 4,
  /** The environment is locked by another envctl. */
  locked: 5,
  /** `plan-summary`: the plan is blocked by the stateful guard. */
  blocked: 6,
  /** Superseded: another command moved the traffic during the rollout; this one stopped without touching it. */
  superseded: 7,
  /** Interrupted by SIGINT/SIGTERM (traffic returned to the stable slot, or left). */
  interrupted: 8,
  /** `restore` started but did not finish (the new instance is left, the live one untouched). */
  restoreFailed: 9,
  /** A migration (`migrate`, `rollout --migrate`) or a data copy ran and failed or timed out; the database's state is recorded. */
  migrationFailed: 10,
  /** An internal error: a bug in envctl. */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
