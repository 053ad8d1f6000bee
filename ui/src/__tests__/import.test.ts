import { describe, expect, it } from 'vitest'
import { oneLine, percent, pretty } from '../views/import/lines'

describe('a refused line being corrected', () => {
  it('is shown indented when it is JSON, and sent back as one line', () => {
    const raw = '{"id":"e1","type":"project.registered","name":"<b>桥</b>"}'
    const shown = pretty(raw)
    expect(shown.split('\n').length).toBeGreaterThan(3)
    expect(oneLine(shown)).toBe(raw)
  })

  it('is left as it is when it is not JSON, for the backend to name the fault', () => {
    expect(pretty('{"id": "e2", "type":')).toBe('{"id": "e2", "type":')
    expect(oneLine('  {"id": "e2", "type":\n')).toBe('{"id": "e2", "type":')
  })
})

describe('import progress', () => {
  it('is a whole percent of the bytes read, never above 100', () => {
    expect(percent(undefined)).toBe(0)
    expect(percent({ bytes_done: 0, bytes_total: 0, lines: 0 })).toBe(0)
    expect(percent({ bytes_done: 333, bytes_total: 1000, lines: 9 })).toBe(33)
    expect(percent({ bytes_done: 1200, bytes_total: 1000, lines: 9 })).toBe(100)
  })
})
