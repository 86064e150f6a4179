/**
 * Masked data copies that cannot miss a column, against a real PostgreSQL 15 (test/support/postgres.ts)
 * through envctl's own main(): every relation of every schema comes from the catalogs (other schemas,
 * partitioned tables, views, materialized views), columns named like Object.prototype's properties
 * are columns like any other, a `maskedFrom` only the file claims removes no spec requirement, and
 * data leaves production only with production's approvals. Each refusal is checked to leave nothing:
 * no new database, the target's release file and history untouched.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMaskSpec } from "../lib/cli/commands/data.ts";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { FakeClock } from "./support/fakes.ts";
import { type Postgres, startPostgres } from "./support/postgres.ts";
import { tempProject } from "./support/project.ts";

const SOURCE = "staging-postgres";
const IBANS = ["DE89370400440532013000", "FR1420041010050500013M02606", "GB29NWBK60161331926819"];

/** A source with people in three schemas' worth of places: a table, another schema, a partitioned table, a view, a materialized view. */
const SEED = `
create table users (id bigserial primary key, email text not null, name text, "constructor" text, "__proto__" text, age integer);
insert into users(email, name, "constructor", "__proto__", age) select 'person' || i || '@corp.example.com', 'Person ' || i, 'ctor-secret-' || i, 'proto-secret-' || i, 20 + i from generate_series(1, 50) i;
create schema hr;
create table hr.salaries (id bigserial primary key, employee text not null, iban text not null, amount numeric);
insert into hr.salaries(employee, iban, amount) values ${IBANS.map((iban, i) => `('Person ${i + 1}', '${iban}', ${50_000 + i})`).join(", ")};
create view hr.payroll as select employee, iban from hr.salaries;
create materialized view user_emails as select id, email from users;
create table events (id bigint not null, at date not null, detail text) partition by range (at);
create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01');
insert into events values (1, '2026-03-01', 'person1@corp.example.com logged in'), (2, '2026-04-01', 'person2@corp.example.com logged in');
`;

/** Written as JSON: in an object literal `__proto__: ...` would set the prototype, not a key. */
const USERS: Record<string, string> = JSON.parse(
  '{"id":"keep","email":"fake-email","name":"hash","constructor":"hash","__proto__":"hash","age":"keep"}',
);
const COMPLETE = {
  users: USERS,
  "hr.salaries": { id: "keep", employee: "hash", iban: "hash", amount: "null" },
  events: { id: "keep", at: "keep", detail: "hash" },
};

