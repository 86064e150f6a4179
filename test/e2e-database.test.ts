/**
 * Database changes released with the code, end to end against a real PostgreSQL
 * (Debian's, started by test/support/postgres.ts) and real golang-migrate (built by
 * lib/engine/setup-migrate.sh), driven through envctl on the local target: the environment's
 * database `staging-postgres` is a database on the local server, the app images are the stand-ins
 * of test/fixtures/db-app/images (labels + migrations), and the migration command runs as a local
 * process. Two stand-in apps (test/support/db-app.ts), one per slot, read and write the columns
 * their version needs: the smoke checks and the canary's metrics come from them, so a schema that
 * does not suit a slot fails its checks for real. The ALB, CloudWatch's clock and the deploys are
 * the in-process fakes of test/rollout.test.ts.
 *
 * The story: staging runs 1.4.2 (schema 1..2) on schema 1; 1.5.0 (schema 2..3) renames
 * users.email to users.contact_email by expand (2) and contract (3).
 */

import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deps, main } from "../lib/cli/envctl.ts";
import { PlainProgress } from "../lib/cli/progress.ts";
import { slotAlarmNames } from "../lib/constructs/monitoring.ts";
import type { Slot } from "../lib/core/primitives.ts";
import { readWeights, users, useShortWindows } from "../lib/demo/demo.ts";
import { SyntheticAlbTraffic } from "../lib/demo/synthetic-traffic.ts";
import { githubCi } from "./support/approvals.ts";
import { APP_QUERIES, type AppStandIn, appStandIn } from "./support/db-app.ts";
import { type LocalLoop, localLoop, rolloutUnderTraffic } from "./support/e2e.ts";
import {
  FakeAlarms,
  FakeAlb,
  FakeClock,
  FakeMetrics,
  FakeTrafficHistory,
  FakeWorkloads,
  metrics,
} from "./support/fakes.ts";
import { type Postgres, startPostgres } from "./support/postgres.ts";
import { REPO, tempProject } from "./support/project.ts";

const ENV = "staging";
const DB = "staging-postgres";

let pg: Postgres;
let app: AppStandIn;
let dir: string;
const lines: string[] = [];
const alb = new FakeAlb();
const clock = new FakeClock();
const cw = new FakeMetrics();
const deployed: string[][] = [];
let deps: Deps;
let onDeploy: () => Promise<void> = async () => undefined;

