import { WEEKDAYS, type NodeOf } from '../flows/schema.js';

/**
 * Whether an `hours` node is open at `now` (epoch ms): the local date, weekday and minute in the node's
 * IANA time zone (Intl, so daylight saving follows the zone), then holidays, then that day's ranges.
 * Pure: the time comes in from the injected clock, so a test moves it instead of waiting.
 */
export function isOpen(node: Pick<NodeOf<'hours'>, 'timeZone' | 'weekly' | 'holidays'>, now: number): boolean {
  const local = localTime(node.timeZone, now);
  if (node.holidays.includes(local.date)) return false;
  const day = WEEKDAYS[local.weekday];
  const ranges = day === undefined ? undefined : node.weekly[day];
  return (ranges ?? []).some((r) => local.minute >= r.from && local.minute < r.to);
}

function localTime(timeZone: string, now: number): { date: string; weekday: number; minute: number } {
  // en-US with h23 only fixes the shape of the parts we read (digits, 0-23 hours); nothing is spoken.
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? NaN);
  const [year, month, day] = [part('year'), part('month'), part('day')];
  const date = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return { date, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(), minute: part('hour') * 60 + part('minute') };
}
