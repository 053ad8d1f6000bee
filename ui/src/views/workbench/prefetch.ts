// The workbench's figures, asked for the moment a login succeeds, while the
// page is idle (a few ms): the workbench is then built once, with them in
// hand, instead of built empty and again when they come (start-up time,
// `make bench-start`). Taken once, and only while fresh: a page shown later
// asks again.
import { api, type Workbench } from '../../api'

const FRESH_MS = 3000
let early: { at: number; figures: Promise<Workbench>; value?: Workbench } | undefined

export function prefetchWorkbench(): Promise<unknown> {
  const taken: NonNullable<typeof early> = { at: Date.now(), figures: api.workbench() }
  // Registered first, so whoever awaits the returned promise finds the value set.
  taken.figures.then((v) => (taken.value = v)).catch(() => {})
  early = taken
  // A failure is shown by `call`; the page asks again.
  return taken.figures.catch(() => {})
}

/** The figures themselves when they are already here, else their promise. */
export function workbenchFigures(): Workbench | Promise<Workbench> {
  const taken = early
  early = undefined
  if (taken && Date.now() - taken.at < FRESH_MS) return taken.value ?? taken.figures
  return api.workbench()
}
