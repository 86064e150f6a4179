/**
 * Database changes released with the code, below the end-to-end test: the schema gates
 * (pure, table- and property-tested), release-check's expand/contract rule (against git), the
 * masking spec and plan, the image contract's labels, and `envctl migrate`'s failure paths against a
 * real PostgreSQL and real golang-migrate (exit code honoured, timeout, dirty state, lock).
 */

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import type { Catalog, RelationInfo } from "../lib/database/catalog.ts";
import { imageContract } from "../lib/database/image.ts";
import { MaskSpecSchema, planMasking } from "../lib/database/masking.ts";
import { maskingSql } from "../lib/database/masking-sql.ts";
import { withFileLock } from "../lib/fsutil/file-lock.ts";
import { rollbackGate, rolloutGate, runsOn, schemaChangeProblems } from "../lib/release/gates/schema.ts";
import { migrationGate, migrationKind, stoppedServingAt } from "../lib/release/gates/schema-migration.ts";
import { parseRelease, type Release } from "../lib/release/model/release.ts";
import { githubCi } from "./support/approvals.ts";
import { FakeClock } from "./support/fakes.ts";
import { type Postgres, startPostgres } from "./support/postgres.ts";
import { REPO, tempProject } from "./support/project.ts";

/** staging: blue live (1.4.2, 1..2), green idle (1.5.0, 2..3) unless overridden. */
function rel(
  o: {
    blue?: object;
    green?: object;
    live?: "blue" | "green";
    previousLive?: "blue" | "green" | null;
    rollout?: object | null;
    database?: object;
  } = {},
): Release {
  return parseRelease({
    environment: "staging",
    live: o.live ?? "blue",
    previousLive: o.previousLive ?? null,
    slots: {
      blue: { version: "1.4.2", weight: 100, schema: { requires: 1, supportsUpTo: 2 }, ...o.blue },
      green: { version: "1.5.0", weight: 0, schema: { requires: 2, supportsUpTo: 3 }, ...o.green },
    },
    rollout: o.rollout ?? null,
    ...(o.database ? { database: { dirty: false, readAt: "2026-11-22T10:00:00.000Z", ...o.database } } : {}),
  });
}
const db = (schema: number | null, dirty = false) => ({ schema, dirty });

