/*
 * The one RFC 5322 date-time formatter (`Tue, 05 Mar 2024 09:04:00 +0000`), for every date a
 * message carries: the DSN's Date:, Arrival-Date: and retry dates in UTC, the Received:
 * header in the machine's local time with its offset (`+0900` in Japan), as mail servers
 * write it. Pure; an invalid Date prints as NaN fields (callers pass real dates).
 */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function rfc5322Date(d: Date, zone: 'utc' | 'local' = 'utc'): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const local = zone === 'local';
  const off = local ? -d.getTimezoneOffset() : 0;
  const abs = Math.abs(off);
  const day = local ? d.getDay() : d.getUTCDay();
  const date = local ? d.getDate() : d.getUTCDate();
  const month = local ? d.getMonth() : d.getUTCMonth();
  const year = local ? d.getFullYear() : d.getUTCFullYear();
  const time = local ? [d.getHours(), d.getMinutes(), d.getSeconds()] : [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  return `${DAYS[day]}, ${p(date)} ${MONTHS[month]} ${year} ${time.map(p).join(':')} ${off >= 0 ? '+' : '-'}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
}
