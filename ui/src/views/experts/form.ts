// How the expert forms read what staff type.

/** Items separated by `;`, `；` or `、`, blanks dropped (as a roster writes them). */
export function splitList(text: string): string[] {
  return text
    .split(/[;；、]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/** 09:00 the day after `now`, in local time with its offset (RFC 3339): a draw's usual evaluation start. */
export function tomorrowAt9(now: Date): string {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 9, 0, 0)
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0')
  const offset = -d.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T09:00:00${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
}
