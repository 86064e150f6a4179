/**
 * The masking spec of `envctl data copy <from> <to> --mask <spec.json>` (issue 22): typed data,
 * validated with zod, turned into SQL run inside the copy (never the source), then verified by
 * query: no masked column may still hold a value the source held.
 *
 * ```json
 * { "tables": { "users": { "id": "keep", "name": "hash", "email": "fake-email", "phone": "null" } } }
 * ```
 *
 * Rules: `hash` (hex SHA-256 of the value, salted per copy: equal values stay equal, so joins and
 * unique keys keep working), `fake-email` (`user-<12 hex of that hash>@example.invalid`), `null`
 * (the column must allow NULL), `keep` (copied as it is: a person decided it holds nothing personal).
 * From a higher tier into a lower one (production → staging, previews), every column of every table
 * must be listed: a column nobody looked at is refused, not copied.
 */
import { z } from "zod";
import { ident, literal } from "./psql.ts";

export const MASK_RULES = ["hash", "fake-email", "null", "keep"] as const;
export type MaskRule = (typeof MASK_RULES)[number];

const Identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/);

/** A record whose keys must be lower-case SQL identifiers (each bad key reported at its own path, with every other problem). */
function identifierRecord<T extends z.ZodType>(value: T) {
  return z.record(Identifier, value, {
    error: (iss) =>
      iss.code === "invalid_key"
        ? "must be a lower-case SQL identifier (a-z, 0-9, _; the name as PostgreSQL stores it)"
        : undefined,
  });
}

export const MaskSpecSchema = z.strictObject({
  /** Table → column → rule. Tables of the `public` schema. */
  tables: identifierRecord(
    identifierRecord(z.enum(MASK_RULES, { error: `must be one of ${MASK_RULES.join(", ")}` })).refine(
      (c) => Object.keys(c).length > 0,
      "must list at least one column",
    ),
  ),
});
export type MaskSpec = z.infer<typeof MaskSpecSchema>;

/** A column of the copy as information_schema describes it. */
export interface ColumnInfo {
  readonly table: string;
  readonly column: string;
  /** `text`, `character varying`, `integer`, ... */
  readonly type: string;
  readonly nullable: boolean;
}

/** The tables envctl itself owns in an app database (golang-migrate's version table). */
export const TOOL_TABLES = new Set(["schema_migrations"]);

const TEXT_TYPES = new Set(["text", "character varying", "character", "citext"]);

export interface MaskPlan {
  /** Columns masked (every rule but keep). */
  readonly masked: readonly { table: string; column: string; rule: Exclude<MaskRule, "keep"> }[];
  readonly kept: readonly { table: string; column: string }[];
}

/**
 * Checks the spec against the copy's columns; all problems at once. `complete`: every column of
 * every table must be listed (a copy into a lower tier).
 */
export function planMasking(
  spec: MaskSpec,
  columns: readonly ColumnInfo[],
  complete: boolean,
): { plan?: MaskPlan; problems: string[] } {
  const problems: string[] = [];
  const byTable = new Map<string, Map<string, ColumnInfo>>();
  for (const c of columns) {
    if (TOOL_TABLES.has(c.table)) continue;
    if (!byTable.has(c.table)) byTable.set(c.table, new Map());
    byTable.get(c.table)!.set(c.column, c);
  }
  const masked: { table: string; column: string; rule: Exclude<MaskRule, "keep"> }[] = [];
  const kept: { table: string; column: string }[] = [];
  for (const [table, cols] of Object.entries(spec.tables)) {
    const have = byTable.get(table);
    if (!have) {
      problems.push(
        `tables.${table}: no such table in the copy (tables: ${[...byTable.keys()].sort().join(", ") || "none"})`,
      );
      continue;
    }
    for (const [column, rule] of Object.entries(cols)) {
      const c = have.get(column);
      if (!c) {
        problems.push(`tables.${table}.${column}: no such column (columns: ${[...have.keys()].sort().join(", ")})`);
        continue;
      }
      if ((rule === "hash" || rule === "fake-email") && !TEXT_TYPES.has(c.type))
        problems.push(
          `tables.${table}.${column}: ${rule} needs a text column, this one is ${c.type} (use null or keep)`,
        );
      else if (rule === "null" && !c.nullable)
        problems.push(
          `tables.${table}.${column}: null needs a column that allows NULL, this one is NOT NULL (use hash or fake-email)`,
        );
      else if (rule === "keep") kept.push({ table, column });
      else masked.push({ table, column, rule });
    }
  }
  if (complete) {
    for (const [table, cols] of byTable) {
      const listed = spec.tables[table] ?? {};
      const missing = [...cols.keys()].filter((c) => !(c in listed)).sort();
      if (missing.length > 0)
        problems.push(
          `tables.${table}: ${missing.map((m) => `${m}`).join(", ")} not listed: a copy into a lower tier lists every column (a rule, or keep)`,
        );
    }
  }
  return problems.length > 0 ? { problems } : { plan: { masked, kept }, problems };
}

