/**
 * The masking spec of `envctl data copy <from> <to> --mask <spec.json>`: typed data, validated with
 * zod, checked against every relation of the copy as the catalogs list them (./catalog.ts), turned
 * into SQL run inside the copy, never the source (./masking-sql.ts), then verified by query.
 *
 * ```json
 * { "tables": { "users": { "id": "keep", "email": "fake-email" }, "hr.salaries": { "iban": "hash", "amount": "null" } } }
 * ```
 *
 * A table is named as PostgreSQL stores it, `<schema>.<table>` (`public.` may be left out). Rules:
 * `hash` (hex SHA-256 of the value, salted per copy: equal values stay equal, so joins and unique
 * keys keep working), `fake-email` (`user-<12 hex of that hash>@example.invalid`), `null` (the column
 * must allow NULL), `keep` (copied as it is: a person decided it holds nothing personal).
 * From a higher tier into a lower one every column of every table of every schema must be listed: a
 * column nobody looked at is refused, not copied. Views and materialized views are never listed:
 * they are derived from the masked tables (materialized views are refreshed after the masking).
 * Names are kept in Maps, never as keys of plain objects (`constructor`, `__proto__` are column names too).
 */
import { z } from "zod";
import type { Catalog, RelationInfo } from "./catalog.ts";

export const MASK_RULES = ["hash", "fake-email", "null", "keep"] as const;
export type MaskRule = (typeof MASK_RULES)[number];

const IDENTIFIER = /^[a-z_][a-z0-9_$]{0,62}$/;
const TABLE = /^(?:[a-z_][a-z0-9_$]{0,62}\.)?[a-z_][a-z0-9_$]{0,62}$/;
const IDENTIFIER_RULE = "must be a lower-case SQL identifier (a-z, 0-9, _; the name as PostgreSQL stores it)";

/** The spec as the program uses it: qualified table (`schema.table`) → column → rule. */
export interface MaskSpec {
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, MaskRule>>;
}

const qualify = (table: string) => (table.includes(".") ? table : `public.${table}`);
/** How a table is shown: `users` for public.users, `hr.salaries` otherwise. */
export const displayName = (schema: string, name: string) => (schema === "public" ? name : `${schema}.${name}`);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every problem of a spec at once, each at its path, read with Object.entries (own keys only, `__proto__` included). */
function checkSpec(tables: unknown, issue: (path: string[], message: string) => void): void {
  if (!isRecord(tables)) {
    issue(["tables"], "must be an object: table → column → rule");
    return;
  }
  const seen = new Map<string, string>();
  for (const [table, columns] of Object.entries(tables)) {
    if (!TABLE.test(table)) issue(["tables", table], `${IDENTIFIER_RULE}, optionally schema-qualified (hr.salaries)`);
    const earlier = seen.get(qualify(table));
    if (earlier !== undefined) issue(["tables", table], `names the table ${earlier} names already`);
    seen.set(qualify(table), table);
    if (!isRecord(columns)) {
      issue(["tables", table], "must be an object: column → rule");
      continue;
    }
    const entries = Object.entries(columns);
    if (entries.length === 0) issue(["tables", table], "must list at least one column");
    for (const [column, rule] of entries) {
      if (!IDENTIFIER.test(column)) issue(["tables", table, column], IDENTIFIER_RULE);
      if (!(MASK_RULES as readonly unknown[]).includes(rule))
        issue(["tables", table, column], `must be one of ${MASK_RULES.join(", ")}`);
    }
  }
}

export const MaskSpecSchema = z
  .strictObject({ tables: z.unknown() })
  .superRefine((spec, ctx) =>
    checkSpec(spec.tables, (path, message) => ctx.addIssue({ code: "custom", path, message })),
  )
  .transform(
    (spec): MaskSpec => ({
      tables: new Map(
        Object.entries(spec.tables as Record<string, Record<string, MaskRule>>).map(([t, cols]) => [
          qualify(t),
          new Map(Object.entries(cols)),
        ]),
      ),
    }),
  );

/** The tables envctl itself owns in an app database (golang-migrate's version table). */
export const TOOL_TABLES = new Set(["public.schema_migrations"]);

const TEXT_TYPES = new Set(["text", "character varying", "character", "citext", "name"]);
export const isTextType = (type: string) => TEXT_TYPES.has(type);

export interface MaskedColumn {
  readonly relation: RelationInfo;
  readonly column: string;
  readonly type: string;
  readonly rule: Exclude<MaskRule, "keep">;
}

