import { z } from "zod";
import type { SettingValue } from "../../core/primitives.ts";
import { appProblems, SecretEntrySchema, SettingsInputSchema } from "../settings.ts";

/**
 * The application's own configuration, checked against the catalogue in lib/config/settings.ts:
 * `settings` are plain values (they travel with each slot, see the release file), `secrets` are
 * names only (values in Secrets Manager, set with `envctl secret set`).
 */
export const AppSchema = z
  .strictObject({
    /** Plain settings by name (UPPER_SNAKE_CASE, typed by the catalogue). @default {} */
    settings: SettingsInputSchema.default({}),
    /** Secret names (or `{ name, rotation }`); never values. @default [] */
    secrets: z.array(SecretEntrySchema).default([]),
  })
  .superRefine((app, ctx) => {
    for (const p of appProblems(app.settings, app.secrets))
      ctx.addIssue({ code: "custom", path: p.path, message: p.message });
  })
  .transform((app) => ({ ...app, settings: app.settings as Record<string, SettingValue> }));