describe("masked data copies from the catalogs (real PostgreSQL)", () => {
  let pg: Postgres;
  let dir: string;
  const lines: string[] = [];
  const clock = new FakeClock();
  let deps: Deps;

  beforeAll(async () => {
    pg = await startPostgres();
    pg.sql("postgres", `create database "${SOURCE}"`);
    pg.sql(SOURCE, SEED);
    pg.sql("postgres", `create database "production-postgres"`);
    pg.sql(
      "production-postgres",
      "create table users (id bigserial primary key, email text not null); insert into users(email) values ('ceo@corp.example.com')",
    );
    dir = tempProject();
    deps = {
      cwd: dir,
      // A workstation: approvals are those recorded with 'envctl approve' (none here).
      env: {
        ...process.env,
        CI: "",
        GITHUB_ACTIONS: "",
        ENVSTACK_TARGET: "local",
        ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:9",
        ENVSTACK_LOCAL_POSTGRES: pg.url,
        USER: "dana",
      },
      identity: async (o) => ({
        account: o.account!.id,
        arn: `arn:aws:sts::${o.account!.id}:assumed-role/envstack-deploy/dana`,
      }),
      progress: new PlainProgress((l) => lines.push(l), clock.now),
      stdout: (t) => lines.push(t),
      stderr: (t) => lines.push(t),
      clock,
    };
  }, 120_000);
  afterAll(() => pg?.stop());

  const run = async (...args: string[]) => {
    lines.length = 0;
    clock.t += 60_000; // a new copy name per run (one per minute)
    return main(["node", "envctl", ...args], deps);
  };
  const text = () => lines.join("\n");
  const spec = (tables: object) => {
    const f = join(dir, `mask-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, JSON.stringify({ tables }));
    return f;
  };
  const releaseText = (env: string) => readFileSync(join(dir, "environments/releases", `${env}.json`), "utf8");
  const auditOf = (env: string) => join(dir, "environments/releases", `${env}.audit.jsonl`);
  const copies = () => pg.sql("postgres", "select count(*) from pg_database where datname like '%-postgres-copy-%'");

  /** A refused copy leaves nothing: no database, the target's file and history as they were. */
  async function expectRefused(args: string[], message: string | RegExp): Promise<void> {
    const before = { release: releaseText("dev"), audit: existsSync(auditOf("dev")), copies: copies() };
    expect(await run(...args)).toBe(1);
    if (typeof message === "string") expect(text()).toContain(message);
    else expect(text()).toMatch(message);
    expect(text()).not.toMatch(/\n\s+at /);
    expect({ release: releaseText("dev"), audit: existsSync(auditOf("dev")), copies: copies() }).toEqual(before);
  }

  it("a spec for public.users alone is refused: the other schema, the partitioned table and every unlisted column are named", async () => {
    await expectRefused(
      ["data", "copy", "staging", "dev", "--mask", spec({ users: COMPLETE.users }), "--yes"],
      "the masking spec does not fit the data",
    );
    expect(text()).toContain(
      "tables.hr.salaries: amount, employee, iban, id not listed: a copy into a lower tier lists every column (a rule, or keep)",
    );
    expect(text()).toContain("tables.events: at, detail, id not listed");
    // Views are derived, partitions follow their table: never asked for.
    expect(text()).not.toMatch(/tables\.(user_emails|hr\.payroll|events_2026)/);
  });

  it("unlisted columns named constructor and __proto__ are refused like any other; listed, they are masked", async () => {
    const rest = Object.fromEntries(Object.entries(USERS).filter(([c]) => c !== "constructor" && c !== "__proto__"));
    await expectRefused(
      ["data", "copy", "staging", "dev", "--mask", spec({ ...COMPLETE, users: rest }), "--yes"],
      "tables.users: __proto__, constructor not listed",
    );
    // A spec file naming them keeps them (JSON.parse and the reader keep own keys; nothing reaches Object.prototype).
    const file = join(dir, "proto.json");
    writeFileSync(file, '{"tables":{"users":{"__proto__":"hash","constructor":"keep"}}}');
    const read = readMaskSpec(file);
    expect([...read.tables.get("public.users")!]).toEqual([
      ["__proto__", "hash"],
      ["constructor", "keep"],
    ]);
    expect(({} as Record<string, unknown>).hash).toBeUndefined();
  });

  it("a spec naming a view, a materialized view or a partition is refused: they are derived from the tables", async () => {
    await expectRefused(
      [
        "data",
        "copy",
        "staging",
        "dev",
        "--mask",
        spec({ ...COMPLETE, user_emails: { email: "fake-email" }, events_2026: { detail: "hash" } }),
        "--yes",
      ],
      "tables.user_emails: is a materialized view, not a table",
    );
    expect(text()).toContain("tables.events_2026: is a partition of public.events: list the partitioned table");
  });

  it("a complete spec masks every schema; the materialized view is refreshed from the masked table; every relation is verified by query", async () => {
    const code = await run("data", "copy", "staging", "dev", "--mask", spec(COMPLETE), "--yes", "--json");
    expect(code, text()).toBe(0);
    const out = JSON.parse(text().slice(text().indexOf("{")));
    const copy: string = out.copy;
    expect(out.verified).toMatchObject({
      "users.email": 0,
      "users.__proto__": 0,
      "users.constructor": 0,
      "hr.salaries.iban": 0,
      "hr.salaries.amount": 0,
      "events.detail": 0,
      "events_2026.detail": 0,
      "user_emails.email": 0,
      "hr.payroll.iban": 0,
      "hr.payroll.employee": 0,
    });
    // Independently of envctl: no source value anywhere in the copy, whichever relation is read.
    const values = (db: string, sql: string) => new Set(pg.sql(db, sql).split("\n").filter(Boolean));
    const sourceEmails = values(SOURCE, "select email from users");
    for (const [sql, source] of [
      ["select email from user_emails", sourceEmails],
      ["select email from users", sourceEmails],
      ["select iban from hr.payroll", new Set(IBANS)],
      ["select iban from hr.salaries", new Set(IBANS)],
      ['select "__proto__" from users', values(SOURCE, 'select "__proto__" from users')],
      ['select "constructor" from users', values(SOURCE, 'select "constructor" from users')],
      ["select detail from events_2026", values(SOURCE, "select detail from events")],
    ] as const) {
      const masked = values(copy, sql);
      expect(masked.size, sql).toBeGreaterThan(0);
      expect(
        [...masked].filter((v) => source.has(v)),
        sql,
      ).toEqual([]);
    }
    expect(pg.sql(copy, "select count(amount) from hr.salaries")).toBe("0");
    // The materialized view shows the masked table, row for row.
    expect(pg.sql(copy, "select count(*) from user_emails u join users s using (id) where u.email = s.email")).toBe(
      "50",
    );
    expect(pg.sql(copy, "select sum(age) from users")).toBe(pg.sql(SOURCE, "select sum(age) from users"));
    const record = readFileSync(auditOf("dev"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .at(-1);
    expect(record).toMatchObject({ outcome: "data-copied", to: { instance: copy, maskedFrom: "staging" } });
    expect(record.note).toMatch(
      /refreshed 1 materialized view\(s\); verified by query: 0 source values left in 8 masked column\(s\), \d+ column\(s\) checked across 6 relation\(s\)/,
    );
    expect(await run("data", "confirm", "dev", "--yes")).toBe(0);
  });

  it("a maskedFrom written into the source's release file is not believed: the history decides", async () => {
    const file = join(dir, "environments/releases/staging.json");
    const original = readFileSync(file, "utf8");
    const r = JSON.parse(original);
    r.database = { schema: null, dirty: false, readAt: "2026-11-22T10:00:00.000Z", maskedFrom: "production" };
    writeFileSync(file, JSON.stringify(r, null, 2));
    try {
      await expectRefused(
        ["data", "copy", "staging", "dev", "--yes"],
        "data copy: environments/releases/staging.json names a data copy (database -, masked from production), but its history (environments/releases/staging.audit.jsonl) records no change: the file was changed outside envctl; nothing was copied.",
      );
    } finally {
      writeFileSync(file, original);
    }
    // Without the hand edit: staging holds unmasked data, so a copy into dev needs a spec.
    await expectRefused(
      ["data", "copy", "staging", "dev", "--yes"],
      "staging (staging) data never reaches dev (development) unmasked: refused",
    );
  });

  it("an all-keep spec copies nothing out of production without production's approvals: refused before anything is restored", async () => {
    const before = releaseText("staging");
    const copiesBefore = copies();
    expect(
      await run(
        "data",
        "copy",
        "production",
        "staging",
        "--mask",
        spec({ users: { id: "keep", email: "keep" } }),
        "--yes",
      ),
    ).toBe(1);
    // Refused for want of production's approvals: the workstation's author is a role session, which names no person.
    expect(text()).toMatch(/^error: production: .*(approval|Approve as an IAM Identity Center user)/m);
    expect(text()).not.toMatch(/\n\s+at /);
    expect(releaseText("staging")).toBe(before);
    expect(copies()).toBe(copiesBefore);
    expect(pg.sql("postgres", "select count(*) from pg_database where datname like 'staging-postgres-copy-%'")).toBe(
      "0",
    );
  });
});
