import { describe, expect, it } from 'vitest'
import { menusFor } from '../router/menus'
import { kindName, taskLink } from '../views/workbench/kinds'
import { formatTime } from '../utils/time'

describe('menus', () => {
  it('import is for center staff and admins only', () => {
    expect(menusFor('center_staff').map((m) => m.path)).toContain('/import')
    expect(menusFor('admin').map((m) => m.path)).toContain('/import')
    expect(menusFor('supervisor_staff').map((m) => m.path)).not.toContain('/import')
    expect(menusFor('supervisor').map((m) => m.path)).not.toContain('/import')
  })
  it('every role lands on the workbench', () => {
    for (const role of ['center_staff', 'supervisor_staff', 'supervisor', 'admin'] as const) {
      expect(menusFor(role).map((m) => m.path)).toContain('/workbench')
    }
  })
})

describe('workbench tasks', () => {
  it('link to the page they are worked on, or list their projects', () => {
    expect(taskLink('failed_pushes')).toBe('/pushes')
    expect(taskLink('rejects')).toBe('/import')
    expect(taskLink('filing_review')).toBeNull()
    expect(taskLink('materials')).toBeNull()
  })
})

describe('audit kinds', () => {
  it('are named in Chinese, unknown ones shown as they are', () => {
    expect(kindName('user.login')).toBe('登录')
    expect(kindName('something.new')).toBe('something.new')
  })
})

describe('times', () => {
  // `npm test` runs in Asia/Shanghai, as the center's desktops do.
  it('read as local date and time, text that is no time stays', () => {
    expect(formatTime('2026-03-01T09:05:07.123+08:00')).toBe('2026-03-01 09:05:07')
    expect(formatTime('2026-03-01T01:05:07Z')).toBe('2026-03-01 09:05:07')
    expect(formatTime('不是时间')).toBe('不是时间')
  })
})

import { actionsFor, emptyForm, toAction } from '../views/projects/actions'

describe('project actions', () => {
  it('are offered to the role that does them', () => {
    expect(actionsFor('supervisor_staff').map((a) => a.type)).toEqual(['filing.reviewed'])
    expect(actionsFor('center_staff').map((a) => a.type)).toContain('notice.published')
    expect(actionsFor('supervisor')).toEqual([])
  })

  it('become the intake event of the standard', () => {
    const f = { ...emptyForm(), stage: 'tender_notice', outcome: 'rejected' as const, opinion: ' 资格条件表述不清 ' }
    expect(toAction('filing.reviewed', 'P1', f)).toEqual({
      type: 'filing.reviewed',
      project: 'P1',
      stage: 'tender_notice',
      round: undefined,
      outcome: 'rejected',
      opinion: '资格条件表述不清',
    })
    // A round only for corrections; a winner only for the award filing.
    const c = toAction('filing.submitted', 'P1', { ...emptyForm(), stage: 'correction', round: 2, winner: 'B1' })
    expect(c).toMatchObject({ round: 2, winner: undefined })
  })
})
