/**
 * Terraform evaluates `${...}` (interpolation) and `%{...}` (directives) in every string of the
 * synthesized JSON, so a tag value `${file("/etc/passwd")}` would read the runner's files at plan
 * time. Data must never carry them: ONE generic check walks every string and every object key of
 * the parsed data (not field by field, so a field added later is covered too). Pure functions.
 */

/** The start of a Terraform template sequence. `$${` / `%%{` (escapes) contain it too: refused as well. */
export const TEMPLATE_SEQUENCE = /[$%]\{/;

export const TEMPLATE_RULE =
  'must not contain a Terraform template sequence ("${" or "%{"): the engine would evaluate it';

export interface TemplateFinding {
  /** Path to the string (for a key: to the object holding it, then the key). */
  readonly path: readonly PropertyKey[];
  /** True when the sequence is in an object key rather than in a value. */
  readonly inKey: boolean;
}

/** Every string value and key of `value` (recursively) holding a template sequence. */
export function findTemplateSequences(value: unknown): TemplateFinding[] {
  const found: TemplateFinding[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown, path: PropertyKey[]): void => {
    if (typeof v === "string") {
      if (TEMPLATE_SEQUENCE.test(v)) found.push({ path, inKey: false });
      return;
    }
    if (typeof v !== "object" || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        walk(item, [...path, i]);
      });
      return;
    }
    for (const [k, item] of Object.entries(v)) {
      if (TEMPLATE_SEQUENCE.test(k)) found.push({ path: [...path, k], inKey: true });
      walk(item, [...path, k]);
    }
  };
  walk(value, []);
  return found;
}
