// An intake event as staff read it beside another: each field a row with
// its name, codes by their names (labels), times as staff read them.
import { nameOf } from '../../stores/labels'
import { formatTime } from '../../utils/time'

export type Row = { label: string; value: string }

const FIELDS: [string, string, (v: unknown) => string][] = [
  ['type', '操作', (v) => nameOf('event_types', String(v))],
  ['stage', '阶段', (v) => nameOf('stages', String(v))],
  ['round', '轮次', (v) => String(v)],
  ['outcome', '审核结果', (v) => nameOf('outcomes', String(v))],
  ['opinion', '审核意见', (v) => String(v)],
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
    if (event[key] !== undefined && event[key] !== null) rows.push({ label, value: show(event[key]) })
  }
  for (const [key, value] of Object.entries(event)) {
    if (key === 'project' || FIELDS.some(([k]) => k === key)) continue
    rows.push({ label: key, value: typeof value === 'string' ? value : JSON.stringify(value) })
  }
  return rows
}
