import { describe as group, expect, it } from 'vitest'
import { describe } from '../views/conflicts/describe'
import { setLabels } from '../stores/labels'
import type { Labels } from '../api'

group('a conflicted action beside the one in its place', () => {
  it('reads as named rows, codes by their names, unknown fields as text', () => {
    setLabels({
      event_types: [{ code: 'filing.reviewed', name: '备案审核' }],
      stages: [{ code: 'tender_notice', name: '招标公告' }],
      outcomes: [{ code: 'rejected', name: '不通过' }],
    } as unknown as Labels)
    const rows = describe({
      id: 'app-1',
      type: 'filing.reviewed',
      at: '2026-03-01T01:05:07Z',
      project: 'P1',
      stage: 'tender_notice',
      outcome: 'rejected',
      opinion: '<b>材料不全</b>',
      extra: { a: 1 },
    })
    expect(rows).toEqual([
      { label: '操作', value: '备案审核' },
      { label: '阶段', value: '招标公告' },
      { label: '审核结果', value: '不通过' },
      { label: '审核意见', value: '<b>材料不全</b>' },
      { label: '办理时间', value: '2026-03-01 09:05:07' },
      { label: '事件编号', value: 'app-1' },
      { label: 'extra', value: '{"a":1}' },
    ])
    expect(describe(null)).toEqual([])
  })
})
