// The workbench's figures asked for at login are used once, and only while
// fresh; otherwise the page asks the backend itself. The backend's side of
// the IPC is played by Tauri's own mock (nothing of the Rust runs under jsdom).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { prefetchWorkbench, workbenchFigures } from '../views/workbench/prefetch'

afterEach(() => {
  clearMocks()
  vi.useRealTimers()
})

function backend() {
  let asked = 0
  mockIPC((cmd) => {
    if (cmd !== 'workbench') throw { code: 'unexpected', message: cmd }
    asked += 1
    return { projects: asked }
  })
  return () => asked
}

describe('the workbench figures asked for at login', () => {
  it('are taken by the page once, without a second round trip', async () => {
    const asked = backend()
    await prefetchWorkbench()
    // In hand, not a promise: the page is built once, with them.
    expect(workbenchFigures()).toMatchObject({ projects: 1 })
    expect(asked()).toBe(1)
    // Shown again later: fresh figures, asked for anew.
    expect(await workbenchFigures()).toMatchObject({ projects: 2 })
    expect(asked()).toBe(2)
  })

  it('are not shown once stale: the page asks again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const asked = backend()
    prefetchWorkbench()
    vi.setSystemTime(Date.now() + 10_000)
    expect(await workbenchFigures()).toMatchObject({ projects: 2 })
    expect(asked()).toBe(2)
  })
})
