import { describe, expect, it } from 'vitest'
import { duration, verdictBlocker, type CheckRow } from '../views/materials/checks'

const row = (ok: boolean | null, remark = ''): CheckRow => ({ item: `项${Math.random()}`, ok, remark })

describe('the 查验 page says why a verdict cannot be given yet', () => {
  it('passes only when every item is checked and fine', () => {
    expect(verdictBlocker([row(true), row(null)], '').pass).toBe('还有 1 项未查验')
    expect(verdictBlocker([row(true), row(false, '缺页')], '').pass).toBe('有 1 项不合格，只能退回')
    expect(verdictBlocker([row(null), row(false)], '').pass).toBe('有 1 项不合格，只能退回')
    expect(verdictBlocker([row(true), row(true)], '').pass).toBeNull()
    expect(verdictBlocker([], '').pass).toBeNull()
  })
  it('returns only with a reason and every failed item explained', () => {
    expect(verdictBlocker([row(false)], '原因').returned).toBe('有 1 项不合格未写明问题')
    expect(verdictBlocker([row(false, '缺页')], '  ').returned).toBe('退回须填写退回原因')
    expect(verdictBlocker([row(false, '缺页'), row(null)], '原因').returned).toBeNull()
  })
})

describe('a time to verdict reads as staff say it', () => {
  it('in minutes, hours and days', () => {
    expect(duration(45)).toBe('45分钟')
    expect(duration(185)).toBe('3小时5分钟')
    expect(duration(120)).toBe('2小时')
    expect(duration(60 * 52)).toBe('2天4小时')
    expect(duration(60 * 48)).toBe('2天')
  })
})
