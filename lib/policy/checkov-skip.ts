/**
 * checkov exceptions, written at the resource they concern.
 *
 * `skipCheck(resource, "CKV_AWS_18", "why")` puts the exception into the resource's own cdktf
 * comment block, in the shape checkov's Terraform JSON fixtures use for cdktf output (and
 * CloudFormation uses in `Metadata`):
 *
 * ```json
 * "aws_s3_bucket": { "logs": { "//": { "checkov": { "skip": [{ "id": "CKV_AWS_18", "comment": "why" }] }, "metadata": {…} }, … } }
 * ```
 *
 * checkov 3.3's `terraform_json` runner parses that block but does not apply it (it passes no
 * skips to its checks; bridgecrewio/checkov#4634): {@link applyResourceSkips} in
 * lib/policy/checkov.ts does, turning a failed result at a resource carrying the matching skip
 * into a skipped one with the comment as its reason, and reporting skips that no longer match a
 * failure (stale exceptions).
 */
import type { TerraformResource } from "cdktf";

/** One exception: the check and the one-line reason it does not apply to this resource. */
export interface CheckovSkip {
  readonly id: string;
  readonly comment: string;
}

/** checkov check ids: CKV_AWS_18, CKV2_AWS_62, CKV_K8S_43, ... */
const CHECK_ID = /^CKV2?_[A-Z0-9]+_\d+$/;

const skipsOf = new WeakMap<TerraformResource, CheckovSkip[]>();

/**
 * Records that checkov check `id` does not fit `resource`, with a one-line reason. Call it where
 * the resource is defined, next to the decision it justifies.
 */
export function skipCheck(resource: TerraformResource, id: string, reason: string): void {
  if (!CHECK_ID.test(id)) throw new Error(`skipCheck: ${id} is not a checkov check id (CKV_AWS_18, CKV2_AWS_62, ...)`);
  const comment = reason.trim();
  if (comment === "" || /[\r\n]/.test(comment))
    throw new Error(`skipCheck ${id}: the reason must be one non-empty line`);
  const list = skipsOf.get(resource) ?? [];
  if (list.some((s) => s.id === id)) throw new Error(`skipCheck: ${id} is already skipped at ${resource.node.path}`);
  list.push({ id, comment });
  skipsOf.set(resource, list);
  resource.addOverride(
    "//.checkov.skip",
    list.map((s) => ({ ...s })),
  );
}

/** The exceptions recorded at a resource (for tests and reports). */
export function checkSkips(resource: TerraformResource): readonly CheckovSkip[] {
  return skipsOf.get(resource) ?? [];
}

/** The exceptions in a synthesized resource's JSON configuration. */
export function skipsInConfig(config: Readonly<Record<string, unknown>>): CheckovSkip[] {
  const comment = config["//"] as { checkov?: { skip?: unknown } } | undefined;
  const skip = comment?.checkov?.skip;
  if (!Array.isArray(skip)) return [];
  return skip.filter(
    (s): s is CheckovSkip =>
      typeof s === "object" && s !== null && typeof s.id === "string" && typeof s.comment === "string",
  );
}
