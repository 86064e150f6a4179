/**
 * What envctl prints of a database URL or a migration command's output never holds a password
 * (lib/database/redact.ts), property-style: any password (with `/`, `@`, `:`, `?`, `#`, `%`-escapes,
 * quotes), postgres:// and postgresql://, with or without user, port, database and query, in the
 * userinfo or as a query parameter, alone or inside a line of text. And the migration command's
 * environment holds only what it needs (lib/database/migration-env.ts), never envctl's credentials.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MIGRATION_ENV_ALLOW, migrationEnvironment } from "../lib/database/migration-env.ts";
import { redact } from "../lib/database/redact.ts";

/** A password: a marker no other part of the URL holds, then any visible characters but whitespace. */
const password = fc
  .string({ unit: fc.constantFrom(..."abcXYZ019/@:?#&=%!$'\"()[]{};,.+-_~*".split("")), minLength: 1, maxLength: 24 })
  .map((tail) => `Pw7q${tail}`);
const percentEncoded = password.map((p) => `Pw7q${encodeURIComponent(p.slice(4))}`);
const host = fc.constantFrom("db.internal", "127.0.0.1", "[::1]", "prod-postgres.x1.eu-west-1.rds.amazonaws.com");
const user = fc.constantFrom("app", "postgres", "u%40corp", "a.b-c_d");
const scheme = fc.constantFrom("postgres", "postgresql");
const tail = fc.constantFrom(
  "",
  "/app",
  ":5432/app",
  ":5432/app?sslmode=require",
  "/app?sslmode=disable&connect_timeout=5",
);

describe("redact()", () => {
  it("property: a password in the userinfo never survives, whatever it holds; the host stays readable", () => {
    fc.assert(
      fc.property(
        scheme,
        user,
        fc.oneof(password, percentEncoded),
        host,
        tail,
        fc.constantFrom("", "$ migrate -database ", "error: "),
        (s, u, p, h, t, before) => {
          const url = `${s}://${u}:${p}@${h}${t}`;
          const out = redact(`${before}${url} up 3`);
          expect(out).not.toContain("Pw7q");
          expect(out).toContain(`${s}://${u}:***@${h}`);
          expect(out.endsWith(" up 3")).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("property: a password as a query or keyword parameter never survives", () => {
    const noSeparator = password.filter((p) => !/[\s&#]/.test(p) && !p.startsWith("'") && !p.startsWith('"'));
    fc.assert(
      fc.property(scheme, host, noSeparator, fc.constantFrom("password", "sslpassword", "PASSWORD"), (s, h, p, key) => {
        expect(redact(`${s}://${h}/app?user=app&${key}=${p}&sslmode=require`)).not.toContain("Pw7q");
        expect(redact(`${s}://${h}/app?${key}=${encodeURIComponent(p)}`)).not.toContain("Pw7q");
        expect(redact(`host=${h} ${key}='${p.replace(/['\\]/g, "")}' dbname=app`)).not.toContain("Pw7q");
        expect(redact(`PGPASSWORD=${p} psql`)).not.toContain("Pw7q");
      }),
      { numRuns: 300 },
    );
  });

  it("leaves what holds no password as it is", () => {
    for (const text of [
      "postgres://app@db.internal:5432/app?sslmode=disable",
      "postgresql://[::1]:5432/app",
      "1/u create_users (12.3ms)",
      "no change",
    ]) {
      expect(redact(text)).toBe(text);
    }
    expect(redact("postgres://app:s3cr/et@db.internal:5432/app")).toBe("postgres://app:***@db.internal:5432/app");
  });
});

describe("the migration command's environment", () => {
  it("holds the allow-list, the slot's settings and the contract's variables; never envctl's credentials or tokens", () => {
    const parent = {
      PATH: "/usr/bin:/bin",
      HOME: "/home/ci",
      LANG: "C.UTF-8",
      TZ: "UTC",
      AWS_ACCESS_KEY_ID: "AKIA0000",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
      GITHUB_TOKEN: "ghs_x",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "oidc",
      ENVSTACK_LOCAL_POSTGRES: "postgres://postgres@127.0.0.1:5432",
      PGPASSWORD: "pg",
      NODE_OPTIONS: "--require /tmp/x.js",
    };
    const env = migrationEnvironment(parent, {
      settings: { LOG_LEVEL: "info" },
      vars: { DATABASE_URL: "postgres://app@db/app", ENVSTACK_SCHEMA_TO: "3" },
      toolDir: "/opt/migrate",
    });
    expect(env).toEqual({
      HOME: "/home/ci",
      LANG: "C.UTF-8",
      TZ: "UTC",
      LOG_LEVEL: "info",
      DATABASE_URL: "postgres://app@db/app",
      ENVSTACK_SCHEMA_TO: "3",
      PATH: "/opt/migrate:/usr/bin:/bin",
    });
    for (const name of Object.keys(env)) {
      expect([...MIGRATION_ENV_ALLOW, "LOG_LEVEL", "DATABASE_URL", "ENVSTACK_SCHEMA_TO", "PATH"]).toContain(name);
    }
  });
});