const run = (...args: string[]) => {
  lines.length = 0;
  return main(["node", "envctl", ...args], deps);
};
const text = () => lines.join("\n");
const release = () => JSON.parse(readFileSync(join(dir, "environments/releases", `${ENV}.json`), "utf8"));
const audit = () =>
  readFileSync(join(dir, "environments/releases", `${ENV}.audit.jsonl`), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((a) => !a.kind);
const columns = () =>
  pg.sql(
    DB,
    "select string_agg(column_name, ',' order by column_name) from information_schema.columns where table_name = 'users'",
  );

/** Each metrics read probes both slots' apps: a slot whose queries fail shows every request as a 5xx. */
async function probedMetrics(q: { start: Date; end: Date }) {
  const seconds = Math.max(0, (q.end.getTime() - q.start.getTime()) / 1000);
  const requests = Math.round(50 * seconds);
  const slot = async (s: Slot) => {
    const r = release();
    if (r.slots[s].version === null) return { requests: 0 };
    const ok = (await app.probe(s)).status === 200;
    return { requests, target5xx: ok ? Math.round(requests * 0.01) : requests };
  };
  return metrics(await slot("blue"), await slot("green"));
}

beforeAll(async () => {
  pg = await startPostgres();
  dir = tempProject((d) => {
    cpSync(join(REPO, "test/fixtures/db-app/images"), join(d, "images"), { recursive: true });
    // The slots as the apps declare them (the images' labels): staging's 1.4.2, dev's 1.5.0.
    const edit = (env: string, f: (r: any) => void) => {
      const file = join(d, "environments/releases", `${env}.json`);
      const r = JSON.parse(readFileSync(file, "utf8"));
      f(r);
      writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    };
    edit("staging", (r) => {
      r.slots.blue.schema = { requires: 1, supportsUpTo: 2 };
    });
    edit("dev", (r) => {
      r.slots.blue.schema = { requires: 2, supportsUpTo: 3 };
    });
  });
  app = await appStandIn(dir, ENV, `${pg.url}/${DB}?sslmode=disable`, pg.tools.psql);
  cw.traffic = probedMetrics;
  const alarms = new FakeAlarms(
    Object.fromEntries(["blue", "green"].flatMap((s) => slotAlarmNames(ENV, s as Slot)).map((n) => [n, "OK"])),
  );
  deps = {
    cwd: dir,
    env: {
      ...process.env,
      GITHUB_ACTOR: "ci-bot",
      CI: "1",
      ENVSTACK_TARGET: "local",
      ENVSTACK_AWS_ENDPOINT: "http://127.0.0.1:9",
      ENVSTACK_LOCAL_POSTGRES: pg.url,
      ENVSTACK_LOCAL_IMAGES: join(dir, "images"),
    },
    deployer: {
      deploy: async (stacks) => {
        deployed.push([...stacks]);
        for (const s of stacks) if (s.endsWith("-traffic")) alb.deployFrom(dir, s.replace(/-traffic$/, ""));
        await onDeploy();
      },
    },
    traffic: () => alb,
    // staging runs on EKS: its Deployments follow the release file (a cluster where the workloads stack applied)
    workloads: (e) => new FakeWorkloads(dir, e.name),
    metrics: () => cw,
    alarms: () => alarms,
    snapshots: () => ({ snapshot: async (_db, id) => id }),
    trafficHistory: () => new FakeTrafficHistory(),
    // The smoke checks reach the idle slot's stand-in app through its test route.
    smoke: {
      fetch: async (url, init) => fetch(url.replace(/^https?:\/\/[^/]+/, app.url), init),
      sleep: async () => undefined,
    },
    progress: new PlainProgress((l) => lines.push(l), clock.now),
    stdout: (t) => lines.push(t),
    stderr: (t) => lines.push(t),
    clock,
  };
}, 120_000);

afterAll(() => {
  app?.close();
  pg?.stop();
});

describe("e2e: a schema change released with the code (real PostgreSQL, real golang-migrate)", () => {
  it("staging's database starts at schema 1 by envctl migrate with the live slot's image; status reads it back", async () => {
    expect(await run("migrate", ENV, "--to", "1")).toBe(0);
    expect(text()).toMatch(/migrating the database from schema none to 1 \(expand\) with blue's image 1\.4\.2/);
    expect(text()).toMatch(/blue\| .*1\/u create_users/); // golang-migrate's own output, streamed
    expect(pg.sql(DB, "select version || ':' || dirty from schema_migrations")).toBe("1:false");
    expect(columns()).toBe("email,id,name");
    pg.sql(
      DB,
      "insert into users(name, email) values ('Ada Lovelace', 'ada@example.com'), ('Alan Turing', 'alan@example.com')",
    );
    expect((await app.probe("blue")).status).toBe(200);
    expect(release().database).toMatchObject({ schema: 1, dirty: false });
    expect(await run("status", ENV)).toBe(0);
    expect(text()).toMatch(/database staging-postgres: schema 1 \(read back at .*\); blue \(1\.4\.2\) runs on 1\.\.2/);
  });

  it("1.5.0 promoted from dev carries its schema range; a rollout that needs its unapplied expand is refused, naming the versions and the way forward", async () => {
    expect(await run("promote", "dev", ENV, "--version", "1.5.0")).toBe(0);
    expect(release().slots.green).toMatchObject({
      version: "1.5.0",
      weight: 0,
      schema: { requires: 2, supportsUpTo: 3 },
    });
    // Without the expand, the new app cannot run: its own queries fail against schema 1.
    expect((await app.probe("green")).status).toBe(500);
    const writes = alb.writes.length;
    expect(await run("rollout", ENV)).toBe(1);
    expect(text()).toContain(
      "staging: green (1.5.0, schema 2..3) needs schema 2, the database is at 1: the expand has not run. Run it before traffic moves: 'envctl migrate staging --to 2' (blue (1.4.2, schema 1..2) runs on it too), or 'envctl rollout staging --migrate'",
    );
    expect(text()).toContain("no traffic was moved");
    expect(release().rollout).toBeNull();
    expect(alb.writes.length).toBe(writes);
    expect(pg.sql(DB, "select version from schema_migrations")).toBe("1");
    // The plan says which schema each slot needs and what the gate will do.
    expect(await run("rollout", ENV, "--dry-run")).toBe(0);
    expect(text()).toMatch(
      /; database: schema 1 \(as recorded at \S+; read back before any traffic moves\); blue \(1\.4\.2, schema 1\.\.2\), green \(1\.5\.0, schema 2\.\.3\); refused unless the expand to 2 has run \(--migrate runs it first\)/,
    );
  });

  it("rollout --migrate runs the expand before the canary; during the canary both slots' apps work against the expanded schema; 1.5.0 becomes live", async () => {
    const during: { weights: string; blue: number; green: number }[] = [];
    onDeploy = async () => {
      if (alb.weights.green > 0 && alb.weights.blue > 0)
        during.push({
          weights: `${alb.weights.blue}/${alb.weights.green}`,
          blue: (await app.probe("blue")).status,
          green: (await app.probe("green")).status,
        });
    };
    expect(await run("rollout", ENV, "--migrate")).toBe(0);
    onDeploy = async () => undefined;
    const outcomes = audit().map((a) => a.outcome);
    // The expand is recorded before the rollout starts: no traffic moved on schema 1.
    expect(outcomes.indexOf("migrated", 1)).toBeGreaterThan(-1);
    expect(outcomes.lastIndexOf("migrated")).toBeLessThan(outcomes.indexOf("rollout-started"));
    const expand = audit()
      .filter((a: any) => a.outcome === "migrated")
      .at(-1);
    expect(expand.note).toMatch(/^schema 1 → 2 \(expand\) by green's image 1\.5\.0 \(local process in .*\): exit 0/);
    expect(expand.from.schema).toBe(1);
    expect(expand.to.schema).toBe(2);
    expect(columns()).toBe("contact_email,email,id,name");
    expect(during).toEqual([{ weights: "50/50", blue: 200, green: 200 }]);
    expect(app.served.filter((s) => s.status !== 200 && s.version === "1.4.2")).toEqual([]);
    expect(release()).toMatchObject({
      live: "green",
      previousLive: "blue",
      rollout: null,
      database: { schema: 2 },
      slots: { green: { weight: 100 }, blue: { weight: 0 } },
    });
  });

  it("the contract waits for the old slot's rollback window; after it, it runs with the new slot's image and the old app no longer works", async () => {
    expect(await run("migrate", ENV, "--to", "3")).toBe(1);
    expect(text()).toMatch(
      /staging: contract to schema 3 is beyond what blue \(1\.4\.2, schema 1\.\.2\) runs on, and blue is the rollback target until (\S+) \(rollback window 3600 s since it stopped serving at \S+\): refused; migrate after \1/,
    );
    expect(pg.sql(DB, "select version from schema_migrations")).toBe("2");
    // A rollback inside the window is still possible: the schema (2) suits 1.4.2.
    clock.t += 3600_000;
    expect(await run("migrate", ENV, "--to", "3")).toBe(0);
    expect(text()).toMatch(/migrating the database from schema 2 to 3 \(contract\) with green's image 1\.5\.0/);
    expect(columns()).toBe("contact_email,id,name");
    expect((await app.probe("green")).status).toBe(200);
    const old = await app.probe("blue");
    expect(old.status).toBe(500);
    expect(old.body).toContain('column \\"email\\" of relation \\"users\\" does not exist');
    expect(release().database).toMatchObject({ schema: 3, dirty: false });
  });

  it("a rollback after the contract is refused with the way out; traffic stays on the new slot", async () => {
    const writes = alb.writes.length;
    expect(await run("rollback", ENV)).toBe(1);
    expect(text()).toContain(
      "staging: rollback to blue (1.4.2, schema 1..2) refused: the database is at schema 3, beyond what 1.4.2 runs on, and moving traffic there would break it. Ways out: roll forward",
    );
    expect(text()).toContain("'envctl migrate staging --to 2' first, then 'envctl rollback staging'");
    expect(alb.writes.length).toBe(writes);
    expect(alb.weights).toEqual({ blue: 0, green: 100 });
    // Nor can a manual shift put the old version back on the contracted schema.
    expect(await run("shift", ENV, "--to", "blue", "--percent", "10")).toBe(1);
    expect(text()).toContain("staging: rollback to blue (1.4.2, schema 1..2) refused: the database is at schema 3");
    expect(alb.writes.length).toBe(writes);
    expect(release()).toMatchObject({ live: "green", slots: { green: { weight: 100 } } });
    // A dry run of the down migration says which image would run it, and changes nothing.
    expect(await run("migrate", ENV, "--to", "2", "--dry-run")).toBe(0);
    expect(text()).toContain("would migrate staging from schema 3 to 2 (down) with green's image 1.5.0");
    expect(pg.sql(DB, "select version from schema_migrations")).toBe("3");
  });

  it("the history and status show the schema: every migration with its versions, and the schema each slot needs", async () => {
    const migrations = audit()
      .filter((a) => a.outcome === "migrated")
      .map((a) => `${a.from.schema ?? "none"}→${a.to.schema}`);
    expect(migrations).toEqual(["none→1", "1→2", "2→3"]);
    expect(audit().at(-1)).toMatchObject({
      outcome: "migrated",
      command: "envctl migrate staging --to 3",
      to: { schema: 3, slots: { blue: { schema: "1..2" }, green: { schema: "2..3" } } },
    });
    expect(await run("status", ENV, "--json")).toBe(0);
    expect(JSON.parse(text())).toMatchObject({
      database: { schema: 3, dirty: false, source: "database", instance: DB },
      slots: { green: { version: "1.5.0", schema: { requires: 2, supportsUpTo: 3 } } },
    });
    // The report: each slot's range, the database's schema, and each change's schema before → after.
    expect(await run("report", "--json")).toBe(0);
    const report = JSON.parse(text());
    expect(report.environments.find((e: any) => e.name === ENV)).toMatchObject({
      database: { schema: 3, instance: DB },
      slots: [
        { slot: "blue", schema: "1..2" },
        { slot: "green", schema: "2..3" },
      ],
    });
    expect(report.history.find((h: any) => h.environment === ENV && h.outcome === "migrated")).toMatchObject({
      schema: "2 → 3",
      command: "envctl migrate staging --to 3",
    });
    const page = join(dir, "report.html");
    expect(await run("report", "--html", page)).toBe(0);
    expect(readFileSync(page, "utf8")).toContain("database staging-postgres: schema 3");
  });
});

describe("e2e: production-like data in staging: a masked copy, verified by query", () => {
  /** Data leaves production only with production's approvals: as CI runs it after two reviewers approved. */
  const runApproved = async (...args: string[]) => {
    const saved = deps;
    const job = githubCi(dir, { author: "dana" });
    deps = { ...deps, github: job.github, env: { ...deps.env, ...job.env } };
    try {
      return await run(...args);
    } finally {
      deps = saved;
    }
  };
  const SOURCE = "production-postgres";
  const spec = (d: string, tables: object) => {
    const f = join(d, `mask-${Object.keys(tables).length}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(f, JSON.stringify({ tables }));
    return f;
  };
  const full = {
    users: { id: "keep", name: "hash", contact_email: "fake-email" },
    orders: { id: "keep", user_id: "keep", note: "null", amount: "keep" },
  };

  beforeAll(() => {
    // production's database at schema 3 (1.5.0's migrations, by golang-migrate itself), with people in it.
    pg.sql("postgres", `create database "${SOURCE}"`);
    execFileSync(
      pg.tools.migrate,
      ["-path", join(dir, "images/1.5.0/migrations"), "-database", `${pg.url}/${SOURCE}?sslmode=disable`, "goto", "3"],
      { stdio: "pipe" },
    );
    pg.sql(
      SOURCE,
      "insert into users(name, contact_email) select 'Person ' || i, 'person' || i || '@corp.example.com' from generate_series(1, 200) i",
    );
    pg.sql(
      SOURCE,
      "create table orders (id bigserial primary key, user_id bigint not null references users(id), note text, amount integer not null)",
    );
    pg.sql(
      SOURCE,
      "insert into orders(user_id, note, amount) select 1 + (i % 200), 'deliver to Person ' || (1 + i % 200), i * 7 from generate_series(1, 500) i",
    );
  });

  it("without a masking spec, production data never reaches staging: refused, nothing switched", async () => {
    const before = release().database;
    expect(await run("data", "copy", "production", ENV, "--yes")).toBe(1);
    expect(text()).toContain("production (production) data never reaches staging (staging) unmasked: refused");
    expect(release().database).toEqual(before);
  });

  it("a spec that leaves a column unlisted is refused, all problems at once; the copy is dropped", async () => {
    expect(
      await runApproved(
        "data",
        "copy",
        "production",
        ENV,
        "--mask",
        spec(dir, { users: { id: "keep", contact_email: "fake-email" }, orders: { id: "keep", note: "hash" } }),
        "--yes",
      ),
    ).toBe(1);
    expect(text()).toContain(
      "tables.users: name not listed: a copy into a lower tier lists every column (a rule, or keep)",
    );
    expect(text()).toContain("tables.orders: amount, user_id not listed");
    expect(text()).toMatch(/the copy staging-postgres-copy-\d{12} was dropped, staging still uses staging-postgres/);
    expect(pg.sql("postgres", "select count(*) from pg_database where datname like 'staging-postgres-copy-%'")).toBe(
      "0",
    );
  });

  it("a complete spec: the copy is masked, no masked column holds an original value (checked by query against the source), staging switches with the old database kept", async () => {
    expect(await runApproved("data", "copy", "production", ENV, "--mask", spec(dir, full), "--yes", "--json")).toBe(0);
    const out = JSON.parse(text().slice(text().indexOf("{")));
    expect(out).toMatchObject({
      environment: ENV,
      from: "production",
      previous: DB,
      schema: 3,
      verified: { "users.name": 0, "users.contact_email": 0, "orders.note": 0 },
    });
    const copy: string = out.copy;
    expect(release().database).toMatchObject({ instance: copy, previousInstance: DB, schema: 3 });
    // By query, independently of envctl's own check: every masked value against every source value.
    const values = (db: string, table: string, column: string) =>
      new Set(pg.sql(db, `select ${column} from ${table} where ${column} is not null`).split("\n").filter(Boolean));
    for (const [table, column] of [
      ["users", "name"],
      ["users", "contact_email"],
    ] as const) {
      const source = values(SOURCE, table, column);
      const masked = values(copy, table, column);
      expect(source.size).toBe(200);
      expect(masked.size).toBe(200); // distinct values stay distinct (unique keys keep working)
      expect([...masked].filter((v) => source.has(v))).toEqual([]);
    }
    expect(
      pg.sql(copy, "select count(*) from users where contact_email !~ '^user-[0-9a-f]{12}@example\\.invalid$'"),
    ).toBe("0");
    expect(pg.sql(copy, "select count(note) from orders")).toBe("0");
    // Kept columns are the source's, so the data keeps its shape.
    expect(pg.sql(copy, "select sum(amount) || ':' || count(distinct user_id) from orders")).toBe(
      pg.sql(SOURCE, "select sum(amount) || ':' || count(distinct user_id) from orders"),
    );
    expect(pg.sql(copy, "select version from schema_migrations")).toBe("3");
    expect(pg.sql(copy, "select count(*) from pg_tables where tablename = '_envstack_mask_check'")).toBe("0");
    expect(audit().at(-1)).toMatchObject({
      outcome: "data-copied",
      command: expect.stringContaining("envctl data copy production staging --mask"),
      note: expect.stringContaining("verified by query: 0 source values left in 3 masked column(s)"),
    });
    expect(pg.sql("postgres", `select count(*) from pg_database where datname = '${DB}'`)).toBe("1");
  });

  it("a second copy waits for the first to be confirmed; confirm drops the old database", async () => {
    expect(await runApproved("data", "copy", "production", ENV, "--mask", spec(dir, full), "--yes")).toBe(1);
    expect(text()).toContain(
      "staging: the previous data copy is not confirmed yet (staging-postgres is kept): 'envctl data confirm staging' first",
    );
    expect(await run("data", "confirm", ENV, "--yes")).toBe(0);
    expect(pg.sql("postgres", `select count(*) from pg_database where datname = '${DB}'`)).toBe("0");
    expect(release().database.previousInstance).toBeUndefined();
    expect(await run("status", ENV)).toBe(0);
    expect(text()).toMatch(/database staging-postgres-copy-\d{12}: schema 3 \(read back at/);
  });

  it("staging's masked copy is the named masked snapshot a lower environment starts from: no second spec, still no original value", async () => {
    expect(release().database.maskedFrom).toBe("production");
    const maskedSource: string = release().database.instance;
    clock.t += 60_000; // a new copy name (one per minute)
    expect(await run("data", "copy", ENV, "dev", "--yes", "--json")).toBe(0);
    const out = JSON.parse(text().slice(text().indexOf("{")));
    const dev = JSON.parse(readFileSync(join(dir, "environments/releases/dev.json"), "utf8"));
    expect(dev.database).toMatchObject({ instance: out.copy, maskedFrom: "production", schema: 3 });
    expect(
      pg.sql(
        out.copy,
        "select count(*) from users where contact_email like '%@corp.example.com' or name like 'Person %'",
      ),
    ).toBe("0");
    expect(pg.sql(out.copy, "select string_agg(contact_email, ',' order by id) from users")).toBe(
      pg.sql(maskedSource, "select string_agg(contact_email, ',' order by id) from users"),
    );
  });
});

/**
 * The same story against the engine: OpenTofu and the AWS provider deploy dev (its ALB, listener
 * rule and alarms) to moto; envctl runs as its own process on the local target (the `rdsSql` gap:
 * dev-postgres is a database on the local PostgreSQL, the images are the project's images/ stand-ins);
 * each rollout step deploys dev-traffic with the engine and the ALB's weights are read back from
 * moto; synthetic traffic feeds CloudWatch. dev runs 1.5.0 (schema 1..2, reads users.email), the
 * new build 1.6.0 (schema 2..3) reads users.contact_email. Short windows (lib/demo/demo.ts) and a
 * rollback window of 30 s.
 */
describe.sequential("e2e against the engine: the expand before the canary, the contract after the rollback window", () => {
  let loop: LocalLoop;
  let devApp: AppStandIn;
  let traffic: SyntheticAlbTraffic;
  const DEV_DB = "dev-postgres";
  const devRelease = () => JSON.parse(readFileSync(join(loop.dir, "environments/releases/dev.json"), "utf8"));
  const devAudit = () =>
    readFileSync(join(loop.dir, "environments/releases/dev.audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((a) => !a.kind);
  const weights = () => readWeights(loop.emulator.endpoint, "dev");

  beforeAll(async () => {
    process.env.ENVSTACK_LOCAL_POSTGRES = pg.url; // the loop's processes inherit it: the local target's database server
    loop = await localLoop();
    devApp = await appStandIn(loop.dir, "dev", `${pg.url}/${DEV_DB}?sslmode=disable`, pg.tools.psql, {
      "1.5.0": APP_QUERIES["1.4.2"]!,
      "1.6.0": APP_QUERIES["1.5.0"]!,
    });
    useShortWindows(loop.dir, devApp.url);
    loop.edit("dev.ts", (t) =>
      t.replace(
        "    snapshotBeforePromote: false,\n  },",
        "    snapshotBeforePromote: false,\n    rollbackWindowSeconds: 30,\n  },",
      ),
    );
    // The images: dev's live 1.5.0 is the old app (the fixture 1.4.2), the new build 1.6.0 the new one (the fixture 1.5.0).
    cpSync(join(REPO, "test/fixtures/db-app/images/1.4.2"), join(loop.dir, "images/1.5.0"), { recursive: true });
    cpSync(join(REPO, "test/fixtures/db-app/images/1.5.0"), join(loop.dir, "images/1.6.0"), { recursive: true });
    loop.edit("releases/dev.json", (t) => {
      const r = JSON.parse(t);
      r.slots.blue.schema = { requires: 1, supportsUpTo: 2 };
      return `${JSON.stringify(r, null, 2)}\n`;
    });
    await loop.deploy("bootstrap", "dev", "dev-traffic");
    traffic = new SyntheticAlbTraffic(loop.emulator.endpoint, "dev");
  }, 1_200_000);

  afterAll(async () => {
    delete process.env.ENVSTACK_LOCAL_POSTGRES;
    await loop?.stop();
    devApp?.close();
  });

  it("migrate dev --to 1; stage 1.6.0 takes its schema range from the image's labels; the rollout without the expand is refused, the ALB untouched", async () => {
    const m = await loop.envctl("migrate", "dev", "--to", "1");
    expect(m.status, m.out).toBe(0);
    pg.sql(DEV_DB, "insert into users(name, email) values ('Grace Hopper', 'grace@example.com')");
    const s = await loop.envctl("stage", "dev", "--version", "1.6.0");
    expect(s.status, s.out).toBe(0);
    expect(devRelease().slots.green).toMatchObject({
      version: "1.6.0",
      weight: 0,
      schema: { requires: 2, supportsUpTo: 3 },
    });
    const r = await rolloutUnderTraffic(loop, traffic, (w) => users(w), "dev");
    expect(r.status, r.out).toBe(1);
    expect(r.out).toContain(
      "dev: green (1.6.0, schema 2..3) needs schema 2, the database is at 1: the expand has not run",
    );
    expect(await weights()).toEqual({ blue: 100, green: 0 });
  }, 600_000);

  it("rollout --migrate: the expand runs before the first step; at 50 % both slots' apps work; 1.6.0 becomes live through the engine", async () => {
    const seen: { blue: number; green: number; weights: Record<string, number> }[] = [];
    const during = async () => {
      for (let i = 0; i < 1200; i++) {
        const r = devRelease();
        if (r.rollout?.nextStep === 1 && r.pending === null && r.slots.green.weight === 50) {
          seen.push({
            blue: (await devApp.probe("blue")).status,
            green: (await devApp.probe("green")).status,
            weights: await weights(),
          });
          return;
        }
        await new Promise((res) => setTimeout(res, 250));
      }
    };
    const r = await rolloutUnderTraffic(loop, traffic, (w) => users(w), "dev", during, [
      "--migrate",
      "--rps",
      "5000",
      "--error-rate",
      "0.5",
    ]);
    expect(r.status, r.out).toBe(0);
    expect(seen).toEqual([{ blue: 200, green: 200, weights: { blue: 50, green: 50 } }]);
    const outcomes = devAudit().map((a) => a.outcome);
    expect(outcomes.lastIndexOf("migrated")).toBeLessThan(outcomes.lastIndexOf("rollout-started"));
    expect(
      devAudit()
        .filter((a) => a.outcome === "migrated")
        .map((a) => a.to.schema),
    ).toEqual([1, 2]);
    expect(await weights()).toEqual({ blue: 0, green: 100 });
    expect(devRelease()).toMatchObject({ live: "green", previousLive: "blue", database: { schema: 2 } });
  }, 600_000);

  it("the contract waits out the rollback window, then runs; a rollback after it is refused and the ALB keeps serving 1.6.0", async () => {
    const early = await loop.envctl("migrate", "dev", "--to", "3");
    expect(early.status, early.out).toBe(1);
    expect(early.out).toMatch(
      /dev: contract to schema 3 is beyond what blue \(1\.5\.0, schema 1\.\.2\) runs on, and blue is the rollback target until/,
    );
    // When blue stopped serving (the 100 % step's record), plus the window.
    const idle = new Date(
      devAudit()
        .filter((a) => a.from.slots.blue.weight > 0 && a.to.slots.blue.weight === 0)
        .at(-1)!.at,
    ).getTime();
    expect(early.out).toContain(`(rollback window 30 s since it stopped serving at ${new Date(idle).toISOString()})`);
    await new Promise((res) => setTimeout(res, Math.max(0, idle + 30_500 - Date.now())));
    const contract = await loop.envctl("migrate", "dev", "--to", "3");
    expect(contract.status, contract.out).toBe(0);
    expect(
      pg.sql(
        DEV_DB,
        "select string_agg(column_name, ',' order by column_name) from information_schema.columns where table_name = 'users'",
      ),
    ).toBe("contact_email,id,name");
    expect((await devApp.probe("green")).status).toBe(200);
    const back = await loop.envctl("rollback", "dev", "--yes");
    expect(back.status, back.out).toBe(1);
    expect(back.out).toContain("dev: rollback to blue (1.5.0, schema 1..2) refused: the database is at schema 3");
    expect(await weights()).toEqual({ blue: 0, green: 100 });
  }, 600_000);
});
