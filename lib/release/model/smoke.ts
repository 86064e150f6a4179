/** The smoke checks of a release policy: HTTP requests to the idle slot before any traffic moves. */
import { z } from "zod";

/** One HTTP check of the idle slot through its header-routed test rule, before any traffic moves. */
export const SmokeCheckSchema = z.strictObject({
  /** Path requested, e.g. `/health/database`. */
  path: z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, "must be a URL path starting with /"),
  /** Status code that passes. @default 200 */
  expectStatus: z.number().int().min(100).max(599).default(200),
  /** A regular expression the response body must match. @default none */
  bodyMatch: z
    .string()
    .min(1)
    .max(200)
    .refine(
      (s) => {
        try {
          new RegExp(s);
          return true;
        } catch {
          return false;
        }
      },
      { message: "must be a valid regular expression" },
    )
    .optional(),
  /** Seconds before one attempt gives up. @default 5 */
  timeoutSeconds: z.number().int().min(1).max(60).default(5),
  /** Further attempts after a failed one (2 s apart). @default 2 */
  retries: z.number().int().min(0).max(10).default(2),
});
export type SmokeCheck = z.infer<typeof SmokeCheckSchema>;

/** The seeds' health endpoints. */
export const DEFAULT_SMOKE_CHECKS = ["/health", "/health/database", "/health/redis"].map((path) =>
  SmokeCheckSchema.parse({ path }),
);

export const SmokeSchema = z.strictObject({
  /**
   * Where the checks are sent; the `X-Release-Slot: <slot>` header selects the idle slot's test route.
   * @default `https://<domain>` (`http://` without a certificate)
   */
  baseUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  /** @default `/health`, `/health/database`, `/health/redis`, each expecting 200 */
  checks: z.array(SmokeCheckSchema).max(20).default(DEFAULT_SMOKE_CHECKS),
});
export type Smoke = z.infer<typeof SmokeSchema>;
