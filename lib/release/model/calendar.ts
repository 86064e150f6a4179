/**
 * The release calendar of an environment (`release.windows`, `release.freezes` in its file): when
 * a rollout, a promotion or a traffic shift may start and run. Plain data, validated here; the
 * pure judge of a moment is lib/release/gates/calendar.ts. Without either field nothing is
 * restricted. Mitigations (rollback, abort, maintenance) never look at the calendar.
 */
import { DateTime, IANAZone } from "luxon";
import { z } from "zod";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time of day HH:MM (00:00-23:59)");

/** Minutes since midnight of `HH:MM`. */
export function minutesOf(time: string): number {
  const [h, m] = time.split(":").map(Number);
  return h! * 60 + m!;
}

/**
 * One opening: on each of `days`, from `from` to `to` (local time of the calendar's zone). A `to`
 * earlier than `from` runs past midnight into the next day (`22:00`-`02:00`); `to` equal to `from`
 * would never open and is refused.
 */
export const OpeningSchema = z
  .strictObject({
    days: z
      .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(", ")}` }))
      .min(1, "must name at least one day: a window without days never opens"),
    from: ClockTime,
    to: ClockTime,
  })
  .superRefine((o, ctx) => {
    if (o.from === o.to)
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: `must differ from from (${o.from}): the window never opens`,
      });
    const seen = new Set<string>();
    o.days.forEach((d, i) => {
      if (seen.has(d)) ctx.addIssue({ code: "custom", path: ["days", i], message: `${d} is listed more than once` });
      seen.add(d);
    });
  });
export type Opening = z.infer<typeof OpeningSchema>;

/** An IANA time zone name the runtime knows (`Europe/Dublin`, `America/New_York`, `UTC`). */
export const TimeZoneSchema = z
  .string()
  .refine((z) => IANAZone.isValidZone(z), { message: "is not a known IANA time zone (e.g. Europe/Dublin, UTC)" });

/** When rollouts may start and run: openings in one time zone. */
export const WindowsSchema = z.strictObject({
  /** The IANA time zone the openings are written in. */
  timeZone: TimeZoneSchema,
  /** The openings; outside them, rollouts, promotions and shifts are refused. */
  open: z.array(OpeningSchema).min(1, "must list at least one opening: a calendar without one never opens"),
});
export type Windows = z.infer<typeof WindowsSchema>;

/** A period in which nothing may be released, with its reason (a holiday, a launch). */
export const FreezeSchema = z
  .strictObject({
    /** Start, an ISO 8601 date-time with its offset (`2026-12-21T00:00:00+01:00`). */
    from: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time with an offset or Z" }),
    /** End (exclusive). */
    to: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time with an offset or Z" }),
    reason: z.string().trim().min(1, "must say why (it is shown to whoever is refused)").max(200),
  })
  .superRefine((f, ctx) => {
    if (DateTime.fromISO(f.to) <= DateTime.fromISO(f.from))
      ctx.addIssue({ code: "custom", path: ["to"], message: `must be after from (${f.from})` });
  });
export type Freeze = z.infer<typeof FreezeSchema>;

/** The calendar as the gate reads it. */
export interface Calendar {
  readonly windows?: Windows;
  readonly freezes: readonly Freeze[];
}
