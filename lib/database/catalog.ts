/**
 * Every relation of a database, from PostgreSQL's own catalogs (never information_schema, which
 * leaves out materialized views): `pg_class` (relkind r table, p partitioned table, v view,
 * m materialized view, f foreign table), `pg_attribute` (columns: attnum > 0 and not attisdropped),
 * `pg_namespace` (every schema but pg_catalog, information_schema and the other pg_* schemas:
 * pg_toast, the temporary ones; no user schema may start with pg_). Masking plans from this list.
 */
import { z } from "zod";

export interface ColumnInfo {
  readonly name: string;
  /** `format_type` without modifiers: `text`, `character varying`, `bigint`, `text[]`, ... */
  readonly type: string;
  readonly nullable: boolean;
  /** A generated column (computed from others, never written). */
  readonly generated: boolean;
}

export interface RelationInfo {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  readonly kind: "r" | "p" | "v" | "m" | "f";
  /** The root partitioned table (`schema.name`) this one is a partition of: masked through it. */
  readonly partitionOf?: string;
  readonly columns: readonly ColumnInfo[];
}

export interface Catalog {
  readonly relations: readonly RelationInfo[];
  /** Rows of pg_largeobject_metadata: data outside any table. */
  readonly largeObjects: number;
}

/** One query, one JSON value: the relations with their columns, and the count of large objects. */
export const CATALOG_SQL = `
with recursive rels as (
  select c.oid, n.nspname as schema, c.relname as name, c.relkind::text as kind, c.relispartition
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
), roots as (
  select r.oid as child, i.inhparent as parent from rels r join pg_inherits i on i.inhrelid = r.oid where r.relispartition
  union
  select roots.child, i.inhparent from roots join pg_class p on p.oid = roots.parent and p.relispartition join pg_inherits i on i.inhrelid = p.oid
)
select json_build_object(
  'relations', coalesce((select json_agg(json_build_object(
    'oid', r.oid::bigint, 'schema', r.schema, 'name', r.name, 'kind', r.kind,
    'partitionOf', (select pn.nspname || '.' || pc.relname from roots x join pg_class pc on pc.oid = x.parent join pg_namespace pn on pn.oid = pc.relnamespace
                    where x.child = r.oid and not pc.relispartition),
    'columns', coalesce((select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, null),
                                                           'nullable', not a.attnotnull, 'generated', a.attgenerated <> '')
                                         order by a.attnum)
                         from pg_attribute a where a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped), '[]'::json)
  ) order by r.schema, r.name) from rels r), '[]'::json),
  'largeObjects', (select count(*) from pg_largeobject_metadata)
)`;

const CatalogSchema = z.object({
  relations: z.array(
    z.object({
      oid: z.number().int(),
      schema: z.string().min(1),
      name: z.string().min(1),
      kind: z.enum(["r", "p", "v", "m", "f"]),
      partitionOf: z.string().nullable().optional(),
      columns: z.array(
        z.object({ name: z.string().min(1), type: z.string().min(1), nullable: z.boolean(), generated: z.boolean() }),
      ),
    }),
  ),
  largeObjects: z.number().int().min(0),
});

/** The catalog query's answer, checked (a database that answers something else fails the copy, closed). */
export function parseCatalog(json: unknown): Catalog {
  const c = CatalogSchema.parse(json);
  return {
    largeObjects: c.largeObjects,
    relations: c.relations.map(({ partitionOf, ...r }) => ({ ...r, ...(partitionOf ? { partitionOf } : {}) })),
  };
}
