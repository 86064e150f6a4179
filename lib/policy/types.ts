/**
 * Policy rules in the cdk-nag shape: one rule per file, each a pure function of one resource
 * (seen through its synthesized Terraform JSON) returning the reason it fails, or nothing.
 */

export interface ResourceView {
  /** Stack the resource is in. */
  readonly stack: string;
  /** Terraform type, e.g. `aws_db_instance`. */
  readonly type: string;
  /** Terraform address `<type>.<logical id>`. */
  readonly address: string;
  /** Construct path, e.g. `dev/database/postgres`: what the user recognises. */
  readonly path: string;
  /** Synthesized arguments (snake_case, references as `${...}`). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Provider default tags merged with the resource's own tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Types of the resources in the same stack that reference this one. */
  readonly referencedBy: readonly string[];
}

export interface PolicyRule {
  /** Stable identifier, e.g. `rds-storage-encrypted`. */
  readonly id: string;
  readonly description: string;
  /** Resource types the rule inspects. */
  readonly appliesTo: readonly string[];
  /** Why the resource breaks the rule, or undefined when it complies. */
  check(resource: ResourceView): string | undefined;
}

export interface Finding {
  readonly stack: string;
  readonly address: string;
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

/** `true`, `"true"` or absent-with-default-true: Terraform booleans arrive as either. */
export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}
