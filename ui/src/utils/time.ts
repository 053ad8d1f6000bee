/** Beijing time's offset from UTC: the center's clocks and days are Beijing's. */
const BEIJING_MS = 8 * 3600 * 1000

/** An RFC 3339 time as staff read it, in Beijing time whatever the computer's zone: `YYYY-MM-DD HH:mm:ss`; other text unchanged. */
export function formatTime(at: string): string {
  const t = new Date(at).getTime()
  if (Number.isNaN(t)) return at
  const d = new Date(t + BEIJING_MS)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
}