describe("schema gates (pure)", () => {
  it.each([
    // [database schema, ok, what the refusal says]
    [
      1,
      false,
      "green (1.5.0, schema 2..3) needs schema 2, the database is at 1: the expand has not run. Run it before traffic moves: 'envctl migrate staging --to 2'",
    ],
    [2, true, ""],
    [3, false, "blue (1.4.2, schema 1..2) serves 100 % but the database is at schema 3, outside its range"],
    [4, false, "the database is at schema 4, beyond what green (1.5.0, schema 2..3) runs on"],
  ])("a rollout of green with the database at %s: ok=%s", (v, ok, reason) => {
    const g = rolloutGate(rel(), "green", db(v));
    expect(g.ok).toBe(ok);
    if (!g.ok) expect(g.reason).toContain(reason);
  });

  it("no schema both slots run on: refused, with an intermediate release as the way forward", () => {
    const g = rolloutGate(rel({ green: { schema: { requires: 3, supportsUpTo: 4 } } }), "green", db(2));
    expect(g).toEqual({
      ok: false,
      reason: expect.stringContaining(
        "green (1.5.0, schema 3..4) needs schema 3, but blue (1.4.2, schema 1..2) runs only up to 2: no schema serves both, so no canary is possible. Release an intermediate version",
      ),
    });
  });

  it("fails closed: an unreadable database, a dirty one, or a canary without a declared range while the schema is tracked", () => {
    expect(rolloutGate(rel(), "green", undefined)).toEqual({
      ok: false,
      reason: expect.stringContaining("the database's schema version could not be read"),
    });
    expect(rolloutGate(rel(), "green", db(2, true))).toEqual({
      ok: false,
      reason: expect.stringContaining("the database is dirty at schema 2: a migration stopped midway"),
    });
    const undeclared = parseRelease({ ...rel(), slots: { ...rel().slots, green: { version: "1.5.0", weight: 0 } } });
    expect(rolloutGate(undeclared, "green", db(2))).toEqual({
      ok: false,
      reason: expect.stringContaining("declares no schema range while the database is at schema 2"),
    });
  });

  it("an app that declares no schema and a database never read: not gated", () => {
    const plain = parseRelease({
      environment: "dev",
      live: "blue",
      slots: { blue: { version: "1", weight: 100 }, green: { version: "2", weight: 0 } },
    });
    expect(rolloutGate(plain, "green", undefined)).toEqual({ ok: true });
    expect(rollbackGate(plain, "blue", undefined)).toEqual({ ok: true });
  });

  it("property: a rollout passes exactly when the schema is inside both slots' ranges", () => {
    const range = fc
      .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }))
      .map(([r, w]) => ({ requires: r, supportsUpTo: r + w }));
    fc.assert(
      fc.property(range, range, fc.integer({ min: 0, max: 10 }), (a, b, v) => {
        const r = rel({ blue: { schema: a }, green: { schema: b } });
        const g = rolloutGate(r, "green", db(v));
        return g.ok === (runsOn(r.slots.blue, v) && runsOn(r.slots.green, v));
      }),
      { numRuns: 500 },
    );
  });

  it("property: a migration never leaves a serving slot outside its range, and a rollback never lands outside its slot's range", () => {
    const range = fc
      .tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 }))
      .map(([r, w]) => ({ requires: r, supportsUpTo: r + w }));
    fc.assert(
      fc.property(
        range,
        range,
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        (a, b, greenWeight, from, to) => {
          const r = rel({
            blue: { schema: a, weight: 100 - greenWeight },
            green: { schema: b, weight: greenWeight },
            live: greenWeight === 100 ? "green" : "blue",
          });
          const g = migrationGate(r, {
            db: db(from),
            to,
            now: new Date(),
            rollbackWindowSeconds: 0,
            previousLiveIdleSince: null,
          });
          const serving = (["blue", "green"] as const).filter((s) => r.slots[s].weight > 0);
          if (g.ok && !serving.every((s) => runsOn(r.slots[s], to))) return false;
          if (g.ok && !(g.image && r.slots[g.image].schema!.supportsUpTo >= Math.max(from, to))) return false;
          const back = rollbackGate(r, "blue", db(to));
          return back.ok === runsOn(r.slots.blue, to);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("the contract waits for the old slot's rollback window, counted from when it stopped serving (from the history)", () => {
    const after = rel({ live: "green", previousLive: "blue", blue: { weight: 0 }, green: { weight: 100 } });
    const history = [
      {
        at: "2026-11-22T10:00:00.000Z",
        from: {
          live: "blue",
          slots: { blue: { version: "1.4.2", weight: 100 }, green: { version: "1.5.0", weight: 0 } },
        },
        to: {
          live: "blue",
          slots: { blue: { version: "1.4.2", weight: 50 }, green: { version: "1.5.0", weight: 50 } },
        },
      },
      {
        at: "2026-11-22T10:10:00.000Z",
        from: {
          live: "blue",
          slots: { blue: { version: "1.4.2", weight: 50 }, green: { version: "1.5.0", weight: 50 } },
        },
        to: {
          live: "green",
          slots: { blue: { version: "1.4.2", weight: 0 }, green: { version: "1.5.0", weight: 100 } },
        },
      },
    ] as const;
    const idle = stoppedServingAt(history as never, "blue");
    expect(idle?.toISOString()).toBe("2026-11-22T10:10:00.000Z");
    const at = (iso: string) =>
      migrationGate(after, {
        db: db(2),
        to: 3,
        now: new Date(iso),
        rollbackWindowSeconds: 3600,
        previousLiveIdleSince: idle,
      });
    expect(at("2026-11-22T11:09:59.000Z")).toEqual({
      ok: false,
      reason: expect.stringContaining(
        "contract to schema 3 is beyond what blue (1.4.2, schema 1..2) runs on, and blue is the rollback target until 2026-11-22T11:10:00.000Z",
      ),
    });
    expect(at("2026-11-22T11:10:00.000Z")).toEqual({ ok: true, image: "green" });
    // Unknown idle time: counted from now (fail closed).
    expect(
      migrationGate(after, {
        db: db(2),
        to: 3,
        now: new Date(),
        rollbackWindowSeconds: 60,
        previousLiveIdleSince: null,
      }).ok,
    ).toBe(false);
    expect(migrationKind(after, 2, 3)).toBe("contract");
    expect(migrationKind(after, 1, 2)).toBe("expand");
    expect(migrationKind(after, 3, 2)).toBe("down");
  });

  it("a migration during a canary must suit the canary too; the image is the slot that knows both versions", () => {
    const canary = rel({
      blue: { weight: 50 },
      green: { weight: 50 },
      rollout: {
        target: "green",
        nextStep: 1,
        steps: [
          { percent: 50, bakeSeconds: 300 },
          { percent: 100, bakeSeconds: 300 },
        ],
        before: { blue: 100, green: 0 },
        startedAt: "2026-11-22T10:00:00.000Z",
      },
    });
    expect(
      migrationGate(canary, {
        db: db(2),
        to: 1,
        now: new Date(),
        rollbackWindowSeconds: 0,
        previousLiveIdleSince: null,
      }),
    ).toEqual({
      ok: false,
      reason: expect.stringContaining(
        "migrating to schema 1 would break green (1.5.0, schema 2..3), which serves 50 %",
      ),
    });
    expect(
      migrationGate(rel(), {
        db: db(1),
        to: 2,
        now: new Date(),
        rollbackWindowSeconds: 0,
        previousLiveIdleSince: null,
      }),
    ).toEqual({ ok: true, image: "green" });
    expect(
      migrationGate(rel(), {
        db: db(2),
        to: 2,
        now: new Date(),
        rollbackWindowSeconds: 0,
        previousLiveIdleSince: null,
      }),
    ).toEqual({ ok: false, reason: "staging: the database is already at schema 2: nothing to migrate" });
  });
});

describe("release-check: the expand/contract rules in a pull request (pure and against git)", () => {
  it("refuses traffic onto a slot the recorded schema does not suit, a range edited while serving, and a hand-moved schema", () => {
    const base = rel({ database: { schema: 1 } });
    expect(
      schemaChangeProblems(base, rel({ database: { schema: 1 }, blue: { weight: 90 }, green: { weight: 10 } })),
    ).toEqual([
      "staging: slot green (1.5.0, schema 2..3) gets 10 % of the traffic but staging's database is at schema 1: run the expand first ('envctl migrate staging --to 2')",
    ]);
    expect(
      schemaChangeProblems(base, rel({ database: { schema: 1 }, blue: { schema: { requires: 1, supportsUpTo: 3 } } })),
    ).toEqual([expect.stringContaining("slot blue (1.4.2) changes its schema range (1..2 → 1..3) while it serves")]);
    expect(schemaChangeProblems(base, rel({ database: { schema: 3 } }))).toEqual([
      expect.stringContaining(
        "slot blue (1.4.2, schema 1..2) gets 100 % of the traffic but staging's database is at schema 3 (this change moves the recorded schema 1 → 3: only 'envctl migrate' changes it)",
      ),
    ]);
    expect(schemaChangeProblems(base, rel({ database: { schema: 1 }, green: { version: "1.5.1" } }))).toEqual([]);
  });

  it("envctl release-check exits 1 naming the versions", async () => {
    const dir = tempProject();
    const git = (...args: string[]) =>
      execFileSync("git", args, {
        cwd: dir,
        encoding: "utf8",
        env: {
          ...process.env,
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_AUTHOR_NAME: "t",
          GIT_AUTHOR_EMAIL: "t@e",
          GIT_COMMITTER_NAME: "t",
          GIT_COMMITTER_EMAIL: "t@e",
        },
      });
    const file = join(dir, "environments/releases/staging.json");
    const edit = (f: (r: any) => void) => {
      const r = JSON.parse(readFileSync(file, "utf8"));
      f(r);
      writeFileSync(file, JSON.stringify(r));
    };
    edit((r) => {
      r.slots.blue.schema = { requires: 1, supportsUpTo: 2 };
      r.slots.green = { version: "1.5.0", weight: 0, schema: { requires: 2, supportsUpTo: 3 } };
      r.history.push({ version: "1.5.0", served: false });
      r.database = { schema: 1, dirty: false, readAt: "2026-11-22T10:00:00.000Z" };
    });
    git("init", "-q");
    git("add", "environments");
    git("commit", "-qm", "base");
    edit((r) => {
      r.slots.blue.weight = 50;
      r.slots.green.weight = 50;
    });
    const lines: string[] = [];
    expect(
      await main(["node", "envctl", "release-check", "--base", "HEAD"], {
        cwd: dir,
        stdout: (t) => lines.push(t),
        stderr: (t) => lines.push(t),
      }),
    ).toBe(1);
    expect(lines.at(-1)).toBe(
      "refused: a release change breaks the database's expand/contract rules (docs/operations/database-changes.md):\n  - staging: slot green (1.5.0, schema 2..3) gets 50 % of the traffic but staging's database is at schema 1: run the expand first ('envctl migrate staging --to 2')",
    );
  });
});

describe("masking spec and plan (pure)", () => {
  const col = (name: string, type: string, nullable = true) => ({ name, type, nullable, generated: false });
  const users: RelationInfo = {
    oid: 16400,
    schema: "public",
    name: "users",
    kind: "r",
    columns: [col("id", "bigint", false), col("email", "text", false), col("phone", "character varying")],
  };
  const catalog: Catalog = {
    largeObjects: 0,
    relations: [
      users,
      {
        oid: 16390,
        schema: "public",
        name: "schema_migrations",
        kind: "r",
        columns: [col("version", "bigint", false)],
      },
    ],
  };
  const spec = (tables: object) => MaskSpecSchema.parse({ tables });

  it("the spec is validated with zod: every problem with its field and rule", () => {
    const r = MaskSpecSchema.safeParse({
      tables: { users: { email: "scramble", "Bad-Name": "keep" }, empty: {}, "public.users": { id: "keep" } },
      extra: 1,
    });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        "tables.users.email: must be one of hash, fake-email, null, keep",
        expect.stringMatching(/^tables\.users\.Bad-Name: must be a lower-case SQL identifier/),
        "tables.empty: must list at least one column",
        "tables.public.users: names the table users names already",
        ': Unrecognized key: "extra"',
      ]),
    );
  });

  it("checks the rules against the catalog's tables; a copy into a lower tier must list every column", () => {
    expect(
      planMasking(spec({ users: { id: "hash", email: "null", nope: "keep" }, ghosts: { x: "keep" } }), catalog, true)
        .problems,
    ).toEqual([
      "tables.users.id: hash needs a text column, this one is bigint (use null or keep)",
      "tables.users.email: null needs a column that allows NULL, this one is NOT NULL (use hash or fake-email)",
      "tables.users.nope: no such column (columns: email, id, phone)",
      "tables.ghosts: no such table in the copy (tables: users)",
      "tables.users: phone not listed: a copy into a lower tier lists every column (a rule, or keep)",
    ]);
    const ok = planMasking(spec({ users: { id: "keep", email: "fake-email", phone: "null" } }), catalog, true);
    expect(ok.problems).toEqual([]);
    expect(ok.plan!.masked.map((m) => [m.relation.name, m.column, m.rule])).toEqual([
      ["users", "email", "fake-email"],
      ["users", "phone", "null"],
    ]);
    expect(ok.plan!.kept).toEqual([{ table: "users", column: "id" }]);
    // Same tier: a partial spec is fine.
    expect(planMasking(spec({ users: { email: "hash" } }), catalog, false).problems).toEqual([]);
    const sql = maskingSql(ok.plan!, "s4lt");
    expect(sql).toMatch(/^BEGIN;\nCREATE TEMPORARY TABLE _envstack_mask_check .* ON COMMIT DROP;/);
    expect(sql).toContain(
      `UPDATE ONLY "public"."users" SET "email" = CASE WHEN "email" IS NULL THEN NULL ELSE 'user-' || substr(encode(sha256(convert_to('s4lt' || "email"::text, 'UTF8')), 'hex'), 1, 12) || '@example.invalid' END, "phone" = NULL`,
    );
    expect(sql.trim().endsWith("COMMIT;")).toBe(true);
  });

  it("a lower-tier copy refuses what no spec can mask: foreign tables and large objects", () => {
    const foreign: RelationInfo = {
      oid: 16500,
      schema: "ext",
      name: "remote_people",
      kind: "f",
      columns: [col("email", "text")],
    };
    const problems = planMasking(
      spec({ users: { id: "keep", email: "hash", phone: "keep" } }),
      { largeObjects: 2, relations: [...catalog.relations, foreign] },
      true,
    ).problems;
    expect(problems).toEqual([
      "ext.remote_people: a foreign table: its rows come from outside the copy, where no masking reaches: drop it before copying into a lower tier",
      "the copy holds 2 large object(s) (pg_largeobject), which no spec can mask: remove them before copying into a lower tier",
    ]);
  });
});

