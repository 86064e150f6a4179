/**
 * The console's server (hono on node): the pages, the API (./api.ts) with its OpenAPI document,
 * the server-sent events, sign-in and the protections of ./auth.ts. `createConsole` gives the
 * application (tests call it in memory); `startConsole` serves it on a port.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { apiRoutes } from "./api.ts";
import { type AuthVars, authenticate, Sessions, sameSecret } from "./auth.ts";
import { CLIENT_JS } from "./client.ts";
import type { ReleaseCore } from "./core.ts";
import { environmentOf, historyOf, overviewOf, rolloutOf } from "./data.ts";
import { type OperationEvent, Operations } from "./operations.ts";
import { environmentHtml, layout, loginHtml, overviewHtml } from "./pages.ts";
import { PlanCache } from "./plan-cache.ts";
import { rolloutHtml } from "./rollout-page.ts";

type Ctx = Context<{ Variables: AuthVars }>;

export interface ConsoleOptions {
  readonly readOnly: boolean;
  /** Required off loopback (the command refuses to start without one). */
  readonly token?: string;
  /** Bound to a loopback address: requests must name a loopback host (DNS rebinding). @default true */
  readonly loopback?: boolean;
  /** How often the release files are checked for changes, ms. @default 1000 */
  readonly pollMs?: number;
  /** How long an action's request waits for its outcome before answering 202, ms. @default 1500 */
  readonly settleMs?: number;
}

export interface Console {
  readonly app: Hono<{ Variables: AuthVars }>;
  readonly operations: Operations;
  close(): Promise<void>;
}

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return /^(?:localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i.test(host);
}

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
};

/** A signature of the release files and histories: changes when any of them changes. */
function signature(dir: string): string {
  try {
    return readdirSync(dir)
      .sort()
      .map((f) => {
        const s = statSync(join(dir, f));
        return `${f}:${s.mtimeMs}:${s.size}`;
      })
      .join("|");
  } catch {
    return "unreadable";
  }
}

export async function createConsole(core: ReleaseCore, o: ConsoleOptions): Promise<Console> {
  const root = (await core.load()).root;
  const sessions = new Sessions();
  const operations = new Operations(core);
  const app = new Hono<{ Variables: AuthVars }>();
  const session = (c: Ctx) => c.get("session") ?? sessions.issue(c);
  const plans = new PlanCache(core);

  // Changes of the release files, heard by every event stream.
  const changed = new Set<() => void>();
  let last = signature(join(root, "environments/releases"));
  const timer = setInterval(() => {
    const now = signature(join(root, "environments/releases"));
    if (now === last) return;
    last = now;
    for (const f of changed) f();
  }, o.pollMs ?? 1000);
  timer.unref();

  app.use("*", async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
  });
  // No request body the API takes comes near 64 KiB.
  app.use(
    "*",
    bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.json({ error: "request body too large", problems: [] }, 413) }),
  );
  app.use("*", authenticate({ token: o.token, loopback: o.loopback ?? true }, sessions, ["/login"]));

  app.get("/login", (c) => (o.token ? c.html(loginHtml(false)) : c.redirect("/", 302)));
  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const given = typeof form.token === "string" ? form.token.trim() : "";
    if (!o.token || !sameSecret(given, o.token)) {
      await new Promise((r) => setTimeout(r, 500)); // slows guessing down
      return c.html(loginHtml(true), 401);
    }
    sessions.issue(c);
    return c.redirect("/", 303);
  });
  app.get("/static/console.js", (c) => c.body(CLIENT_JS, 200, { "content-type": "text/javascript; charset=utf-8" }));

  const page = async (c: Ctx, title: string, main: string | undefined) => {
    if (main === undefined) return c.html(`<h1>No such environment</h1><p><a href="/">all environments</a></p>`, 404);
    if (c.req.header("x-fragment") === "1") return c.html(main);
    const project = (await core.load()).environments[0]?.config.project ?? "envstack";
    return c.html(layout(title, main, { csrf: session(c).csrf, readOnly: o.readOnly, project }));
  };
  app.get("/", async (c) => page(c, "Environments", overviewHtml(overviewOf(await core.load(), { now: core.now() }))));
  app.get("/environments/:name", async (c) => {
    const project = await core.load();
    const e = project.environments.find((x) => x.config.name === c.req.param("name"));
    if (!e) return page(c, "", undefined);
    const overview = overviewOf(project, { now: core.now() });
    return page(
      c,
      e.config.name,
      environmentHtml(environmentOf(e), overview, historyOf(project.root, e.config.name), o.readOnly),
    );
  });
  app.get("/environments/:name/rollout", async (c) => {
    const name = c.req.param("name");
    const running = operations.runningRollout(name);
    const v = rolloutOf(
      await core.load(),
      name,
      core.now(),
      running?.lines.map((l) => l.text),
      await plans.of(name, running?.action),
    );
    return page(c, `rollout of ${name}`, v ? rolloutHtml(v, o.readOnly) : undefined);
  });

  const api = apiRoutes(core, operations, {
    readOnly: o.readOnly,
    tokenRequired: o.token !== undefined,
    session,
    ...(o.settleMs !== undefined ? { settleMs: o.settleMs } : {}),
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  api.openAPIRegistry.registerComponent("securitySchemes", "csrf", {
    type: "apiKey",
    in: "header",
    name: "X-CSRF-Token",
  });
  const document = () =>
    api.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "envctl ui API",
        version: "1",
        description:
          "Environments and their releases. Every POST needs the X-CSRF-Token of its session (GET /session) and a " +
          "same-origin Origin, or a bearer token. Actions run as envctl runs them.",
      },
      servers: [{ url: "/api" }],
    });
  api.get("/openapi.json", (c) => c.json(document()));
  api.get("/events", (c) =>
    streamSSE(c, async (stream) => {
      const queue: { event: string; data: string }[] = [];
      let wake: () => void = () => undefined;
      const push = (event: string, data: unknown) => {
        queue.push({ event, data: JSON.stringify(data) });
        wake();
      };
      const onChange = () => push("changed", {});
      const onOp = (e: OperationEvent) => push(e.type, e);
      changed.add(onChange);
      const unsubscribe = operations.subscribe(onOp);
      stream.onAbort(() => {
        changed.delete(onChange);
        unsubscribe();
        wake();
      });
      await stream.writeSSE({ event: "hello", data: JSON.stringify({ readOnly: o.readOnly }) });
      while (!stream.aborted && !stream.closed) {
        while (queue.length) await stream.writeSSE(queue.shift()!);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 15_000); // a heartbeat keeps proxies from closing the stream
        });
        if (queue.length === 0 && !stream.aborted) await stream.write(": heartbeat\n\n");
      }
    }),
  );
  app.route("/api", api);

  return {
    app,
    operations,
    close: async () => {
      clearInterval(timer);
      await operations.close();
    },
  };
}

/** Serves the console; resolves once it listens. */
export async function startConsole(
  core: ReleaseCore,
  o: ConsoleOptions & { host: string; port: number },
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const console_ = await createConsole(core, { ...o, loopback: isLoopback(o.host) });
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: console_.app.fetch, hostname: o.host, port: o.port }, (info) => {
      const host = o.host.includes(":") && !o.host.startsWith("[") ? `[${o.host}]` : o.host;
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: async () => {
          await console_.close();
          await new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
    server.once("error", reject);
  });
}
