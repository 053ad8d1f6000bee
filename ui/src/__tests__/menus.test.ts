import { describe, expect, it } from 'vitest'
import { taskLink } from '../views/workbench/kinds'
import { formatTime } from '../utils/time'

describe('workbench tasks', () => {
  it('link to the page they are worked on, or list their projects', () => {
    expect(taskLink('failed_pushes')).toBe('/pushes')
    expect(taskLink('rejects')).toBe('/import')
    expect(taskLink('complaints_overdue')).toBe('/complaints')
    expect(taskLink('complaints_open')).toBe('/complaints')
    expect(taskLink('filing_review')).toBeNull()
    expect(taskLink('materials')).toBeNull()
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

import { emptyForm, fieldsOf, projectActions, toAction } from '../views/projects/actions'
import type { ActionOffer } from '../api'

describe('project actions', () => {
  it('are those the backend offers, less registering (done from the list)', () => {
    const offers: ActionOffer[] = [
      { type: 'project.registered', title: '登记项目', stages: [] },
      { type: 'notice.published', title: '发布公告', stages: ['tender_notice'] },
    ]
    expect(projectActions(offers).map((a) => a.type)).toEqual(['notice.published'])
    expect(fieldsOf('notice.published')).toEqual({ url: true })
    expect(fieldsOf('materials.submitted')).toEqual({})
  })

  it('become the intake event of the standard', () => {
    const f = { ...emptyForm(), stage: 'tender_notice' as const, outcome: 'rejected' as const, opinion: ' 资格条件表述不清 ' }
    expect(toAction('filing.reviewed', 'P1', f)).toEqual({
      type: 'filing.reviewed',
      project: 'P1',
      stage: 'tender_notice',
      round: undefined,
      outcome: 'rejected',
      opinion: '资格条件表述不清',
    })
    // A round only for corrections; a winner only for the award filing.
    const c = toAction('filing.submitted', 'P1', { ...emptyForm(), stage: 'correction' as const, round: 2, winner: 'B1' })
    expect(c).toMatchObject({ round: 2, winner: undefined })
  })
})
