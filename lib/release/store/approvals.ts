/**
 * The changes of an environment waiting for approval (`releases/<env>.approvals.json`), owned by
 * the release store: which command makes each change (so an approver's envctl can make it again
 * and show what it does), who asked, and the commit they asked from. The file is a list of
 * pointers, trusted for nothing: an approval is never read from it (approvals live where the
 * platform proves who made them: lib/aws/approval-ledger.ts), and what a change does is always
 * recomputed from the repository, never taken from its `summary`. Written under the file's lock,
 * atomically; at most 200 requests are kept.
 */
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../../fsutil/atomic-write.ts";
import { withFileLock } from "../../fsutil/file-lock.ts";
import { releaseFileOf } from "./release-file.ts";

const RequestSchema = z.object({
  changeId: z.string(),
  summary: z.string(),
  diff: z.string().optional(),
  stacks: z.array(z.string()),
  author: z.string(),
  at: z.string(),
  /** envctl's arguments that make the change (what `envctl approve` runs again to show it). */
  argv: z.array(z.string()).default([]),
  /** The commit the author's checkout was at (git HEAD), when it is a git checkout. */
  commit: z.string().optional(),
  /** Approvals an earlier envctl kept here: never read (anyone can write this file). */
  approvals: z.unknown().optional(),
});
const FileSchema = z.object({ environment: z.string(), requests: z.array(RequestSchema) });

export type ApprovalRequest = z.infer<typeof RequestSchema>;
const KEPT = 200;

export function approvalsFileOf(root: string, env: string): string {
  return join(dirname(releaseFileOf(root, env)), `${env}.approvals.json`);
}

/** The environment's requests, newest last; an unreadable file is an error (fail closed: it never reads as "none"). */
export function readApprovals(root: string, env: string): ApprovalRequest[] {
  const file = approvalsFileOf(root, env);
  if (!existsSync(file)) return [];
  const text = readFileSync(file, "utf8");
  if (text.trim() === "") return []; // created by a first request a moment ago
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${(err as Error).message}): fix or remove it; no approval can be read from it`,
    );
  }
  const r = FileSchema.safeParse(parsed);
  if (!r.success || r.data.environment !== env)
    throw new Error(`${file} is not an approvals file of ${env}: fix or remove it; no approval can be read from it`);
  return r.data.requests;
}

/** The request of `changeId`, if any. */
export function findRequest(root: string, env: string, changeId: string): ApprovalRequest | undefined {
  return readApprovals(root, env).find((r) => r.changeId === changeId);
}

/** Records that the change waits for approval (once per id). */
export function requestApproval(
  root: string,
  env: string,
  req: Omit<ApprovalRequest, "approvals" | "argv"> & { readonly argv: readonly string[] },
): Promise<ApprovalRequest> {
  return update(root, env, (requests) => {
    const known = requests.find((r) => r.changeId === req.changeId);
    if (known) return known;
    const added = { ...req, argv: [...req.argv] };
    requests.push(added);
    return added;
  });
}

async function update<T>(root: string, env: string, fn: (requests: ApprovalRequest[]) => T): Promise<T> {
  const file = approvalsFileOf(root, env);
  // The lock needs the file: created empty once (`wx`: never over another's).
  try {
    closeSync(openSync(file, "wx", 0o644));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return withFileLock(
    file,
    `${env} approvals`,
    10,
    async () => {
      const requests = readApprovals(root, env);
      const out = fn(requests);
      writeFileAtomic(file, `${JSON.stringify({ environment: env, requests: requests.slice(-KEPT) }, null, 2)}\n`);
      return out;
    },
    "envctl approve",
  );
}
