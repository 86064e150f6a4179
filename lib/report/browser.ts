/**
 * The headless Chromium that renders the report in tests: the system's (Debian's `chromium`),
 * driven by playwright-core. `lib/report/setup-chromium.sh` installs it when missing.
 */
import { accessSync, constants } from "node:fs";

/** Where Chromium is looked for, in order (after $CHROMIUM_PATH). */
export const CHROMIUM_CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

/** Flags for a quiet, offline, throw-away headless run (a fresh --user-data-dir is added by the caller). */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [...(env.CHROMIUM_PATH ? [env.CHROMIUM_PATH] : []), ...CHROMIUM_CANDIDATES];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new Error(
    `no Chromium found (looked at ${candidates.join(", ")}): run 'bash lib/report/setup-chromium.sh' ` +
      `(installs Debian's chromium as root), or set CHROMIUM_PATH`,
  );
}
