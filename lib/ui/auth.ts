/**
 * Who may use the console, and protection of every request that changes something.
 * - Bound to loopback: no token, but the Host header must name a loopback address (a web page
 *   cannot reach the console by DNS rebinding).
 * - With a token (required off loopback): `Authorization: Bearer <token>` (API clients), or a
 *   session cookie from /login (people).
 * - Every POST: its Origin (or Sec-Fetch-Site) must be this console's own, and a cookie session
 *   must send its CSRF token in the X-CSRF-Token header. A bearer token is never sent by a browser
 *   on its own, so it needs no CSRF token.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";

export const SESSION_COOKIE = "envctl_ui";
export const CSRF_HEADER = "x-csrf-token";
const SESSION_HOURS = 12;
const MAX_SESSIONS = 1000;

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly expires: number;
}

export interface AuthOptions {
  /** The access token; undefined: none required (loopback only). */
  readonly token?: string;
  /** Bound to a loopback address: the Host header must name one. */
  readonly loopback: boolean;
}

export type AuthVars = { session?: Session; bearer: boolean };

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const LOOPBACK_HOSTS = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

export class Sessions {
  private readonly sessions = new Map<string, Session>();

  create(): Session {
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const s: Session = {
      id: randomBytes(32).toString("base64url"),
      csrf: randomBytes(32).toString("base64url"),
      expires: Date.now() + SESSION_HOURS * 3600_000,
    };
    this.sessions.set(s.id, s);
    return s;
  }

  find(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s || s.expires < Date.now()) {
      if (s) this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  /** Sets the session cookie (HttpOnly, SameSite=Strict; Secure behind a TLS proxy). */
  issue(c: Context): Session {
    const s = this.create();
    setCookie(c, SESSION_COOKIE, s.id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: c.req.header("x-forwarded-proto") === "https",
      maxAge: SESSION_HOURS * 3600,
    });
    return s;
  }
}

/** Whether the request's Origin (or, without one, Sec-Fetch-Site) says it comes from this console's own pages. */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header("origin");
  const host = new URL(c.req.url).host;
  if (origin !== undefined) {
    try {
      return origin !== "null" && host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  const site = c.req.header("sec-fetch-site");
  return site === undefined || site === "same-origin" || site === "none";
}

const isWrite = (method: string) => !["GET", "HEAD", "OPTIONS"].includes(method);

/** The authentication and CSRF middleware. `open`: paths anyone may reach (the login page). */
export function authenticate(
  o: AuthOptions,
  sessions: Sessions,
  open: readonly string[],
): MiddlewareHandler<{ Variables: AuthVars }> {
  return async (c, next) => {
    const isApi = c.req.path.startsWith("/api/");
    const deny = (status: 401 | 403 | 421, message: string) =>
      isApi || isWrite(c.req.method) ? c.json({ error: message, problems: [] }, status) : c.redirect("/login", 302);
    if (o.loopback && !LOOPBACK_HOSTS.test(new URL(c.req.url).host))
      return c.json(
        { error: "this console answers only to a loopback host name (127.0.0.1, localhost, [::1])", problems: [] },
        421,
      );
    if (isWrite(c.req.method) && !sameOrigin(c))
      return c.json({ error: "cross-origin request refused: the Origin is not this console's", problems: [] }, 403);
    const auth = c.req.header("authorization");
    const bearer =
      o.token !== undefined && auth !== undefined && /^Bearer /.test(auth) && sameSecret(auth.slice(7).trim(), o.token);
    if (o.token !== undefined && auth !== undefined && !bearer) return deny(401, "the bearer token is wrong");
    const session = sessions.find(getCookie(c, SESSION_COOKIE));
    c.set("bearer", bearer);
    if (session) c.set("session", session);
    if (open.includes(c.req.path)) return next();
    if (o.token !== undefined && !bearer && !session)
      return deny(401, "sign in: a bearer token or a session from /login");
    if (isWrite(c.req.method) && !bearer) {
      const sent = c.req.header(CSRF_HEADER);
      if (!session || !sent || !sameSecret(sent, session.csrf))
        return c.json(
          { error: `missing or wrong ${CSRF_HEADER} header (GET /api/session gives it)`, problems: [] },
          403,
        );
    }
    return next();
  };
}