describe("the image contract (labels)", () => {
  it("reads the range and the command; refuses bad labels naming them", () => {
    expect(
      imageContract({ "envstack.schema.requires": "2", "envstack.schema.supports-up-to": "3" }, "image 1.5.0"),
    ).toEqual({
      schema: { requires: 2, supportsUpTo: 3 },
      migrate: ["migrate", "-path", "migrations", "-database", "${DATABASE_URL}", "goto", "${ENVSTACK_SCHEMA_TO}"],
      readSchema: ["migrate", "-path", "migrations", "-database", "${DATABASE_URL}", "version"],
    });
    expect(
      imageContract({ "envstack.schema.read-command": '["sh","-c","cat /version"]' }, "image y").readSchema,
    ).toEqual(["sh", "-c", "cat /version"]);
    expect(() => imageContract({ "envstack.schema.read-command": "[]" }, "image x")).toThrow(
      "label envstack.schema.read-command must be a JSON array of arguments",
    );
    expect(() =>
      imageContract({ "envstack.schema.requires": "3", "envstack.schema.supports-up-to": "2" }, "image x"),
    ).toThrow("image x: label envstack.schema.supports-up-to (2) must be at least envstack.schema.requires (3)");
    expect(() => imageContract({ "envstack.schema.requires": "two" }, "image x")).toThrow(
      "image x: label envstack.schema.requires must be a whole number (a schema version)",
    );
    expect(() => imageContract({ "envstack.schema.requires": "2" }, "image x")).toThrow("go together");
    expect(() => imageContract({ "envstack.migrate.command": "migrate up" }, "image x")).toThrow(
      "label envstack.migrate.command must be a JSON array of arguments",
    );
  });
});