export interface MaskPlan {
  /** Columns masked (every rule but keep), of tables and partitioned tables (partitions follow their parent). */
  readonly masked: readonly MaskedColumn[];
  readonly kept: readonly { readonly table: string; readonly column: string }[];
  /** Materialized views, refreshed from the masked tables (oldest first: one may read another). */
  readonly refresh: readonly RelationInfo[];
  /** Every relation of the copy: each is queried by the verification. */
  readonly relations: readonly RelationInfo[];
}

const key = (r: Pick<RelationInfo, "schema" | "name">) => `${r.schema}.${r.name}`;
const KIND_NAMES: Record<string, string> = { v: "a view", m: "a materialized view", f: "a foreign table" };

/**
 * Checks the spec against the copy's catalog; all problems at once. `complete`: every column of every
 * table must be listed, and nothing may hold data masking cannot reach (a copy into a lower tier).
 */
export function planMasking(
  spec: MaskSpec,
  catalog: Catalog,
  complete: boolean,
): { plan?: MaskPlan; problems: string[] } {
  const problems: string[] = [];
  const byKey = new Map(catalog.relations.map((r) => [key(r), r]));
  const tables = catalog.relations.filter(
    (r) => (r.kind === "r" || r.kind === "p") && !r.partitionOf && !TOOL_TABLES.has(key(r)),
  );
  const masked: MaskedColumn[] = [];
  const kept: { table: string; column: string }[] = [];
  for (const [table, cols] of spec.tables) {
    const shown = displayName(...(table.split(".") as [string, string]));
    const r = byKey.get(table);
    if (!r || TOOL_TABLES.has(table)) {
      problems.push(
        `tables.${shown}: no such table in the copy (tables: ${
          tables
            .map((t) => displayName(t.schema, t.name))
            .sort()
            .join(", ") || "none"
        })`,
      );
      continue;
    }
    if (r.partitionOf) {
      problems.push(
        `tables.${shown}: is a partition of ${r.partitionOf}: list the partitioned table, its rules cover every partition`,
      );
      continue;
    }
    if (r.kind !== "r" && r.kind !== "p") {
      problems.push(
        [
          `tables.${shown}: is ${KIND_NAMES[r.kind] ?? `a relation of kind ${r.kind}`}, not a table: `,
          r.kind === "f"
            ? "its rows live outside the copy"
            : "it is derived from the masked tables (materialized views are refreshed from them)",
        ].join(""),
      );
      continue;
    }
    const have = new Map(r.columns.map((c) => [c.name, c]));
    for (const [column, rule] of cols) {
      const c = have.get(column);
      if (!c)
        problems.push(`tables.${shown}.${column}: no such column (columns: ${[...have.keys()].sort().join(", ")})`);
      else if (rule === "keep") kept.push({ table: shown, column });
      else if (c.generated)
        problems.push(
          `tables.${shown}.${column}: is generated from other columns: list it as keep (it is recomputed from the masked ones)`,
        );
      else if ((rule === "hash" || rule === "fake-email") && !isTextType(c.type))
        problems.push(
          `tables.${shown}.${column}: ${rule} needs a text column, this one is ${c.type} (use null or keep)`,
        );
      else if (rule === "null" && !c.nullable)
        problems.push(
          `tables.${shown}.${column}: null needs a column that allows NULL, this one is NOT NULL (use hash or fake-email)`,
        );
      else masked.push({ relation: r, column, type: c.type, rule });
    }
  }
  if (complete) {
    for (const t of tables) {
      const listed = spec.tables.get(key(t));
      const missing = t.columns
        .map((c) => c.name)
        .filter((c) => !listed?.has(c))
        .sort();
      if (missing.length > 0)
        problems.push(
          `tables.${displayName(t.schema, t.name)}: ${missing.join(", ")} not listed: a copy into a lower tier lists every column (a rule, or keep)`,
        );
    }
    for (const f of catalog.relations.filter((r) => r.kind === "f")) {
      problems.push(
        `${displayName(f.schema, f.name)}: a foreign table: its rows come from outside the copy, where no masking reaches: ` +
          "drop it before copying into a lower tier",
      );
    }
    if (catalog.largeObjects > 0)
      problems.push(
        `the copy holds ${catalog.largeObjects} large object(s) (pg_largeobject), which no spec can mask: remove them before copying into a lower tier`,
      );
  }
  const refresh = catalog.relations.filter((r) => r.kind === "m").sort((a, b) => a.oid - b.oid);
  return problems.length > 0
    ? { problems }
    : { plan: { masked, kept, refresh, relations: catalog.relations }, problems };
}
