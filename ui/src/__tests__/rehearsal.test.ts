// The login page builds the frame and the workbench once, hidden, with
// made-up figures (views/login/Rehearsal.vue). It must stay a rehearsal:
// never asking the backend, never in reach of the person, and gone after
// it has been drawn.
import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import Rehearsal from '../views/login/Rehearsal.vue'

afterEach(() => clearMocks())

const frame = () => new Promise((resolve) => requestAnimationFrame(resolve))

describe('the rehearsal behind the login form', () => {
  it('builds the frame and the workbench without the backend, hidden, and ends after two frames', async () => {
    const asked: string[] = []
    mockIPC((cmd) => {
      asked.push(cmd)
    })
    const r = mount(Rehearsal)
    // The whole workbench, lists included, so all of its code has run once.
    expect(r.find('[data-counter=projects]').text()).toContain('12')
    expect(r.find('[data-test=tasks]').text()).toContain('示例工程')
    expect(r.find('[data-test=recent]').exists()).toBe(true)
    expect(r.findAll('[data-menu]').length).toBeGreaterThan(5)
    const root = r.get('.rehearsal')
    expect(root.attributes('aria-hidden')).toBe('true')
    expect(root.attributes()).toHaveProperty('inert')
    expect(r.emitted('done')).toBeUndefined()
    await frame()
    await frame()
    await frame()
    expect(r.emitted('done')).toHaveLength(1)
    expect(asked).toEqual([])
  })
})
