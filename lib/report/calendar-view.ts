/** The release calendar as `envctl status` shows it: open or closed now, the next opening, what is scheduled. */
import type { LoadedEnvironment } from "../config/load.ts";
import { calendarAt, hasCalendar, localTime, windowsText } from "../release/gates/calendar.ts";
import type { ScheduledChange } from "../release/model/schedule.ts";

export interface CalendarView {
  /** The windows in words (`mon,tue 09:00-17:00 Europe/Dublin`), or that any time is fine. */
  windows: string;
  freezes: { from: string; to: string; reason: string }[];
  open: boolean;
  /** Open: when it closes; closed: why, and when it opens next. */
  closesAt: string | null;
  reason: string | null;
  nextOpening: string | null;
  scheduled: { id: string; version: string; at: string; estimatedSeconds: number }[];
}

export function calendarView(
  e: LoadedEnvironment,
  now: Date,
  scheduled: readonly ScheduledChange[],
): CalendarView | undefined {
  const r = e.config.release;
  const cal = { ...(r.windows ? { windows: r.windows } : {}), freezes: r.freezes };
  const waiting = scheduled.filter((c) => c.state === "scheduled");
  if (!hasCalendar(cal) && waiting.length === 0) return undefined;
  const s = calendarAt(cal, now);
  return {
    windows: windowsText(cal),
    freezes: cal.freezes.filter((f) => Date.parse(f.to) > now.getTime()).map((f) => ({ ...f })),
    open: s.open,
    closesAt: s.open && s.closesAt ? localTime(cal, s.closesAt) : null,
    reason: s.open ? null : s.reason,
    nextOpening: !s.open && s.nextOpening ? localTime(cal, s.nextOpening) : null,
    scheduled: waiting.map((c) => ({
      id: c.id,
      version: c.version,
      at: localTime(cal, new Date(c.at)),
      estimatedSeconds: c.estimatedSeconds,
    })),
  };
}

/** "calendar: open until …" / "calendar: closed (…), next opening …"; then each scheduled change. */
export function calendarText(v: CalendarView): string[] {
  const now = v.open
    ? `open${v.closesAt ? ` until ${v.closesAt}` : ""}`
    : `CLOSED (${v.reason})${v.nextOpening ? `, next opening ${v.nextOpening}` : ""}`;
  const freezes = v.freezes.map((f) => `freeze ${f.from} → ${f.to}: ${f.reason}`);
  return [
    `calendar: ${now}; windows ${v.windows}${freezes.length ? `; ${freezes.join("; ")}` : ""}`,
    ...v.scheduled.map(
      (c) => `scheduled ${c.id}: ${c.version} at ${c.at} (about ${Math.round(c.estimatedSeconds / 60)} min)`,
    ),
  ];
}