describe("envctl migrate's failure paths (real PostgreSQL, real golang-migrate)", () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(() => pg?.stop());

  function project(env: string, blue: object) {
    const dir = tempProject((d) => {
      cpSync(join(REPO, "test/fixtures/db-app/images"), join(d, "images"), { recursive: true });
      const file = join(d, "environments/releases", `${env}.json`);
      const r = JSON.parse(readFileSync(file, "utf8"));
      r.slots.blue = { ...r.slots.blue, ...blue };
      if (!r.history.some((h: { version: string }) => h.version === r.slots.blue.version))
        r.history.push({ version: r.slots.blue.version, served: true });
      writeFileSync(file, JSON.stringify(r));
    });
    const lines: string[] = [];
    const clock = new FakeClock();
    const snapshots: string[] = [];
    const ci = githubCi(dir, { author: "dana" });
    const deps: Deps = {
      github: ci.github,
      cwd: dir,
      // As CI runs it after two approvals, with credentials of each environment's own account.
      env: {
        ...process.env,
        CI: "1",
        GITHUB_ACTOR: "ci-bot",
        ...ci.env,
        ENVSTACK_TARGET: "local",
        ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:9",
        ENVSTACK_LOCAL_POSTGRES: pg.url,
        ENVSTACK_LOCAL_IMAGES: join(dir, "images"),
      },
      identity: async (o) => ({
        account: o.account!.id,
        arn: `arn:aws:sts::${o.account!.id}:assumed-role/envstack-deploy/ci`,
      }),
      snapshots: () => ({
        snapshot: async (db, id) => {
          snapshots.push(`${db}:${id}`);
          return id;
        },
      }),
      progress: new PlainProgress((l) => lines.push(l), clock.now),
      stdout: (t) => lines.push(t),
      stderr: (t) => lines.push(t),
      clock,
    };
    const image = (version: string, labels: Record<string, string>, files: Record<string, string> = {}) => {
      mkdirSync(join(dir, "images", version, "migrations"), { recursive: true });
      writeFileSync(join(dir, "images", version, "image.json"), JSON.stringify({ labels }));
      for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, "images", version, "migrations", f), body);
    };
    return {
      dir,
      lines,
      snapshots,
      image,
      run: (...args: string[]) => {
        lines.length = 0;
        return main(["node", "envctl", ...args], deps);
      },
      text: () => lines.join("\n"),
      release: () => JSON.parse(readFileSync(join(dir, "environments/releases", `${env}.json`), "utf8")),
      audit: () =>
        readFileSync(join(dir, "environments/releases", `${env}.audit.jsonl`), "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)),
    };
  }

  it("a failing migration: its exit code is honoured (exit 10), the dirty state is recorded, and rollouts are refused until it is fixed", async () => {
    const p = project("dev", { version: "9.0.0", schema: { requires: 1, supportsUpTo: 2 } });
    p.image(
      "9.0.0",
      { "envstack.schema.requires": "1", "envstack.schema.supports-up-to": "2" },
      {
        "1_ok.up.sql": "create table things (id int);",
        "1_ok.down.sql": "drop table things;",
        "2_broken.up.sql": "alter table things add column x int; alter table no_such_table add column y int;",
        "2_broken.down.sql": "select 1;",
      },
    );
    expect(await p.run("migrate", "dev", "--to", "1")).toBe(0);
    expect(await p.run("migrate", "dev", "--to", "2")).toBe(10);
    expect(p.text()).toMatch(/blue\| .*relation "no_such_table" does not exist/); // the tool's own error, streamed
    expect(p.text()).toMatch(
      /error: dev: migration schema 1 → 2 \(expand\) by blue's image 9\.0\.0 \(local process in .*\): exit 1, [\d.]+ s; the database reads back schema 2 \(dirty: the migration stopped midway\); inspect the database, repair it/,
    );
    expect(p.release().database).toMatchObject({ schema: 2, dirty: true });
    expect(p.audit().at(-1)).toMatchObject({ outcome: "migration-failed", to: { schema: 2 } });
    expect(await p.run("migrate", "dev", "--to", "1")).toBe(1);
    expect(p.text()).toContain("dev: the database is dirty at schema 2: a migration stopped midway");
    expect(await p.run("status", "dev")).toBe(0);
    expect(p.text()).toMatch(/database dev-postgres: schema 2 DIRTY \(a migration stopped midway\) \(read back at/);
  });

  it("a migration that outlives --timeout is stopped and recorded with a clear state (exit 10)", async () => {
    const p = project("staging", { version: "9.1.0", schema: { requires: 0, supportsUpTo: 5 } });
    p.image("9.1.0", {
      "envstack.schema.requires": "0",
      "envstack.schema.supports-up-to": "5",
      "envstack.migrate.command": JSON.stringify([
        "sh",
        "-c",
        "echo starting a long migration to ${ENVSTACK_SCHEMA_TO}; sleep 30",
      ]),
    });
    const t0 = Date.now();
    expect(await p.run("migrate", "staging", "--to", "5", "--timeout", "1")).toBe(10);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(p.text()).toContain("blue| starting a long migration to 5");
    expect(p.text()).toContain("blue| timeout: 1 s passed, stopping the migration command");
    expect(p.text()).toMatch(/timed out after 1 s and was stopped.*; the database reads back schema none/);
    expect(p.audit().at(-1)).toMatchObject({ outcome: "migration-timed-out" });
  });

  it("the migration command runs with what it needs, never envctl's credentials or tokens; its output is redacted", async () => {
    const p = project("staging", { version: "9.2.0", schema: { requires: 0, supportsUpTo: 5 } });
    p.image("9.2.0", {
      "envstack.schema.requires": "0",
      "envstack.schema.supports-up-to": "5",
      "envstack.migrate.command": JSON.stringify(["sh", "-c", "env | sort; echo postgres://app:pa/ss@db/app; exit 3"]),
    });
    const secrets = {
      AWS_SECRET_ACCESS_KEY: "aws-s3cret-x",
      GITHUB_TOKEN: "ghs_t0ken",
      ENVSTACK_APPROVED_BY: "alice,bob",
    };
    for (const [k, v] of Object.entries(secrets)) process.env[k] = v;
    try {
      expect(await p.run("migrate", "staging", "--to", "5")).toBe(10);
    } finally {
      for (const k of Object.keys(secrets)) delete process.env[k];
    }
    const out = p.text();
    expect(out).toContain("blue| ENVSTACK_SCHEMA_TO=5");
    expect(out).toMatch(
      /blue\| DATABASE_URL=postgres:\/\/postgres@127\.0\.0\.1:\d+\/staging-postgres\?sslmode=disable/,
    );
    expect(out).toContain("blue| postgres://app:***@db/app");
    expect(out).not.toMatch(/aws-s3cret-x|ghs_t0ken|ENVSTACK_APPROVED_BY|ENVSTACK_LOCAL_POSTGRES|pa\/ss/);
  });

  it("production snapshots first; a migration waits for the environment's lock and refuses when another envctl holds it", async () => {
    const p = project("production", { version: "1.4.2", schema: { requires: 1, supportsUpTo: 2 } });
    expect(await p.run("migrate", "production", "--to", "1", "--yes")).toBe(0);
    expect(p.snapshots).toEqual([expect.stringMatching(/^production-postgres:production-pre-migrate-/)]);
    expect(p.text().indexOf("snapshot production-postgres")).toBeLessThan(p.text().indexOf("migrating the database"));
    const file = join(p.dir, "environments/releases/production.json");
    let code = -1;
    await withFileLock(
      file,
      "production",
      0,
      async () => {
        code = await p.run("migrate", "production", "--to", "0", "--yes");
      },
      "envctl shift production",
    );
    expect(code).toBe(5);
    expect(pg.sql("production-postgres", "select version from schema_migrations")).toBe("1");
  });

  it("data seed: a seed script into a test environment's database, recorded; refused for production; a bad masking spec names every problem", async () => {
    pg.sql("postgres", 'drop database if exists "dev-postgres" with (force)'); // the first test left it dirty
    const p = project("dev", { version: "1.4.2", schema: { requires: 1, supportsUpTo: 2 } });
    expect(await p.run("migrate", "dev", "--to", "1")).toBe(0);
    writeFileSync(
      join(p.dir, "seed.sql"),
      "insert into users(name, email) values ('Test User', 'test@example.invalid');",
    );
    expect(await p.run("data", "seed", "dev", "--script", "seed.sql")).toBe(0);
    expect(pg.sql("dev-postgres", "select name from users where email = 'test@example.invalid'")).toBe("Test User");
    expect(p.audit().at(-1)).toMatchObject({ outcome: "data-seeded", note: "dev-postgres seeded with seed.sql" });
    expect(await p.run("data", "seed", "production", "--script", "seed.sql")).toBe(1);
    expect(p.text()).toContain(
      "production is a production environment: seed scripts are for test environments and previews",
    );
    writeFileSync(join(p.dir, "mask.json"), JSON.stringify({ tables: { users: { email: "scramble", Name: "keep" } } }));
    expect(await p.run("data", "copy", "production", "staging", "--mask", "mask.json")).toBe(1);
    expect(p.text()).toBe(
      "error: data copy: --mask mask.json is not a valid masking spec:\n  - tables.users.email: must be one of hash, fake-email, null, keep\n  - tables.users.Name: must be a lower-case SQL identifier (a-z, 0-9, _; the name as PostgreSQL stores it)",
    );
  });
});
