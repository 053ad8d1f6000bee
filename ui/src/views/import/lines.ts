// Helpers of the import page that hold logic, kept apart to be tested.
import type { ImportProgress } from '../../api'

/** A refused line as a person edits it: indented when it is JSON at all. */
export function pretty(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2)
  } catch {
    return raw
  }
}

/** What is sent back: one line again (intake is JSON lines). Text that is
 *  not JSON goes as it is, so the backend names what is wrong with it. */
export function oneLine(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text))
  } catch {
    return text.trim()
  }
}

/** Whole percent of the file read, 0 before anything is known. */
export function percent(p: ImportProgress | undefined): number {
  if (!p || p.bytes_total <= 0) return 0
  return Math.min(100, Math.floor((100 * p.bytes_done) / p.bytes_total))
}
