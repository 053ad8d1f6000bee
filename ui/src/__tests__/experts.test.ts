import { describe, expect, it } from 'vitest'
import { splitList, tomorrowAt9 } from '../views/experts/form'

describe('the expert forms read what staff type', () => {
  it('splits lists on ; ； and 、, dropping blanks', () => {
    expect(splitList('A01; A02；B01、 ;')).toEqual(['A01', 'A02', 'B01'])
    expect(splitList('  ')).toEqual([])
  })
  it('proposes 09:00 tomorrow in Beijing time, across a month end', () => {
    // The tests run with TZ=Asia/Shanghai.
    expect(tomorrowAt9(new Date(2026, 11, 31, 17, 30))).toBe('2027-01-01T09:00:00+08:00')
    expect(tomorrowAt9(new Date(2026, 1, 28, 8, 0))).toBe('2026-03-01T09:00:00+08:00')
  })
})
