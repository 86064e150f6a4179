/**
 * What the release package throws: a refusal (nothing changed), a stopped rollout, a failed
 * deploy, an invalid release file. lib/cli maps each to its exit code (lib/cli/exit-codes.ts).
 */

/** A transition or command the release refuses; the message says why and what to do instead. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedError";
  }
}

/** A rollout ended other than by completing; the subclass says how (and sets the exit code). */
export class RolloutStopped extends Error {
  constructor(
    readonly env: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The gate stopped a rollout (failed or inconclusive analysis, failed smoke checks): traffic is on the stable slot. */
export class GateStoppedError extends RolloutStopped {}

/** Another command (here or on another machine) changed the environment during a rollout; this one stopped without touching traffic. */
export class SupersededError extends RolloutStopped {}

/** The rollout was interrupted by a signal. */
export class InterruptedError extends RolloutStopped {}

/** A deploy failed; the release file keeps a pending marker. */
export class DeployFailedError extends Error {
  constructor(
    readonly env: string,
    cause: Error,
  ) {
    super(
      `${cause.message}\n${env}: the release file is marked pending; run 'envctl reconcile ` +
        `${env}' to retry, or 'envctl reconcile ${env} --revert' to restore and redeploy the previous state`,
    );
    this.name = "DeployFailedError";
  }
}

/** A migration ran and failed, timed out or was stopped; the database's state after it is recorded in the history. */
export class MigrationFailedError extends Error {
  constructor(
    readonly env: string,
    message: string,
  ) {
    super(message);
    this.name = "MigrationFailedError";
  }
}

/**
 * A release file that is missing, unreadable or invalid. The file is named; lib/cli describes its
 * problems field by field (with the configuration's reader, lib/config/load.ts).
 */
export class InvalidReleaseFile extends Error {
  constructor(
    readonly root: string,
    readonly env: string,
    readonly file: string,
    override readonly cause: unknown,
  ) {
    super(`invalid release file of ${env}: ${file}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "InvalidReleaseFile";
  }
}

/** A short description of an error of a port's adapter (an AWS SDK or network error) for messages: no stack. */
export function describeCause(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : "";
  const message = e.message ?? String(err);
  const label = e.name && e.name !== "Error" ? e.name : e.code;
  const name = label && !message.includes(label) ? `${label}: ` : "";
  return `${name}${message}${status}`.replace(/\s+/g, " ").trim();
}
