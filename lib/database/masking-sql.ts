/**
 * The SQL of a masking plan (./masking.ts), run in the copy in one transaction: remember a digest of
 * every original value of each masked column, mask, refresh the materialized views from the masked
 * tables, then query every relation of the copy:
 * - each masked column of each table and of each partition: values whose digest is still one of the
 *   originals (must be 0; a `null` column: values left at all);
 * - each text column of each view and materialized view: values equal to an original of a masked text
 *   column (must be 0: a view reading the masked tables shows masked values; a materialized view that
 *   was not refreshed would still show the originals);
 * - every relation: its row count (a relation that cannot be read fails the copy).
 */
import type { RelationInfo } from "./catalog.ts";
import { displayName, isTextType, type MaskedColumn, type MaskPlan, type MaskRule } from "./masking.ts";
import { ident, literal } from "./psql.ts";

/** The check table that holds a digest of every original value of the masked columns (inside the copy only, dropped at commit). */
export const CHECK_TABLE = "_envstack_mask_check";

const rel = (r: Pick<RelationInfo, "schema" | "name">) => `${ident(r.schema)}.${ident(r.name)}`;
/** A regular table is read and written alone (ONLY: an inheritance child has rules of its own); a partitioned one through its partitions. */
const target = (r: RelationInfo) => (r.kind === "p" ? rel(r) : `ONLY ${rel(r)}`);
const digestOf = (expr: string) => `encode(sha256(convert_to(${expr}::text, 'UTF8')), 'hex')`;

/** The SQL expression a rule replaces a value with; `salt` differs per copy. */
function maskExpression(rule: Exclude<MaskRule, "keep">, column: string, salt: string): string {
  const digest = `encode(sha256(convert_to(${literal(salt)} || ${ident(column)}::text, 'UTF8')), 'hex')`;
  if (rule === "hash") return `CASE WHEN ${ident(column)} IS NULL THEN NULL ELSE ${digest} END`;
  if (rule === "fake-email")
    return `CASE WHEN ${ident(column)} IS NULL THEN NULL ELSE 'user-' || substr(${digest}, 1, 12) || '@example.invalid' END`;
  return "NULL";
}

/** `<table>.<column>` as the verification reports it (`users.email`, `hr.salaries.iban`). */
const label = (r: RelationInfo, column: string) => `${displayName(r.schema, r.name)}.${column}`;

/** Values of `column` in `from` whose digest is an original of masked column `m` (a `null` rule: any value left). */
function leftOf(m: MaskedColumn, from: string, column: string): string {
  const originals = `SELECT digest FROM ${CHECK_TABLE} WHERE rel = ${literal(m.relation.oid.toString())} AND col = ${literal(m.column)}`;
  const original = `${digestOf(`t.${ident(column)}`)} IN (${originals})`;
  return `(SELECT count(*) FROM ${from} t WHERE t.${ident(column)} IS NOT NULL AND (${m.rule === "null" ? "true" : original}))`;
}

/**
 * The transaction. Its last query returns `{"left": {"<relation>.<column>": n}, "rows": {"<relation>": n}}` as JSON:
 * every `left` must be 0.
 */
export function maskingSql(plan: MaskPlan, salt: string): string {
  const statements: string[] = [
    "BEGIN",
    `CREATE TEMPORARY TABLE ${CHECK_TABLE} (rel text NOT NULL, col text NOT NULL, text_type boolean NOT NULL, digest text NOT NULL) ON COMMIT DROP`,
  ];
  for (const m of plan.masked) {
    statements.push(
      [
        `INSERT INTO ${CHECK_TABLE} SELECT ${literal(m.relation.oid.toString())}, ${literal(m.column)}, ${isTextType(m.type)}, `,
        `${digestOf(ident(m.column))} FROM ${target(m.relation)} WHERE ${ident(m.column)} IS NOT NULL`,
      ].join(""),
    );
  }
  const byTable = new Map<number, MaskedColumn[]>();
  for (const m of plan.masked) byTable.set(m.relation.oid, [...(byTable.get(m.relation.oid) ?? []), m]);
  for (const cols of byTable.values()) {
    const r = cols[0]!.relation;
    statements.push(`ALTER TABLE ${rel(r)} DISABLE TRIGGER USER`);
    statements.push(
      `UPDATE ${target(r)} SET ${cols.map((c) => `${ident(c.column)} = ${maskExpression(c.rule, c.column, salt)}`).join(", ")}`,
    );
    statements.push(`ALTER TABLE ${rel(r)} ENABLE TRIGGER USER`);
  }
  for (const m of plan.refresh) statements.push(`REFRESH MATERIALIZED VIEW ${rel(m)}`);

  const left: string[] = [];
  // The masked tables' own columns, and each partition's (read alone).
  for (const m of plan.masked) {
    left.push(`(${literal(label(m.relation, m.column))}, ${leftOf(m, target(m.relation), m.column)})`);
    for (const p of plan.relations.filter((x) => x.partitionOf === `${m.relation.schema}.${m.relation.name}`)) {
      left.push(`(${literal(label(p, m.column))}, ${leftOf(m, `ONLY ${rel(p)}`, m.column)})`);
    }
  }
  // Every text column of every view and materialized view, against the originals of every masked text column.
  if (plan.masked.some((m) => isTextType(m.type))) {
    for (const v of plan.relations.filter((x) => x.kind === "v" || x.kind === "m")) {
      for (const c of v.columns.filter((x) => isTextType(x.type))) {
        left.push(
          [
            `(${literal(label(v, c.name))}, (SELECT count(*) FROM ${rel(v)} t WHERE t.${ident(c.name)} IS NOT NULL AND `,
            `${digestOf(`t.${ident(c.name)}`)} IN (SELECT digest FROM ${CHECK_TABLE} WHERE text_type)))`,
          ].join(""),
        );
      }
    }
  }
  const rows = plan.relations
    .filter((r) => r.kind !== "f")
    .map(
      (r) =>
        `(${literal(displayName(r.schema, r.name))}, (SELECT count(*) FROM ${r.kind === "r" ? `ONLY ${rel(r)}` : rel(r)}))`,
    );
  const agg = (values: string[]) =>
    values.length > 0 ? `(SELECT json_object_agg(k, n) FROM (VALUES ${values.join(", ")}) v(k, n))` : "'{}'::json";
  statements.push(`SELECT json_build_object('left', ${agg(left)}, 'rows', ${agg(rows)})`);
  statements.push("COMMIT");
  return `${statements.join(";\n")};`;
}
