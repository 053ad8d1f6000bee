// An intake event as staff read it beside another: each field a row with
// its name, codes by their names (labels), times as staff read them.
import { nameOf } from '../../stores/labels'
import { formatTime } from '../../utils/time'

export type Row = { label: string; value: string }

type Show = (v: unknown, event: Record<string, unknown>) => string

/** A checked item as one line: ✓ or ✗, the item, the remark. */
function checklist(v: unknown): string {
  if (!Array.isArray(v)) return JSON.stringify(v)
  return v.map((c) => `${c.ok ? '✓' : '✗'} ${c.item}${c.remark ? `（${c.remark}）` : ''}`).join('；')
}

const FIELDS: [string, string, Show][] = [
  ['type', '操作', (v) => nameOf('event_types', String(v))],
  ['stage', '阶段', (v) => nameOf('stages', String(v))],
  ['round', '轮次', (v) => String(v)],
  // A materials verification's outcome is a verdict (通过/退回), a review's an outcome.
  ['outcome', '审核结果', (v, e) => nameOf(e.type === 'materials.verified' ? 'verdicts' : 'outcomes', String(v))],
  ['opinion', '审核意见', (v) => String(v)],
  ['reason', '退回原因', (v) => String(v)],
  ['checklist', '查验项', checklist],
  ['url', '公告网址', (v) => String(v)],
  ['winner', '中标人', (v) => String(v)],
  ['at', '办理时间', (v) => formatTime(String(v))],
  ['id', '事件编号', (v) => String(v)],
]

/** The rows of `event`: the known fields in order, then any other as JSON text. */
export function describe(event: Record<string, unknown> | null | undefined): Row[] {
  if (!event) return []
  const rows: Row[] = []
  for (const [key, label, show] of FIELDS) {
    if (event[key] !== undefined && event[key] !== null) rows.push({ label, value: show(event[key], event) })
  }
  for (const [key, value] of Object.entries(event)) {
    if (key === 'project' || FIELDS.some(([k]) => k === key)) continue
    rows.push({ label: key, value: typeof value === 'string' ? value : JSON.stringify(value) })
  }
  return rows
}
