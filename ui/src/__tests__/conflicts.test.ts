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
  it('reads a materials verification by its verdict, reason and checked items', () => {
    setLabels({
      event_types: [{ code: 'materials.verified', name: '发布资料查验' }],
      stages: [],
      outcomes: [{ code: 'passed', name: '通过' }],
      verdicts: [{ code: 'returned', name: '退回' }],
    } as unknown as Labels)
    const rows = describe({
      type: 'materials.verified',
      outcome: 'returned',
      reason: '缺附件',
      checklist: [
        { item: '附件齐全', ok: false, remark: '缺资格审查表' },
        { item: '名称一致', ok: true },
      ],
    })
    expect(rows).toEqual([
      { label: '操作', value: '发布资料查验' },
      { label: '审核结果', value: '退回' },
      { label: '退回原因', value: '缺附件' },
      { label: '查验项', value: '✗ 附件齐全（缺资格审查表）；✓ 名称一致' },
    ])
  })
})
