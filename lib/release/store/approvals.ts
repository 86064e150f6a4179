/**
 * A change waiting for approval, as its author's envctl records it next to the approvals
 * (lib/aws/approval-ledger.ts): which command makes it (so an approver's envctl can make it again
 * and show what it does), who asked, and from which commit. It is a pointer, trusted for nothing:
 * an approval is never read from it, and what a change does is always recomputed from the
 * repository, never taken from its `summary`. Read back through {@link parseRequest}: anything
 * malformed is no request.
 */
import { z } from "zod";

export const ChangeRequestSchema = z.strictObject({
  changeId: z.string().regex(/^[0-9a-f]{16}$/),
  /** What the author's envctl said the change does (shown nowhere an approver decides). */
  summary: z.string().max(4096),
  /** The author, as STS named them. */
  author: z.string().max(2048),
  at: z.string().max(64),
  /** envctl's arguments that make the change (what `envctl approve` runs again to show it). */
  argv: z.array(z.string().max(1024)).max(40),
  /** The commit the author's checkout was at (git HEAD), when it is a git checkout. */
  commit: z
    .string()
    .regex(/^[0-9a-f]{40,64}$/)
    .optional(),
});
export type ChangeRequest = z.infer<typeof ChangeRequestSchema>;

/** The request in `text`, or undefined when it is not one. */
export function parseRequest(text: string): ChangeRequest | undefined {
  try {
    const r = ChangeRequestSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
