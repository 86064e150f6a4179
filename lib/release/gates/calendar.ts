/**
 * The release calendar's gate, pure: given an environment's windows and freezes and a moment,
 * whether a rollout, promotion or shift may run now, until when, and when the calendar opens next.
 * Time zones and daylight saving are luxon's (IANA data through Intl). Nothing here reads a clock.
 */
import { DateTime } from "luxon";
import { type Calendar, type Freeze, minutesOf, type Opening, WEEKDAYS } from "../model/calendar.ts";

/** An interval [start, end) in epoch milliseconds. */
interface Span {
  readonly start: number;
  readonly end: number;
}

/** What the calendar says of one moment. */
export type CalendarState =
  | {
      readonly open: true;
      /** When the current opening ends or a freeze starts, whichever is first; undefined: never. */
      readonly closesAt?: Date;
    }
  | {
      readonly open: false;
      /** Why: the freeze's reason, or that the moment is outside every window. */
      readonly reason: string;
      /** The next moment it opens; undefined: not within the search horizon (a freeze without end in sight). */
      readonly nextOpening?: Date;
    };

/** How far ahead the gate looks for an opening. */
const HORIZON_DAYS = 400;

/** The openings of the windows that overlap [from, until), as spans in epoch ms (DST-correct). */
function openings(cal: Calendar, from: number, until: number): Span[] {
  if (!cal.windows) return [{ start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY }];
  const zone = cal.windows.timeZone;
  const spans: Span[] = [];
  // Start one day early: an opening past midnight may have started the day before.
  let day = DateTime.fromMillis(from, { zone }).startOf("day").minus({ days: 1 });
  while (day.toMillis() < until) {
    const weekday = WEEKDAYS[day.weekday - 1]!;
    for (const o of cal.windows.open) if (o.days.includes(weekday)) spans.push(spanOn(day, o));
    day = day.plus({ days: 1 });
  }
  return merge(spans.filter((s) => s.end > from && s.start < until));
}

function spanOn(day: DateTime, o: Opening): Span {
  const [from, to] = [minutesOf(o.from), minutesOf(o.to)];
  const at = (d: DateTime, minutes: number) =>
    d.set({ hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 }).toMillis();
  return { start: at(day, from), end: to > from ? at(day, to) : at(day.plus({ days: 1 }), to) };
}

function merge(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, s.end) };
    else out.push(s);
  }
  return out;
}

const freezeSpan = (f: Freeze): Span => ({ start: Date.parse(f.from), end: Date.parse(f.to) });

/** The spans when releases may run: openings less freezes, within [from, until). */
function allowed(cal: Calendar, from: number, until: number): Span[] {
  let spans = openings(cal, from, until);
  for (const f of cal.freezes.map(freezeSpan)) {
    spans = spans.flatMap((s) =>
      f.end <= s.start || f.start >= s.end
        ? [s]
        : [
            ...(f.start > s.start ? [{ start: s.start, end: f.start }] : []),
            ...(f.end < s.end ? [{ start: f.end, end: s.end }] : []),
          ],
    );
  }
  return spans;
}

/** What the calendar says of `at`. */
export function calendarAt(cal: Calendar, at: Date): CalendarState {
  const now = at.getTime();
  const until = now + HORIZON_DAYS * 86_400_000;
  const spans = allowed(cal, now, until);
  const current = spans.find((s) => s.start <= now && now < s.end);
  if (current) return { open: true, ...(Number.isFinite(current.end) ? { closesAt: new Date(current.end) } : {}) };
  const freeze = cal.freezes.find((f) => Date.parse(f.from) <= now && now < Date.parse(f.to));
  const next = spans.find((s) => s.start > now);
  return {
    open: false,
    reason: freeze
      ? `frozen until ${freeze.to}: ${freeze.reason}`
      : `outside the release windows (${windowsText(cal)})`,
    ...(next ? { nextOpening: new Date(next.start) } : {}),
  };
}

/** Whether `seconds` of work starting at `at` ends before the calendar closes (or it never closes). */
export function fitsWindow(state: CalendarState, at: Date, seconds: number): boolean {
  return state.open && (state.closesAt === undefined || at.getTime() + seconds * 1000 <= state.closesAt.getTime());
}

/** The windows in words: `mon-fri 09:00-16:00 Europe/Dublin`. */
export function windowsText(cal: Calendar): string {
  if (!cal.windows) return "no windows: any time";
  const open = cal.windows.open.map((o) => `${o.days.join(",")} ${o.from}-${o.to}`).join("; ");
  return `${open} ${cal.windows.timeZone}`;
}

/** A moment in the calendar's zone, for messages: `2026-12-07 09:00 Europe/Dublin (08:00 UTC)`. */
export function localTime(cal: Calendar, at: Date): string {
  const zone = cal.windows?.timeZone ?? "UTC";
  const local = DateTime.fromJSDate(at, { zone }).toFormat("yyyy-MM-dd HH:mm");
  return zone === "UTC" ? `${local} UTC` : `${local} ${zone} (${at.toISOString().slice(11, 16)} UTC)`;
}

/** Whether the calendar restricts anything at all. */
export function hasCalendar(cal: Calendar): boolean {
  return cal.windows !== undefined || cal.freezes.length > 0;
}
