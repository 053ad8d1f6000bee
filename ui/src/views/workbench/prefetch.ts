// The workbench's figures, asked for the moment a login succeeds, while the
// page is idle (a few ms): the workbench is then built once, with them,
// instead of built, asked for and built again while its answer waits for the
// busy page (start-up time, `make bench-start`). Taken once, and only while
// fresh: a page shown later asks again.
import { api, type Workbench } from '../../api'

const FRESH_MS = 3000
let early: { at: number; figures: Promise<Workbench> } | undefined

export function prefetchWorkbench(): Promise<unknown> {
  const figures = api.workbench()
  early = { at: Date.now(), figures }
  // A failure is shown by `call`; the page asks again.
  return figures.catch(() => {})
}

export function workbenchFigures(): Promise<Workbench> {
  const taken = early
  early = undefined
  if (taken && Date.now() - taken.at < FRESH_MS) return taken.figures
  return api.workbench()
}