/** The SQL expression a rule replaces a value with; `salt` differs per copy. */
function maskExpression(rule: Exclude<MaskRule, "keep">, column: string, salt: string): string {
  const digest = `encode(sha256(convert_to(${literal(salt)} || ${ident(column)}::text, 'UTF8')), 'hex')`;
  if (rule === "hash") return `CASE WHEN ${ident(column)} IS NULL THEN NULL ELSE ${digest} END`;
  if (rule === "fake-email")
    return `CASE WHEN ${ident(column)} IS NULL THEN NULL ELSE 'user-' || substr(${digest}, 1, 12) || '@example.invalid' END`;
  return "NULL";
}

/** The check table that holds a digest of every original value of the masked columns (inside the copy only, dropped after the check). */
export const CHECK_TABLE = "_envstack_mask_check";

/**
 * One transaction run in the copy: remember a digest of every original value of each masked column,
 * mask, and count masked values whose digest is still one of the originals (must be 0) and null-rule
 * columns still holding a value. Returns `{"<table>.<column>": <values still original>}` as JSON.
 */
export function maskingSql(plan: MaskPlan, salt: string): string {
  const digestOf = (expr: string) => `encode(sha256(convert_to(${expr}::text, 'UTF8')), 'hex')`;
  const statements: string[] = [
    "BEGIN",
    `CREATE TEMPORARY TABLE ${CHECK_TABLE} (tbl text NOT NULL, col text NOT NULL, digest text NOT NULL) ON COMMIT DROP`,
  ];
  for (const m of plan.masked) {
    statements.push(
      `INSERT INTO ${CHECK_TABLE} SELECT ${literal(m.table)}, ${literal(m.column)}, ${digestOf(ident(m.column))} FROM ${ident(m.table)} WHERE ${ident(m.column)} IS NOT NULL`,
    );
  }
  const byTable = new Map<string, { column: string; rule: Exclude<MaskRule, "keep"> }[]>();
  for (const m of plan.masked) byTable.set(m.table, [...(byTable.get(m.table) ?? []), m]);
  for (const [table, cols] of byTable) {
    statements.push(`ALTER TABLE ${ident(table)} DISABLE TRIGGER USER`);
    statements.push(
      `UPDATE ${ident(table)} SET ${cols.map((c) => `${ident(c.column)} = ${maskExpression(c.rule, c.column, salt)}`).join(", ")}`,
    );
    statements.push(`ALTER TABLE ${ident(table)} ENABLE TRIGGER USER`);
  }
  const counts = plan.masked.map(
    (m) =>
      `(${literal(`${m.table}.${m.column}`)}, (SELECT count(*) FROM ${ident(m.table)} t WHERE t.${ident(m.column)} IS NOT NULL AND (${m.rule === "null" ? "true" : `${digestOf(`t.${ident(m.column)}`)} IN (SELECT digest FROM ${CHECK_TABLE} WHERE tbl = ${literal(m.table)} AND col = ${literal(m.column)})`})))`,
  );
  statements.push(
    counts.length > 0 ? `SELECT json_object_agg(k, n) FROM (VALUES ${counts.join(", ")}) v(k, n)` : "SELECT '{}'::json",
  );
  statements.push("COMMIT");
  return `${statements.join(";\n")};`;
}
